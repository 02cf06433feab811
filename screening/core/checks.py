"""System checks that make production configuration mistakes fail loudly."""

from typing import Any

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured


@register()
def secret_key_required(app_configs: Any, **kwargs: Any) -> list[Error]:
    try:
        configured = bool(settings.SECRET_KEY)
    except ImproperlyConfigured:  # Django refuses to hand out an empty key: that is our answer
        configured = False
    if configured:
        return []
    return [
        Error(
            "SECRET_KEY is not set.",
            hint="Set the SECRET_KEY environment variable (required when DEBUG is off).",
            id="screening.E001",
        )
    ]
