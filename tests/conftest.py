"""Named people for every test: a clinician, another clinician, a reviewer, a rule admin and an
outsider (a logged-in account with no role). Every view test checks an allowed and a forbidden one.

Transactional tests (`django_db(transaction=True)`: browser journeys, concurrency and fault tests)
commit for real, and Django empties every table after each one, including what migrations put
there: the role groups, their permissions, the published default rule set. A transactional test
that needs that data asks for `serialized_rollback=True`, and Django reloads the migrated database
as it was serialized when the test database was created; `_snapshot_reload_skips_triggers` makes
that reload possible, and the emptying too (the audit tables refuse TRUNCATE). Every
transactional test asks for it, even one that needs no migrated data itself: under
`pytest-xdist` (`make test` runs two or more workers, each with its own database, handed whole
files) the files that follow it on its worker need the data back. Collection stops, naming
them, if one forgets (`pytest_collection_modifyitems` below); and when an ordinary test follows
a transactional one on a worker, the data is put back first (`pytest_runtest_teardown`).
"""

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from pytest_django.plugin import blocking_manager_key

from rules.selectors import _version_with_rule_set
from screening.core.permissions import Role
from tests.oidc_provider.server import oidc_provider  # noqa: F401  (the in-suite IdP, a fixture)

PASSWORD = "correct-horse-battery-staple"


def pytest_configure(config):
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        pytest.exit(
            f"The test suite runs on PostgreSQL, as production does; DATABASE_URL gives {engine}."
            " Use `make test` or set DATABASE_URL=postgres://postgres@127.0.0.1:5432/screening.",
            returncode=2,
        )


def _transactional(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", ())
    return bool(
        (marker is not None and marker.kwargs.get("transaction"))
        or any(name in fixtures for name in ("transactional_db", "live_server"))
    )


def pytest_collection_modifyitems(config, items):
    """Refuse a transactional test that would leave the migrated data emptied (module doc)."""
    forgetful = []
    for item in items:
        marker = item.get_closest_marker("django_db")
        fixtures = getattr(item, "fixturenames", ())
        transactional = _transactional(item)
        restores = (
            marker is not None and marker.kwargs.get("serialized_rollback")
        ) or "django_db_serialized_rollback" in fixtures
        if transactional and not restores:
            forgetful.append(item.nodeid)
    if forgetful:
        raise pytest.UsageError(
            "transactional tests must ask for serialized_rollback=True (tests/conftest.py): "
            + ", ".join(forgetful)
        )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    """After a transactional test's emptying, put the migrated data back when the next test is
    an ordinary one. pytest-django runs transactional tests after all others, but pytest-xdist
    hands a worker whole files, and a file holding both kinds (the fault tests run each service
    in the test's transaction and in autocommit) can be followed by another file on its worker.
    A transactional test next reloads the data itself (`serialized_rollback`)."""
    yield
    if nextitem is None or not _transactional(item) or _transactional(nextitem):
        return
    with item.config.stash[blocking_manager_key].unblock():
        connection = connections[DEFAULT_DB_ALIAS]
        snapshot = getattr(connection, "_test_serialized_contents", None)
        if snapshot and not Group.objects.exists():
            connection.creation.deserialize_db_from_string(snapshot)
            # The snapshot keeps times to the millisecond (Django's JSON serializer): forget the
            # published version this process read with microseconds, or saving it (retiring
            # it) would look like a change to the immutable row.
            _version_with_rule_set.cache_clear()


def _person(django_user_model, username: str, role: Role | None, **extra):
    user = django_user_model.objects.create_user(
        username=username, password=PASSWORD, first_name=username.title(), **extra
    )
    if role is not None:
        user.groups.add(Group.objects.get(name=role.value))
    return user


@pytest.fixture(autouse=True)
def _second_factor_optional(settings):
    """Production requires every role to enrol a second factor at first sign-in
    (`MFA_REQUIRED_ROLES`); the suite's people sign in with a password alone unless a test of
    second factors asks otherwise (tests/accounts/)."""
    settings.MFA_REQUIRED_ROLES = []


@pytest.fixture(scope="session", autouse=True)
def _snapshot_reload_skips_triggers() -> Iterator[None]:
    """Reload the migrated snapshot past the database's immutability triggers.

    Published rule-set versions are guarded by triggers that reject any UPDATE, and rules being
    added to a published version, which is what reloading the snapshot does. The reload runs
    with `session_replication_role = replica`, the setting PostgreSQL's own restores use to skip
    triggers, for that one transaction only (it needs the superuser the test suite connects as).
    The code under test keeps its own transactions, where the triggers stay on.
    """
    creation_class = type(connections[DEFAULT_DB_ALIAS].creation)
    reload = creation_class.deserialize_db_from_string

    def reload_without_triggers(self: Any, data: str) -> None:
        with transaction.atomic(using=self.connection.alias):
            with self.connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
                # A transactional test without serialized rollback (e.g. the audit concurrency
                # test) ends with a flush that recreates content types and permissions under
                # new ids; the snapshot brings its own, so clear those first.
                cursor.execute("DELETE FROM auth_permission")
                cursor.execute("DELETE FROM django_content_type")
            reload(self, data)

    # The audit tables refuse TRUNCATE (core 0003), which is how Django empties the database
    # after a transactional test: that emptying runs past the triggers in the same way.
    operations_class = type(connections[DEFAULT_DB_ALIAS].ops)
    flush = operations_class.execute_sql_flush

    def flush_without_triggers(self: Any, sql_list: list[str]) -> None:
        with transaction.atomic(using=self.connection.alias):
            with self.connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
            flush(self, sql_list)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(creation_class, "deserialize_db_from_string", reload_without_triggers)
        patch.setattr(operations_class, "execute_sql_flush", flush_without_triggers)
        yield


@pytest.fixture(autouse=True)
def one_person_rule_publishing(settings) -> None:
    """Tests publish drafts as a one-person clinic does (`RULES_SINGLE_PERSON_PUBLISH`), so a
    test about something else can publish in one call; the two-person approval tests
    (tests/rules/test_rule_approval.py, tests/e2e/test_rule_approval_journey.py) ask for
    `two_person_rule_publishing`, the production default."""
    settings.RULES_SINGLE_PERSON_PUBLISH = True


@pytest.fixture
def two_person_rule_publishing(settings) -> None:
    """A draft is published only after a second rule admin approves it (the default)."""
    settings.RULES_SINGLE_PERSON_PUBLISH = False


@pytest.fixture
def other_rule_admin(django_user_model):
    return _person(django_user_model, "ruth", Role.RULE_ADMIN)


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def clinician(django_user_model):
    return _person(django_user_model, "casey", Role.CLINICIAN)


@pytest.fixture
def other_clinician(django_user_model):
    return _person(django_user_model, "dana", Role.CLINICIAN)


@pytest.fixture
def reviewer(django_user_model):
    return _person(django_user_model, "riley", Role.REVIEWER)


@pytest.fixture
def rule_admin(django_user_model):
    return _person(django_user_model, "avery", Role.RULE_ADMIN)


@pytest.fixture
def user_admin(django_user_model):
    return _person(django_user_model, "uma", Role.USER_ADMIN)


@pytest.fixture
def outsider(django_user_model):
    return _person(django_user_model, "olly", None)


@pytest.fixture
def superuser(django_user_model):
    """An account with every permission and no role group (Django's `is_superuser`)."""
    return _person(django_user_model, "sam", None, is_superuser=True, is_staff=True)


@pytest.fixture
def version_1_in_force() -> Iterator[Any]:
    """Screenings run in this test are run under rule-set version 1, as they were before the
    migration published version 2 (version 1 is retired, still in the database): how the tests
    make past version-1 screenings. Yields a function that puts version 2 back in force."""
    import screening.services
    from rules.selectors import numbered_version

    patch = pytest.MonkeyPatch()
    patch.setattr(
        screening.services, "published_version", lambda *args, **kwargs: numbered_version(1)
    )
    yield patch.undo
    patch.undo()


@pytest.fixture
def account_changes_unaudited() -> Iterator[None]:
    """For tests of the audit chain's own mechanics, which count events from the first: the
    people the fixtures create (and their roles) are not audit events there. Everywhere else
    they are (`screening.core.accounts`)."""
    from django.contrib.auth.models import User
    from django.db.models.signals import m2m_changed, post_save

    from screening.core import accounts

    hooks = [
        (post_save, accounts._audit_account_save, User, "screening.core.accounts.audit_save"),
        (
            m2m_changed,
            accounts._audit_group_change,
            User.groups.through,
            "screening.core.accounts.groups",
        ),
    ]
    for signal, _receiver, sender, uid in hooks:
        signal.disconnect(sender=sender, dispatch_uid=uid)
    try:
        yield
    finally:
        for signal, receiver, sender, uid in hooks:
            signal.connect(receiver, sender=sender, dispatch_uid=uid)
