"""Errors the services raise for a person to read. Views turn them into messages, the API into
409/422 answers; none of them is a server error."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.core.exceptions import PermissionDenied

__all__ = ["ConflictError", "IntakeInvalid", "LockedError", "PermissionDenied", "ServiceError"]


class ServiceError(Exception):
    """A change was refused; `str(error)` says why in a sentence."""


class ConflictError(ServiceError):
    """Somebody else changed the object first: reload and try again."""


class LockedError(ServiceError):
    """The object is signed (or belongs to something signed) and cannot change."""


class IntakeInvalid(ServiceError):
    """The intake cannot be evaluated; `errors` maps form fields to messages."""

    def __init__(self, errors: Mapping[str, Sequence[str]]) -> None:
        self.errors = {field: list(messages) for field, messages in errors.items()}
        super().__init__(
            "; ".join(f"{field}: {' '.join(messages)}" for field, messages in self.errors.items())
        )
