"""Personal API tokens. Only the SHA-256 of a token is stored; the token itself is shown once."""

import hashlib
import uuid

from django.conf import settings
from django.db import models


def token_hash(token: str) -> str:
    """The stored form of a token (hex SHA-256): tokens are long random strings, so a fast hash
    is enough and lets a request find its token by an indexed lookup."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ApiToken(models.Model):
    """A bearer token that acts as its user, with that user's roles, until revoked."""

    PREFIX_LENGTH = 8

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
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
