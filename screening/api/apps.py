from django.apps import AppConfig


class ApiConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "screening.api"
    label = "api"
    verbose_name = "API"

    def ready(self) -> None:
        from screening.api import signals  # noqa: F401  (revokes tokens on account changes)
