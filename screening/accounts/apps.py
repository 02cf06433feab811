from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "screening.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from screening.accounts import receivers  # noqa: F401  (connects the signal receivers)
