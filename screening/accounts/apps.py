from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "screening.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from screening.accounts import (  # noqa: F401  (connect receivers, register checks)
            checks,
            receivers,
        )
