"""Errors the services raise for a person to read, each with a machine code as well as a
sentence (like Django's `ValidationError(message, code=...)`).

Pages turn them into messages beside the form; the API answers `{"code", "detail", "errors"}`
(`errors` listing input problems by field, empty otherwise) with the status the code implies.
None of them is a server error.

| code       | meaning                                                       | API status |
|------------|---------------------------------------------------------------|------------|
| `refused`  | the object's state does not allow this (open flags, info flag) | 409        |
| `conflict` | somebody else changed the object first: reload and try again  | 409        |
| `locked`   | the object is signed (or belongs to something signed)         | 409        |
| `invalid`  | the input is wrong; `errors` maps each field to its messages  | 422        |
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from django.core.exceptions import PermissionDenied

__all__ = [
    "ConflictError",
    "InputInvalid",
    "LockedError",
    "PermissionDenied",
    "ServiceError",
]


class ServiceError(Exception):
    """A change was refused; `str(error)` says why in a sentence, `code` says it for machines."""

    code: ClassVar[str] = "refused"


class ConflictError(ServiceError):
    """Somebody else changed the object first: reload and try again."""

    code = "conflict"


class LockedError(ServiceError):
    """The object is signed (or belongs to something signed) and cannot change."""

    code = "locked"


class InputInvalid(ServiceError):
    """What was sent cannot be used; `errors` maps each field to its messages.

    Raised by services for input they check themselves (a blank reason, an intake the engine
    cannot evaluate) and by the API for request parameters (a cursor, a version header).
    """

    code = "invalid"

    def __init__(self, errors: Mapping[str, Sequence[str]]) -> None:
        self.errors = {field: list(messages) for field, messages in errors.items()}
        super().__init__(
            "; ".join(f"{field}: {' '.join(messages)}" for field, messages in self.errors.items())
        )

    @classmethod
    def one(cls, field: str, message: str) -> InputInvalid:
        return cls({field: [message]})

    def as_list(self) -> list[dict[str, str]]:
        """The data dictionary's problem list: `[{"field", "message"}, ...]`."""
        return [
            {"field": field, "message": message}
            for field, messages in self.errors.items()
            for message in messages
        ]
