"""The platform under every app: the tamper-evident audit trail, errors with codes, permission
helpers, request types, keyset pagination, log redaction, login lock-out keys, system checks
and the template context shared by every page.

It imports Django and nothing of the apps (an import-linter contract in `pyproject.toml` keeps
it so): the screening domain, `patients` and `rules` build on it, never the other way round.
"""
