from django.apps import AppConfig


class CoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "screening.core"
    label = "core"
    verbose_name = "Platform"

    def ready(self) -> None:
        from screening.core import (  # noqa: F401  (registers checks, auth and account signals)
            accounts,
            checks,
            signals,
        )
