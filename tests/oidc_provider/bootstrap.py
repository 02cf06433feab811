"""`python -m tests.oidc_provider.bootstrap CLIENT_ID CLIENT_SECRET`: migrate the test identity
provider's database and register the app under test as a confidential client."""

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.oidc_provider.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from oauth2_provider.models import Application  # noqa: E402

client_id, client_secret = sys.argv[1:3]
call_command("migrate", verbosity=0, interactive=False)
Application.objects.update_or_create(
    client_id=client_id,
    defaults={
        "name": "Ketamine screening (test)",
        "client_secret": client_secret,
        "client_type": Application.CLIENT_CONFIDENTIAL,
        "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
        "algorithm": Application.RS256_ALGORITHM,
        "redirect_uris": "http://testserver/oidc/sso/login/callback/",
        "skip_authorization": True,
    },
)
