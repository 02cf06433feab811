"""Personal API tokens. Only the SHA-256 of a token is stored; the token itself is shown once.

A token works until it expires (`API_TOKEN_LIFETIME_DAYS` after creation by default, at most
`API_TOKEN_MAX_LIFETIME_DAYS`) or is revoked: by its owner, or by the system when the owner's
password changes or the account is deactivated (`screening.api.signals`)."""

import hashlib
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


def token_hash(token: str) -> str:
    """The stored form of a token (hex SHA-256): tokens are long random strings, so a fast hash
    is enough and lets a request find its token by an indexed lookup."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ApiToken(models.Model):
    """A bearer token that acts as its user, with that user's roles, until it expires or is
    revoked."""

    PREFIX_LENGTH = 8

    class Revoked(models.TextChoices):
        BY_OWNER = "owner", "by its owner"
        PASSWORD_CHANGED = "password_changed", "when the password changed"
        DEACTIVATED = "deactivated", "when the account was deactivated"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens"
    )
    name = models.CharField(max_length=80, help_text="What the token is for, e.g. the EHR bridge.")
    prefix = models.CharField(
        max_length=PREFIX_LENGTH, help_text="The token's first characters, to tell tokens apart."
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(help_text="The token stops working at this time.")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=16, choices=Revoked.choices, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()
