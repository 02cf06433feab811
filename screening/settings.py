"""Settings for the ketamine screening service, driven by environment variables.

Every variable is listed in `.env.example`. A `.env` file in the project root is read first
(real environment variables win). SQLite is only the zero-setup default for trying the app;
tests and production run on PostgreSQL via `DATABASE_URL`.
"""

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _read_dotenv(path: Path) -> None:
    """Load KEY=VALUE lines from `path` into os.environ without overriding real variables."""
    if not path.is_file():
        return
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        os.environ.setdefault(key.strip(), value.strip().strip("'\""))


_read_dotenv(BASE_DIR / ".env")


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_mapping(name: str) -> dict[str, list[str]]:
    """`"a=x,a=y,b=z"` → {"a": ["x", "y"], "b": ["z"]}: a key may be named more than once."""
    mapping: dict[str, list[str]] = {}
    for item in env_list(name):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ImproperlyConfigured(f"{name} entries are key=value, got {item!r}")
        mapping.setdefault(key.strip(), []).append(value.strip())
    return mapping


def sso_origin(url: str) -> str:
    """The scheme, host and port of `url` (where the identity provider's pages are)."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def _development_secret_key() -> str:
    """A per-checkout key kept out of git, so development sessions survive restarts."""
    key_file = BASE_DIR / ".dev-secret-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


DEBUG = env_bool("DEBUG", default=False)

# Required in production: the `screening.E001` system check stops the server without it.
SECRET_KEY = env_str("SECRET_KEY") or (_development_secret_key() if DEBUG else "")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
CSRF_FAILURE_VIEW = "screening.core.views.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "csp",
    "axes",
    # Sign-in, second factors and sessions (django-allauth): `screening.accounts`.
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    # Single sign-on through an OpenID Connect identity provider (off unless OIDC_ISSUER is set).
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "screening.core",
    "screening.accounts",
    "screening",
    "screening.api",
    "screening.ehr",
    "patients",
    "rules",
]

MIDDLEWARE = [
    # Outermost: on the API's paths every error answer is JSON, whoever produced it.
    "screening.core.limits.JsonErrorsMiddleware",
    # Next: a lost database connection is answered 503 "try again", never 500 (core/outage.py).
    "screening.core.outage.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the body: one larger than REQUEST_MAX_BODY_BYTES is refused (413).
    "screening.core.limits.RequestBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # With a read replica: a reader's own writes are read back from the primary.
    "screening.core.replica.ReadYourWritesMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Who changes an account's roles, flags or password, for the audit trail.
    "screening.core.accounts.ActingUserMiddleware",
    # Before the login redirect: a form sent after the session ended is kept for the sign-in.
    "screening.core.held.HoldPostAcrossSignInMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Records each signed-in session's device, address and last activity ("your sessions").
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    # Sessions end at their absolute lifetime; roles that need a second factor enrol first.
    "screening.accounts.middleware.SessionLifetimeMiddleware",
    "screening.accounts.middleware.SecondFactorEnrolmentMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a lock-out raised during sign-in into its answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "screening.urls"

# The largest request body anyone may send (forms and API alike): a full intake is a few KB.
# Larger ones get 413 (JSON on the API's paths) before anything reads them.
REQUEST_MAX_BODY_BYTES = env_int("REQUEST_MAX_BODY_BYTES", 256 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_MAX_BODY_BYTES
JSON_PATH_PREFIXES = ("/api/",)

# Where a rule admin's impact preview finds past screenings (`rules.impact.PastScreenings`):
# the rules app names no other app, so the project tells it.
RULES_PAST_SCREENINGS = "screening.impact.StoredScreenings"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "screening.core.context_processors.roles",
                "screening.core.context_processors.session",
            ],
        },
    },
]

WSGI_APPLICATION = "screening.wsgi.application"

# Connections close at the end of each request unless CONN_MAX_AGE says how many seconds to keep
# them. `runserver` (what `make run` starts) serves each request in a new thread, and a thread's
# kept connection outlives the thread: with persistent connections it ran PostgreSQL out of
# connection slots. Under gunicorn's sync workers (one thread each), set CONN_MAX_AGE=600 to
# reuse each worker's connection; health checks drop a connection the server closed.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("CONN_MAX_AGE", 0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters travel apart from the SQL, so psycopg prepares a statement on the server once
    # a connection has run it a few times (psycopg's `prepare_threshold`): the pages' repeated
    # statements (session, user, roles, the intake, the published rule set) skip PostgreSQL's
    # parse and plan, and the app skips quoting values into SQL text. bench/http.py: a run
    # costs about 10% less server CPU, a result page about 25% less. Behind a pooler in
    # transaction mode, set DB_SERVER_SIDE_BINDING=false unless it keeps prepared statements
    # (PgBouncer ≥ 1.21 with max_prepared_statements).
    server_side_binding = env_bool("DB_SERVER_SIDE_BINDING", default=True)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=server_side_binding,
        # psycopg's own default; Django passes None (never prepare) unless told.
        prepare_threshold=5 if server_side_binding else None,
    )

# A streaming replica for reviewers' reads (`screening.core.replica`): the reviewer's list, its
# CSV export, rule analytics and the impact previews' scan of past screenings read from it when
# it has caught up with the reader's own writes and lags at most DATABASE_REPLICA_MAX_LAG
# seconds; everything else, and every write, uses the primary (docs/deployment.md).
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
DATABASE_REPLICA_MAX_LAG = env_int("DATABASE_REPLICA_MAX_LAG", 30)
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {
        **dj_database_url.parse(
            DATABASE_REPLICA_URL,
            conn_max_age=env_int("CONN_MAX_AGE", 0),
            conn_health_checks=True,
        ),
        "OPTIONS": dict(DATABASES["default"].get("OPTIONS", {})),
        # Test runs read the test database through the primary's connection.
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["screening.core.replica.ReplicaRouter"]

# Migrations run as the tables' owner; the app can run as a role that may only append to the
# audit tables and cannot alter tables or disable triggers (`manage.py database_runtime_role`).
# When set, `manage.py migrate` connects with this URL instead of DATABASE_URL (same database)
# and then re-applies the runtime role's grants.
MIGRATE_DATABASE_URL = env_str("MIGRATE_DATABASE_URL")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Passwords known from breaches, from a local list (`screening.accounts.passwords`).
    {"NAME": "screening.accounts.passwords.BreachedPasswordValidator"},
]
# A file of breached passwords (SHA-1 hex lines, "Pwned Passwords" format, or plain text); unset,
# only Django's list of 20,000 common passwords applies. There is no upper length limit below
# Django's own (4096): 64-character passphrases are welcome, and nobody is made to change a
# password on a schedule.
BREACHED_PASSWORDS_FILE = env_str("BREACHED_PASSWORDS_FILE")
# A password-reset link works once and for this long.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT_MINUTES", 60) * 60

# django-axes first: it refuses locked-out sign-ins before a password is checked. Before it, the
# switch that refuses every password while LOCAL_PASSWORDS is false (below).
AUTHENTICATION_BACKENDS = [
    "screening.accounts.backends.LocalPasswordsSwitch",
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # allauth's own (it signs in the account a finished sign-in flow names).
    "allauth.account.auth_backends.AuthenticationBackend",
]

# Sign-in throttling: 5 failed attempts for one username from one address lock that pair for
# 15 minutes (other users, and the same user elsewhere, are unaffected). A successful sign-in
# clears the count. Failed attempts are also audit events (`screening.core.signals`).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# What was typed as a username is never stored nor logged: axes counts attempts under a keyed
# hash of it (`screening.core.lockout`), and masks these parameters in its log lines and in the
# request data it stores with each attempt.
AXES_USERNAME_CALLABLE = "screening.core.lockout.axes_username"
# Password spraying (one password against many accounts) is slowed by a second limit: this
# many failures from one address, whatever the usernames, lock that address for the cool-off
# time. High enough for a clinic whose staff share one address behind NAT.
AXES_HANDLER = "screening.core.lockout.SignInLockoutHandler"
SIGN_IN_ADDRESS_FAILURE_LIMIT = env_int("SIGN_IN_ADDRESS_FAILURE_LIMIT", 30)
# Behind a reverse proxy, the addresses (or networks) of the proxies whose X-Forwarded-For is
# believed: lock-out and the audit trail then see the real client (`screening.core.clientip`).
# Unset, the connection's own address counts and X-Forwarded-For is ignored.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "")
AXES_CLIENT_IP_CALLABLE = "screening.core.clientip.client_ip"

# Personal API tokens expire: this many days after creation unless the creator picks fewer or
# more (up to the maximum). A password change or deactivation revokes them all.
API_TOKEN_LIFETIME_DAYS = env_int("API_TOKEN_LIFETIME_DAYS", 90)
API_TOKEN_MAX_LIFETIME_DAYS = env_int("API_TOKEN_MAX_LIFETIME_DAYS", 365)
AXES_SENSITIVE_PARAMETERS = ["username", "password", "ip_address"]
AXES_VERBOSE = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Accounts: sign-in, second factors, sessions (django-allauth, `screening.accounts`) ---
# People sign in with a username; accounts are made by a user administrator's invitation,
# never by signing up.
ACCOUNT_ADAPTER = "screening.accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {"login": "screening.accounts.forms.SignInForm"}
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_REDIRECT_URL = "login"
# The session's idle timeout applies to everyone (no "remember me").
ACCOUNT_SESSION_REMEMBER = True
# Lock-out is django-axes' job (above), counted by username and real client address; allauth's
# own sign-in limits would answer first with a different page, uncounted and unaudited. Its
# limits on password-reset e-mails stay (per address and per e-mail address).
ACCOUNT_RATE_LIMITS = {"login": False, "login_failed": False}
# A reset asked for an address no account has gets the same page and no e-mail.
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "Ketamine screening: "
MFA_ADAPTER = "screening.accounts.adapter.SecondFactorAdapter"
MFA_FORMS = {"authenticate": "screening.accounts.forms.SecondFactorForm"}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = env_str("MFA_TOTP_ISSUER", "Ketamine screening")
# Nobody signs up and no e-mail address signs anyone in (accounts come from an invitation or
# from the identity provider, whose address allauth records unverified): an unverified address
# must not stop someone enrolling a second factor.
MFA_ALLOW_UNVERIFIED_EMAIL = True
# Recovery codes are shown once, when made; a lost set is replaced, never shown again.
MFA_RECOVERY_CODES_SHOW_ONCE = True
# WebAuthn needs HTTPS, except on localhost during development and the browser tests.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = env_bool("MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN", default=DEBUG)
# Roles whose members must enrol a second factor at their first sign-in before anything else:
# every role unless the clinic says otherwise. With DEBUG (`make run`) nobody is forced, and
# the demo users are offered enrolment instead. Values are role names: clinician, reviewer,
# rule_admin, user_admin; "*" means every account, with or without a role.
MFA_REQUIRED_ROLES = env_list(
    "MFA_REQUIRED_ROLES", "" if DEBUG else "clinician,reviewer,rule_admin,user_admin,*"
)
# A signed-in session ends after this many hours whatever the activity (beside the idle
# timeout below).
SESSION_ABSOLUTE_LIFETIME = timedelta(hours=env_int("SESSION_ABSOLUTE_LIFETIME_HOURS", 12))
USERSESSIONS_TRACK_ACTIVITY = True
# An invitation link (a user administrator's invite) works once, for this many days.
INVITATION_MAX_AGE = timedelta(days=env_int("INVITATION_MAX_AGE_DAYS", 7))
# Outgoing e-mail (invitations, password resets): printed to the console unless EMAIL_HOST is set.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "screening@localhost")

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Background work (impact previews, audit checkpoints, the sign-in failure summaries): Django's
# Tasks API on one of two queues (`screening.core.queue`). TASKS_BACKEND=database (the default,
# zero setup): tasks are rows of this database, run by `manage.py db_worker` processes (what
# `make run` starts). TASKS_BACKEND=rq (the default when REDIS_URL is set): RQ on Redis, run by
# `manage.py rqworker default --with-scheduler`, when the queue should not load the database.
REDIS_URL = env_str("REDIS_URL")

# One cache that every process shares (a table, made by migration core 0005): allauth remembers
# there which TOTP codes were used, so a code works once even when the next request lands on
# another gunicorn worker or web node, and keeps its rate limits (password-reset e-mails)
# there. Django's default, per-process memory, would let a code be replayed on a sibling.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "screening_cache",
    }
}
TASKS_BACKEND = env_str("TASKS_BACKEND", "rq" if REDIS_URL else "database")
RQ_QUEUES = {"default": {"URL": REDIS_URL or "redis://127.0.0.1:6379/0", "DEFAULT_TIMEOUT": 3600}}
TASKS: dict[str, dict[str, object]]
if TASKS_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
elif TASKS_BACKEND == "rq":
    if not REDIS_URL:
        raise ImproperlyConfigured("TASKS_BACKEND=rq needs REDIS_URL (redis://host:6379/0)")
    INSTALLED_APPS.append("django_rq")
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
else:
    raise ImproperlyConfigured(f"TASKS_BACKEND must be database or rq, got {TASKS_BACKEND!r}")

# Rule governance: a draft is published only after a second rule admin approves it. A clinic
# with one rule admin sets this to publish without approval; each version it publishes says so.
RULES_SINGLE_PERSON_PUBLISH = env_bool("RULES_SINGLE_PERSON_PUBLISH", default=False)

# The audit trail's anchors outside the database (`screening.core.checkpoints`): signed
# checkpoints of the chain's length and head, appended to a file the database's administrator
# does not hold and, optionally, timestamped by an RFC 3161 authority. The signing key is never
# in the database: PEM text in AUDIT_SIGNING_KEY, or a file (`manage.py audit_keygen` makes
# one). AUDIT_PUBLIC_KEYS lists public key files or directories of them: keep every old public
# key there after a rotation. With DEBUG, everything defaults to files under .audit/ (`make run`
# creates the key); in production a system check warns until they are set.
_AUDIT_DEV = BASE_DIR / ".audit"
AUDIT_SIGNING_KEY = env_str("AUDIT_SIGNING_KEY")
AUDIT_SIGNING_KEY_FILE = env_str(
    "AUDIT_SIGNING_KEY_FILE", str(_AUDIT_DEV / "signing-key.pem") if DEBUG else ""
)
AUDIT_PUBLIC_KEYS = env_list("AUDIT_PUBLIC_KEYS", str(_AUDIT_DEV / "public-keys") if DEBUG else "")
AUDIT_CHECKPOINT_FILE = env_str(
    "AUDIT_CHECKPOINT_FILE", str(_AUDIT_DEV / "checkpoints.jsonl") if DEBUG else ""
)
# A checkpoint every 5 minutes when the chain grew, and after every 1000 events.
AUDIT_CHECKPOINT_INTERVAL = timedelta(seconds=env_int("AUDIT_CHECKPOINT_INTERVAL_SECONDS", 300))
AUDIT_CHECKPOINT_EVERY_EVENTS = env_int("AUDIT_CHECKPOINT_EVERY_EVENTS", 1000)
# An RFC 3161 timestamp authority (e.g. https://freetsa.org/tsr) and the PEM file of its root
# certificate(s), with which verification checks the tokens.
AUDIT_TSA_URL = env_str("AUDIT_TSA_URL")
AUDIT_TSA_CA_FILE = env_str("AUDIT_TSA_CA_FILE")
AUDIT_TSA_TIMEOUT = env_int("AUDIT_TSA_TIMEOUT_SECONDS", 10)
# Which records verification recomputes from their rows (`screening.core.records`): each app
# that writes clinical content names its digests here, since the platform imports no app.
AUDIT_RECORD_DIGESTS = [
    "screening.digests.SignedScreenings",
    "rules.digests.PublishedVersions",
]

# --- Single sign-on (OpenID Connect, `screening.accounts.sso`) ---
# Off unless OIDC_ISSUER is set. The identity provider's issuer URL (its discovery document is
# at <issuer>/.well-known/openid-configuration), the client registered there (redirect URI:
# https://<this host>/oidc/sso/login/callback/) and the label of the sign-in page's button.
OIDC_ISSUER = env_str("OIDC_ISSUER").rstrip("/")
OIDC_CLIENT_ID = env_str("OIDC_CLIENT_ID")
OIDC_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET")
OIDC_PROVIDER_NAME = env_str("OIDC_PROVIDER_NAME", "Single sign-on")
OIDC_SCOPES = env_list("OIDC_SCOPES", "openid,profile,email")
# Which claim (ID token or userinfo) lists the person's groups, and which of its values give
# which role: "ketamine-clinicians=clinician,it-admins=user_admin" (a value may appear twice for
# two roles). Roles follow the claim at every sign-in; with no mapped value, no access.
OIDC_ROLES_CLAIM = env_str("OIDC_ROLES_CLAIM", "roles")
OIDC_ROLE_MAP = env_mapping("OIDC_ROLE_MAP")
# true: a sign-in through the identity provider counts as two-factor (the IdP must require its
# own second factor); false (the default): the app's second factor applies after it as after a
# password (its code is asked for, and MFA_REQUIRED_ROLES must enrol one).
OIDC_TRUSTS_IDP_MFA = env_bool("OIDC_TRUSTS_IDP_MFA", default=False)
# false: no password sign-in, reset, change or invitation password: single sign-on only.
LOCAL_PASSWORDS = env_bool("LOCAL_PASSWORDS", default=True)
if OIDC_ISSUER and not (OIDC_CLIENT_ID and OIDC_CLIENT_SECRET):
    raise ImproperlyConfigured("OIDC_ISSUER needs OIDC_CLIENT_ID and OIDC_CLIENT_SECRET")
if not LOCAL_PASSWORDS and not OIDC_ISSUER:
    raise ImproperlyConfigured("LOCAL_PASSWORDS=false needs single sign-on (OIDC_ISSUER)")

SOCIALACCOUNT_ADAPTER = "screening.accounts.adapter.SocialAccountAdapter"
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        # PKCE (S256) on every sign-in; allauth checks the state itself, the adapter the nonce.
        "OAUTH_PKCE_ENABLED": True,
        "APPS": (
            [
                {
                    "provider_id": "sso",
                    "name": OIDC_PROVIDER_NAME,
                    "client_id": OIDC_CLIENT_ID,
                    "secret": OIDC_CLIENT_SECRET,
                    "settings": {
                        "server_url": OIDC_ISSUER,
                        "oauth_pkce_enabled": True,
                        "scope": OIDC_SCOPES,
                    },
                }
            ]
            if OIDC_ISSUER
            else []
        ),
    }
}
# Accounts are made at the first sign-in, with the roles of the claim; nobody fills in a form.
SOCIALACCOUNT_AUTO_SIGNUP = True
# An identity is its provider's subject ("sub"), never an e-mail address matched with an
# existing account's, and the provider's tokens are not kept.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_STORE_TOKENS = False
# Starting a sign-in is a POST from the sign-in page (CSRF-protected), not a link.
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = env_int("OIDC_TIMEOUT_SECONDS", 10)

# Sessions end after 15 idle minutes: every request renews the cookie, so only inactivity
# counts (a shared clinic workstation left signed in locks itself).
SESSION_COOKIE_AGE = 15 * 60
# The database store, saving again on a new connection when the worker's one was lost.
SESSION_ENGINE = "screening.core.sessions"
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# HTTPS enforcement is opt-in (SECURE_SSL_REDIRECT=true in production): tests and the browser
# tests run with DEBUG off over plain http. HSTS is sent only when redirecting to HTTPS.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000) if SECURE_SSL_REDIRECT else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_SSL_REDIRECT
# Preloading commits the whole domain to HTTPS in every browser, for months, and is the domain
# owner's decision: opt in with SECURE_HSTS_PRELOAD=true (its deploy warning is silenced until).
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", default=False) else None
)

# No inline script or style anywhere: templates load static files only (see base.html).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "frame-ancestors": [NONE],
        # The sign-in page's single sign-on button posts here, and is redirected on to the
        # identity provider: browsers hold that redirect to form-action too.
        "form-action": [SELF, *([sso_origin(OIDC_ISSUER)] if OIDC_ISSUER else [])],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# Logs carry no patient data: requests are logged by UUID paths only, never form contents, and
# exception messages (a database error quoting an MRN) are redacted from every record, keeping
# the traceback's frames (`screening.core.logging`). Django's own loggers lose their handlers and
# reach the root's: that drops `mail_admins`, whose error e-mails would carry the request's
# form data and the failing frames' variables.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "screening.core.logging.RedactExceptionMessages"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}
    },
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
        # WeasyPrint narrates every step of every PDF at INFO, and fontTools its subsetting.
        "weasyprint": {"handlers": [], "level": "WARNING", "propagate": True},
        "fontTools": {"handlers": [], "level": "WARNING", "propagate": True},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}


def _cds_clients() -> dict[str, Any]:
    """CDS Hooks clients allowed to call `/cds-services`: `CDS_CLIENTS_FILE`, a JSON object
    `{"<iss>": {"public_keys": ["<PEM>", ...]}}` (none when unset)."""
    path = env_str("CDS_CLIENTS_FILE")
    if not path:
        return {}
    clients = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(clients, dict):
        raise ImproperlyConfigured("CDS_CLIENTS_FILE must hold a JSON object of clients")
    return clients


CDS_CLIENTS: dict[str, Any] = _cds_clients()
