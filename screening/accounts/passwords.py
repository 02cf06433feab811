"""A password validator that refuses passwords known from breaches, checked against a local
list (these machines have no internet, and a password never leaves the server).

`BREACHED_PASSWORDS_FILE` names a text file with one entry a line: either the SHA-1 of a
password in upper-case hex, optionally followed by `:count` (the format of the "Pwned
Passwords" downloads, any subset of it), or a password in plain text. Lines are read as the
file is scanned, so a large list costs time at each password change, not memory.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError

HEX = frozenset("0123456789ABCDEF")


def _is_sha1(entry: str) -> bool:
    return len(entry) == 40 and set(entry) <= HEX


class BreachedPasswordValidator:
    def __init__(self, path: str | None = None) -> None:
        self.path = path

    def _file(self) -> Path | None:
        name = self.path or getattr(settings, "BREACHED_PASSWORDS_FILE", "")
        return Path(name) if name else None

    def validate(self, password: str, user: object = None) -> None:
        path = self._file()
        if path is None or not path.is_file():
            return
        digest = hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()
        with path.open(encoding="utf-8", errors="replace") as lines:
            for raw in lines:
                line = raw.rstrip("\r\n")
                head = line.split(":", 1)[0].strip()
                if (_is_sha1(head) and head == digest) or line == password:
                    raise ValidationError(
                        "This password appears in a list of passwords exposed in data breaches:"
                        " choose another.",
                        code="password_breached",
                    )

    def get_help_text(self) -> str:
        return "Your password can’t be one known from data breaches."
