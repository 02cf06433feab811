"""System checks that make production configuration mistakes fail loudly."""

from typing import Any

from django.conf import settings
from django.core.checks import Error, register


@register()
def secret_key_required(app_configs: Any, **kwargs: Any) -> list[Error]:
    if settings.SECRET_KEY:
        return []
    return [
        Error(
            "SECRET_KEY is not set.",
            hint="Set the SECRET_KEY environment variable (required when DEBUG is off).",
            id="screening.E001",
        )
    ]
