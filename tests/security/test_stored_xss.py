"""Stored text is shown escaped: every page that displays what a person typed (patient names,
reasons, rule text, change notes, test case descriptions, token names) renders a script or an
attribute-breaking payload as text, never as markup."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from rules.models import RuleSet
from rules.services import draft_start, rule_case_create, rule_set_publish, rule_update
from screening.api.services import api_token_create
from screening.services import flag_acknowledge, flag_override, screening_run
from tests.factories import make_intake, make_patient
from tests.rules.conftest import VIGNETTES

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'


def assert_escaped(response, *payloads: str) -> None:
    assert response.status_code == 200
    content = response.content.decode().lower()
    for payload in payloads:
        assert escape(payload).lower() in content, f"{payload!r} is not shown"
        assert payload.lower() not in content, f"{payload!r} is rendered as markup"
    assert "<script>alert" not in content
    assert "<img src=x" not in content


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def patient(clinician):
    return make_patient(created_by=clinician, family_name=SCRIPT, given_names=ATTRIBUTE)


@pytest.fixture
def reviewed_screening(patient, clinician):
    """Pregnant with raised blood pressure; both flags reviewed with hostile reasons."""
    intake = make_intake(
        patient=patient, by=clinician, pregnancy_status="pregnant", systolic_bp=150, diastolic_bp=95
    )
    screening = screening_run(intake=intake, user=clinician)
    flag_override(
        screening=screening,
        rule_id="STOP-PREGNANCY",
        user=clinician,
        reason_code="other",
        reason=SCRIPT,
    )
    flag_acknowledge(
        screening=screening, rule_id="REV-BP-ELEVATED", user=clinician, reason=ATTRIBUTE
    )
    return screening


@pytest.mark.parametrize("url_name", ["patients:list", "patients:detail"])
def test_patient_names_are_escaped(url_name, patient, clinician):
    args = [patient.uuid] if url_name == "patients:detail" else []

    response = as_user(clinician).get(reverse(url_name, args=args))

    assert_escaped(response, SCRIPT, ATTRIBUTE)


def test_patient_search_query_is_escaped(patient, clinician):
    response = as_user(clinician).get(reverse("patients:list"), {"q": ATTRIBUTE})

    assert_escaped(response, ATTRIBUTE)


def test_screening_page_escapes_names_and_reasons(reviewed_screening, clinician):
    response = as_user(clinician).get(reverse("screening:detail", args=[reviewed_screening.uuid]))

    assert_escaped(response, SCRIPT, ATTRIBUTE)


def test_review_page_escapes_names_and_reasons(reviewed_screening, reviewer):
    response = as_user(reviewer).get(reverse("screening:review", args=[reviewed_screening.uuid]))

    assert_escaped(response, SCRIPT, ATTRIBUTE)


def test_reviewers_list_escapes_names(reviewed_screening, reviewer):
    response = as_user(reviewer).get(reverse("screening:list"))

    assert "<script>alert" not in response.content.decode().lower()
    assert "<img src=x" not in response.content.decode().lower()


def test_token_names_are_escaped(clinician):
    api_token_create(user=clinician, name=SCRIPT)
    api_token_create(user=clinician, name=ATTRIBUTE)

    response = as_user(clinician).get(reverse("api_tokens:list"))

    assert_escaped(response, SCRIPT, ATTRIBUTE)


def test_audit_log_escapes_token_names(clinician, reviewer):
    api_token_create(user=clinician, name=SCRIPT)

    response = as_user(reviewer).get(reverse("screening:audit"))

    assert "<script>alert" not in response.content.decode().lower()


@pytest.fixture
def rule_set():
    return RuleSet.objects.get(name="ketamine")


@pytest.fixture
def hostile_draft(rule_set, rule_admin):
    draft = draft_start(rule_set=rule_set, user=rule_admin)
    rule = draft.rules.get(rule_id="REV-BP-ELEVATED")
    rule_update(rule=rule, user=rule_admin, values={"title": SCRIPT, "message": ATTRIBUTE})
    return draft


@pytest.mark.parametrize("url_name", ["rules:version", "rules:rule_edit"])
def test_rule_titles_and_messages_are_escaped(url_name, hostile_draft, rule_admin):
    args = [hostile_draft.uuid] + (["REV-BP-ELEVATED"] if url_name == "rules:rule_edit" else [])

    response = as_user(rule_admin).get(reverse(url_name, args=args))

    assert_escaped(response, SCRIPT)
    assert "<img src=x" not in response.content.decode().lower()


def test_rule_text_errors_are_escaped(hostile_draft, rule_admin):
    url = reverse("rules:rule_edit", args=[hostile_draft.uuid, "REV-BP-ELEVATED"])
    client = as_user(rule_admin)
    form = client.get(url).context["form"]
    data = {name: form.initial.get(name, "") or "" for name in form.fields}
    data["logic"] = f"age_years > {SCRIPT}"

    response = client.post(url, data)

    content = response.content.decode().lower()
    assert "<script>alert" not in content


def test_change_notes_are_escaped(hostile_draft, rule_set, rule_admin):
    published = rule_set_publish(version=hostile_draft, user=rule_admin, change_note=SCRIPT)
    client = as_user(rule_admin)

    for url in (reverse("rules:list"), reverse("rules:version", args=[published.uuid])):
        assert_escaped(client.get(url), SCRIPT)


def test_test_case_descriptions_are_escaped(rule_set, rule_admin):
    document = json.loads((VIGNETTES / "trd-eligible.json").read_text())
    rule_case_create(
        rule_set=rule_set,
        user=rule_admin,
        name="hostile-case",
        description=SCRIPT,
        facts=document["facts"],
        expected=document["expected"],
    )

    response = as_user(rule_admin).get(reverse("rules:case_list", args=[rule_set.uuid]))

    assert_escaped(response, SCRIPT)
