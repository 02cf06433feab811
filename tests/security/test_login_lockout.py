"""Sign-in throttling (django-axes): five failures for one username from one address lock that
pair for 15 minutes, with a page saying so; other accounts keep working."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.urls import reverse
from django.utils import timezone

from screening.core.lockout import username_key
from screening.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Every refused sign-in hashes what was typed: hash cheaply, the lock is what is tested."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


LOCKED = "Sign-in locked"


def sign_in(client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def fail_five_times(client, username: str) -> None:
    for attempt in range(5):
        sign_in(client, username, f"wrong-{attempt}")


def test_four_failures_still_allow_the_right_password(client, clinician, password):
    for attempt in range(4):
        response = sign_in(client, "casey", f"wrong-{attempt}")
        assert response.status_code == 200
        assert LOCKED not in response.content.decode()

    response = sign_in(client, "casey", password)

    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_five_failures_lock_the_account_even_with_the_right_password(client, clinician, password):
    fail_five_times(client, "casey")

    response = sign_in(client, "casey", password)

    assert response.status_code == 429
    content = response.content.decode()
    assert LOCKED in content
    assert "locked for 15 minutes" in content
    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))


def test_failed_sign_ins_are_still_audit_events(client, clinician):
    fail_five_times(client, "casey")

    assert AuditEvent.objects.filter(action="auth.login_failed").count() == 5


def test_a_locked_account_does_not_lock_out_colleagues(client, clinician, reviewer, password):
    fail_five_times(client, "casey")

    response = sign_in(client, "riley", password)

    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_the_lock_is_per_address(client, clinician, password):
    fail_five_times(client, "casey")

    response = client.post(
        reverse("login"),
        {"username": "casey", "password": password},
        REMOTE_ADDR="198.51.100.20",
    )

    assert response.status_code == 302


def test_the_lock_lifts_after_fifteen_minutes(client, clinician, password, settings):
    fail_five_times(client, "casey")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    response = sign_in(client, "casey", password)

    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    assert response.status_code == 302


def test_the_lock_out_records_never_hold_a_typed_password(client, clinician):
    attempt = "Wrong-Password-7f3a"

    sign_in(client, "casey", attempt)

    stored = list(AccessAttempt.objects.values_list("get_data", "post_data", "username"))
    assert stored
    assert attempt.lower() not in repr(stored).lower()


def test_what_was_typed_as_username_and_password_is_never_stored(client, clinician, settings):
    settings.AXES_ENABLE_ACCESS_FAILURE_LOG = True  # axes's per-attempt log, off by default
    typed_username = "Quixwellby MRN-QX7731Z"  # a patient's name typed into the wrong window
    typed_password = "Casey-Password-In-The-Username-Box"

    sign_in(client, typed_username, "wrong")
    sign_in(client, typed_password, "wrong")  # the password typed one box too early

    rows = [*AccessAttempt.objects.values(), *AccessFailureLog.objects.values()]
    assert len(rows) == 4
    stored = repr(rows).lower()
    for typed in (typed_username, typed_password, "quixwellby", "mrn-qx7731z", "casey-password"):
        assert typed.lower() not in stored
    assert {row["username"] for row in rows} == {
        username_key(typed_username),
        username_key(typed_password),
    }


def test_attempts_are_counted_under_a_keyed_hash_of_the_username(client, clinician, settings):
    fail_five_times(client, "casey")

    [attempt] = AccessAttempt.objects.all()
    assert attempt.username == username_key("casey")
    assert len(attempt.username) == 32
    assert attempt.failures_since_start == 5
    assert username_key("casey") != username_key("Casey")
    settings.SECRET_KEY = "another-" + settings.SECRET_KEY
    assert username_key("casey") != attempt.username  # keyed: not a plain hash of the name


# --- behind a reverse proxy ---------------------------------------------------------------------

PROXY = "10.0.0.5"


def via_proxy(client, username: str, password: str, *, client_address: str, forwarded=None):
    """A sign-in that reached the app through the proxy, which appended the client's address."""
    chain = f"{forwarded}, {client_address}" if forwarded else client_address
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=chain,
    )


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXIES = [PROXY]


def test_behind_a_trusted_proxy_one_clients_failures_do_not_lock_out_another(
    client, clinician, password, behind_proxy
):
    for attempt in range(5):
        via_proxy(client, "casey", f"wrong-{attempt}", client_address="203.0.113.7")

    locked = via_proxy(client, "casey", password, client_address="203.0.113.7")
    elsewhere = via_proxy(client, "casey", password, client_address="198.51.100.20")

    assert elsewhere.status_code == 302
    assert locked.status_code == 429


def test_a_client_cannot_choose_its_address_by_writing_the_header_itself(
    client, clinician, password, behind_proxy
):
    """What a client writes into X-Forwarded-For sits left of what the proxy appended."""
    for attempt in range(5):
        via_proxy(
            client,
            "casey",
            f"wrong-{attempt}",
            client_address="203.0.113.7",
            forwarded=f"192.0.2.{attempt}",
        )

    response = via_proxy(
        client, "casey", password, client_address="203.0.113.7", forwarded="192.0.2.99"
    )

    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}


def test_without_a_trusted_proxy_the_header_is_ignored(client, clinician, password):
    for attempt in range(5):
        client.post(
            reverse("login"),
            {"username": "casey", "password": f"wrong-{attempt}"},
            HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}",
        )

    response = client.post(
        reverse("login"),
        {"username": "casey", "password": password},
        HTTP_X_FORWARDED_FOR="192.0.2.200",
    )

    assert response.status_code == 429


def test_the_audit_trail_names_the_forwarded_client(client, clinician, password, behind_proxy):
    via_proxy(client, "casey", "wrong", client_address="203.0.113.7", forwarded="192.0.2.1")
    via_proxy(client, "casey", password, client_address="198.51.100.20")

    failed = AuditEvent.objects.get(action="auth.login_failed")
    login = AuditEvent.objects.get(action="auth.login")
    assert failed.detail["ip"] == "203.0.113.7"
    assert login.detail["ip"] == "198.51.100.20"


# --- password spraying: one address, many usernames -------------------------------------------


def test_failures_across_many_usernames_lock_the_address(
    client, clinician, password, settings, django_user_model
):
    settings.SIGN_IN_ADDRESS_FAILURE_LIMIT = 8
    for n in range(8):  # one guess each at eight accounts, none of them locked by itself
        sign_in(client, f"staff-{n}", "Summer2026!")

    here = sign_in(client, "casey", password)
    other_address = client.post(
        reverse("login"), {"username": "casey", "password": password}, REMOTE_ADDR="198.51.100.20"
    )

    assert here.status_code == 429
    assert "from this network address" in here.content.decode()
    assert other_address.status_code == 302


def test_the_address_limit_is_generous_enough_for_a_shared_clinic_address(
    client, clinician, password, settings
):
    assert settings.SIGN_IN_ADDRESS_FAILURE_LIMIT >= 20
    for n in range(7):  # a busy morning of typos from one NAT address
        sign_in(client, f"staff-{n}", "typo")

    assert sign_in(client, "casey", password).status_code == 302
