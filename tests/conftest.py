"""Named people for every test: a clinician, another clinician, a reviewer, a rule admin and an
outsider (a logged-in account with no role). Every view test checks an allowed and a forbidden one."""

import pytest
from django.conf import settings
from django.contrib.auth.models import Group

from screening.roles import Role

PASSWORD = "correct-horse-battery-staple"


def pytest_configure(config):
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        pytest.exit(
            f"The test suite runs on PostgreSQL, as production does; DATABASE_URL gives {engine}."
            " Use `make test` or set DATABASE_URL=postgres://postgres@127.0.0.1:5432/screening.",
            returncode=2,
        )


def _person(django_user_model, username: str, role: Role | None, **extra):
    user = django_user_model.objects.create_user(
        username=username, password=PASSWORD, first_name=username.title(), **extra
    )
    if role is not None:
        user.groups.add(Group.objects.get(name=role.value))
    return user


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
def outsider(django_user_model):
    return _person(django_user_model, "olly", None)
