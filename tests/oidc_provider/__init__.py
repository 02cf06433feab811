"""A real OpenID Connect identity provider for the test suite: a small Django project of its own
(django-oauth-toolkit with OIDC, RS256, PKCE required), run as a subprocess on 127.0.0.1 by the
session fixture in `server.py`. Its people, passwords and `roles` claims are read from a JSON file
the tests write (`OidcProvider.person`), so a test can change a claim between two sign-ins."""
