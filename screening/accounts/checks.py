"""System checks for the single sign-on settings: a role map naming roles the app does not have
would silently open nothing."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register

from screening.accounts.sso import unknown_mapped_roles


@register()
def check_sso_role_map(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    unknown = unknown_mapped_roles(getattr(settings, "OIDC_ROLE_MAP", {}))
    if not unknown:
        return []
    return [
        Error(
            f"OIDC_ROLE_MAP names roles the app does not have: {', '.join(sorted(unknown))}.",
            hint="Roles are clinician, reviewer, rule_admin and user_admin.",
            id="accounts.E001",
        )
    ]
