"""Logs that carry no patient data.

Views log nothing about what a form holds and URLs carry UUIDs only, but an exception's message
is data: PostgreSQL's `DETAIL:  Key (mrn)=(MRN0042) already exists.`, a pydantic error quoting
the value it refused, a template lookup printing the object it searched. Django logs every
unhandled exception with its traceback (`django.request`), and its 400s with the exception's text
as the message (`django.security`), so those messages would reach the hospital's log store.

`RedactExceptionMessages` (a filter on every handler in `settings.LOGGING`) rewrites each record
before it is formatted: the traceback keeps every frame (file, line, function), each exception's
type and how the chain was raised, so an engineer still finds the failing line; each exception's
message, and any copy of it in the log message, becomes `[message redacted]`.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping
from types import TracebackType

REDACTED = "[message redacted]"

_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and the exceptions it was raised from or while handling, outermost last."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        if current.__cause__ is not None:
            current = current.__cause__
        elif current.__suppress_context__:
            current = None
        else:
            current = current.__context__
    return chain[::-1]


def _type_name(exc: BaseException) -> str:
    kind = type(exc)
    if kind.__module__ in ("builtins", "__main__"):
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"


def redacted_traceback(exc: BaseException, tb: TracebackType | None = None) -> str:
    """The traceback as Python prints it, with every exception message replaced."""
    parts: list[str] = []
    chain = _chain(exc)
    for position, current in enumerate(chain):
        if position:
            parts.append(_CAUSE if chain[position].__cause__ is chain[position - 1] else _CONTEXT)
        frames = current.__traceback__ if current is not exc or tb is None else tb
        if frames is not None:
            parts.append("Traceback (most recent call last):\n")
            parts.extend(traceback.format_list(traceback.extract_tb(frames)))
        parts.append(f"{_type_name(current)}: {REDACTED}\n")
    return "".join(parts).rstrip("\n")


class RedactExceptionMessages(logging.Filter):
    """Replace exception messages in a record (its traceback, and its message where that is
    the exception or its text, as Django logs 400s) before any formatter sees it. Changes the
    record in place, so every later handler gets the redacted text too (`Formatter.format`
    reuses `record.exc_text`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None:
            return True
        chain = _chain(exc)
        texts = {_safe_str(current) for current in chain} - {""}
        # log_response escapes string arguments (unicode_escape) before logging them.
        texts |= {text.encode("unicode_escape").decode("ascii") for text in texts}

        def hidden(value: object) -> object:
            if any(value is current for current in chain) or value in texts:
                return REDACTED
            return value

        if isinstance(record.msg, str) and record.msg in texts:
            record.msg = REDACTED
        if isinstance(record.args, tuple):
            record.args = tuple(hidden(arg) for arg in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {key: hidden(arg) for key, arg in record.args.items()}
        record.exc_text = redacted_traceback(exc, record.exc_info[2] if record.exc_info else None)
        return True


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # an exception whose __str__ fails has no text to hide
        return ""
