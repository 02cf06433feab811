"""Word-level differences between two texts (rule text and logic), for the compare page.

Texts are split into words, runs of spaces and runs of punctuation, and `difflib` matches the
tokens. A change reads as the removed words then the added words: spaces alone between two
changes are folded into them, so "~~a b~~ ++c d++" is not cut into alternating pieces. Joining
the pieces of one side gives that side's text back exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

TOKEN = re.compile(r"\w+|\s+|[^\w\s]+")

Kind = Literal["same", "removed", "added"]


@dataclass(frozen=True, slots=True)
class Piece:
    kind: Kind
    text: str


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


def word_diff(old: str, new: str) -> tuple[Piece, ...]:
    """The pieces that turn `old` into `new`: same, removed and added text, in reading order."""
    a, b = tokens(old), tokens(new)
    opcodes = SequenceMatcher(str.isspace, a, b, autojunk=False).get_opcodes()
    pieces: list[Piece] = []
    removed: list[str] = []
    added: list[str] = []

    def flush() -> None:
        if removed:
            pieces.append(Piece("removed", "".join(removed)))
        if added:
            pieces.append(Piece("added", "".join(added)))
        removed.clear()
        added.clear()

    for position, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            text = "".join(a[i1:i2])
            between_changes = 0 < position < len(opcodes) - 1 and (removed or added)
            if between_changes and not text.strip():
                removed.append(text)
                added.append(text)
                continue
            flush()
            pieces.append(Piece("same", text))
        else:
            removed.extend(a[i1:i2])
            added.extend(b[j1:j2])
    flush()
    return tuple(pieces)


def side(pieces: tuple[Piece, ...], kind: Kind) -> tuple[Piece, ...]:
    """One side of a diff: the unchanged pieces with the `removed` (old) or `added` (new) ones."""
    return tuple(piece for piece in pieces if piece.kind in ("same", kind))
