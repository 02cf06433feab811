"""Account changes are audit events (roles, permissions, flags, password; by whom), and failed
sign-ins that anyone can repeat for free are counted per address and hour instead of each
growing the permanent trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone

from screening.core.models import AuditEvent, SignInFailureTally
from screening.core.permissions import Role
from screening.core.tasks import sign_in_failures_summarise

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Each refused sign-in hashes the password typed (also for an unknown username, so the
    answer takes as long): the tests below sign in dozens of times, so hash cheaply."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def events(action: str, user=None) -> list[AuditEvent]:
    found = AuditEvent.objects.filter(action=action).order_by("seq")
    if user is not None:
        found = found.filter(object_id=str(user.pk))
    return list(found)


# --- roles, permissions, flags, password ---------------------------------------------------------


def test_a_role_given_and_taken_away_is_recorded(clinician):
    reviewers = Group.objects.get(name=Role.REVIEWER.value)

    clinician.groups.add(reviewers)
    clinician.groups.remove(reviewers)

    added, removed = events("auth.user_roles_change", clinician)[-2:]
    assert added.detail == {"username": "casey", "added": [Role.REVIEWER.value]}
    assert removed.detail == {"username": "casey", "removed": [Role.REVIEWER.value]}
    assert added.actor is None  # no request: a command or a shell, recorded as the system


def test_adding_users_from_the_groups_side_records_each_user(clinician, other_clinician):
    admins = Group.objects.get(name=Role.RULE_ADMIN.value)

    admins.user_set.add(clinician, other_clinician)

    recorded = {e.detail["username"]: e.detail for e in events("auth.user_roles_change")[-2:]}
    assert recorded == {
        clinician.username: {"username": clinician.username, "added": [Role.RULE_ADMIN.value]},
        other_clinician.username: {
            "username": other_clinician.username,
            "added": [Role.RULE_ADMIN.value],
        },
    }


def test_clearing_roles_names_the_roles_removed(reviewer):
    reviewer.groups.clear()

    [cleared] = events("auth.user_roles_change", reviewer)[-1:]
    assert cleared.detail == {"username": reviewer.username, "removed": [Role.REVIEWER.value]}


def test_a_direct_permission_grant_is_recorded(clinician):
    permission = Permission.objects.get(codename="view_auditevent")

    clinician.user_permissions.add(permission)

    [granted] = events("auth.user_permissions_change", clinician)
    assert granted.detail == {"username": "casey", "added": ["core.view_auditevent"]}


def test_flag_and_password_changes_are_recorded_without_the_hash(clinician):
    old_hash = clinician.password
    clinician.is_superuser = True
    clinician.set_password("another-long-passphrase-2026")
    clinician.save()

    [change] = events("auth.user_change", clinician)
    assert change.detail == {
        "username": "casey",
        "changed": ["is_superuser", "password"],
        "now": {"is_superuser": True},
    }
    assert old_hash not in repr(change.detail)
    assert clinician.password not in repr(change.detail)


def test_a_role_change_made_in_the_admin_names_the_administrator(
    client, clinician, django_user_model
):
    admin = django_user_model.objects.create_superuser("ada", password="admin-passphrase-2026")
    client.force_login(admin)
    url = reverse("admin:auth_user_change", args=[clinician.pk])
    joined = timezone.localtime(clinician.date_joined)
    reviewers = Group.objects.get(name=Role.REVIEWER.value)
    form = {
        "username": clinician.username,
        "first_name": clinician.first_name,
        "last_name": "",
        "email": "",
        "is_active": "on",
        "groups": [str(reviewers.pk)],  # clinician → reviewer
        "date_joined_0": joined.strftime("%Y-%m-%d"),
        "date_joined_1": joined.strftime("%H:%M:%S"),
        "initial-date_joined_0": joined.strftime("%Y-%m-%d"),
        "initial-date_joined_1": joined.strftime("%H:%M:%S"),
        "last_login_0": "",
        "last_login_1": "",
    }

    response = client.post(url, form)

    assert response.status_code == 302, response.content.decode()[:2000]
    changes = events("auth.user_roles_change", clinician)[-2:]
    assert {tuple(sorted(e.detail)) for e in changes} == {
        ("removed", "username"),
        ("added", "username"),
    }
    assert {e.actor for e in changes} == {admin}
    assert {e.actor_repr for e in changes} == {"ada"}


# --- failed sign-ins anyone can repeat ------------------------------------------------------------


def sign_in(client, username: str, password: str = "wrong", address: str = "203.0.113.7"):  # noqa: S107
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_unknown_usernames_are_audited_once_per_address_and_hour_then_counted(client, settings):
    settings.SIGN_IN_ADDRESS_FAILURE_LIMIT = 1000  # measure the trail, not the lock
    for n in range(40):
        sign_in(client, f"nobody-{n}")
    sign_in(client, "nobody-else", address="198.51.100.20")

    failed = events("auth.login_failed")
    assert len(failed) == 2
    assert {e.detail["ip"] for e in failed} == {"203.0.113.7", "198.51.100.20"}
    assert all(e.detail["username"] is None for e in failed)
    tally = SignInFailureTally.objects.get(address="203.0.113.7")
    assert tally.failures == 40
    assert tally.reason == SignInFailureTally.Reason.UNKNOWN_ACCOUNT


def test_the_hour_is_summarised_in_one_event_when_it_is_over(client, settings):
    settings.SIGN_IN_ADDRESS_FAILURE_LIMIT = 1000
    for n in range(12):
        sign_in(client, f"nobody-{n}")
    sign_in(client, "nobody-else", address="198.51.100.20")  # a single failure: nothing to add

    assert sign_in_failures_summarise.call() == {"summarised": 0, "deleted": 0}  # hour not over
    SignInFailureTally.objects.update(window_start=timezone.now() - timedelta(hours=2))
    assert sign_in_failures_summarise.call() == {"summarised": 1, "deleted": 0}

    [summary] = events("auth.login_failed_summary")
    assert summary.detail["ip"] == "203.0.113.7"
    assert summary.detail["failures"] == 12
    assert summary.detail["reason"] == "unknown_account"
    assert not SignInFailureTally.objects.filter(summarised_at=None).exists()
    assert sign_in_failures_summarise.call() == {"summarised": 0, "deleted": 0}  # only once


def test_summarised_tallies_are_deleted_after_a_week_and_their_events_stay(client):
    sign_in(client, "nobody")
    sign_in(client, "nobody")
    SignInFailureTally.objects.update(window_start=timezone.now() - timedelta(days=9))
    sign_in_failures_summarise.call()
    SignInFailureTally.objects.update(summarised_at=timezone.now() - timedelta(days=8))

    assert sign_in_failures_summarise.call()["deleted"] == 1
    assert not SignInFailureTally.objects.exists()
    assert len(events("auth.login_failed_summary")) == 1


def test_refusals_of_a_locked_account_are_counted_not_each_audited(client, clinician, password):
    for attempt in range(5):
        sign_in(client, "casey", f"wrong-{attempt}")
    for _ in range(20):
        assert sign_in(client, "casey", password).status_code == 429

    failed = events("auth.login_failed", clinician)
    assert len(failed) == 5  # the fifth failure locked the account, and says so
    assert [e.detail.get("locked_out", False) for e in failed] == [False] * 4 + [True]
    tally = SignInFailureTally.objects.get(reason=SignInFailureTally.Reason.LOCKED_OUT)
    assert tally.account == str(clinician.pk)
    assert tally.failures == 21  # the locking failure and the twenty refusals after it
