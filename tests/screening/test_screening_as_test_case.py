"""A past screening as a rule test case: a rule admin sees its facts without the patient's
identity, the published rules' outcome offered as the expected one, and saves the case."""

import re
from datetime import date

import pytest
from django.urls import reverse

from rules.cases import outcome
from rules.loader import compiled_version
from rules.models import RuleTestCase
from rules.selectors import published_version
from screening.core.models import AuditEvent
from screening.services import screening_run
from tests.factories import make_intake, make_patient
from tests.rules.conftest import case_form_data

pytestmark = pytest.mark.django_db
MRN = "CASE-0427"


@pytest.fixture
def pregnant(clinician):
    patient = make_patient(
        created_by=clinician,
        born=date(1990, 4, 27),
        mrn=MRN,
        family_name="Quenneville",
        given_names="Odalys",
    )
    intake = make_intake(patient=patient, by=clinician, pregnancy_status="pregnant")
    return screening_run(intake=intake, user=clinician, on=date(2026, 11, 24))


def page(client, screening):
    return client.get(reverse("screening:as_test_case", args=[screening.uuid]))


def test_the_rule_admin_sees_the_facts_and_outcome_but_not_the_patient(
    client, rule_admin, pregnant
):
    client.force_login(rule_admin)

    response = page(client, pregnant)

    assert response.status_code == 200
    html = response.content.decode()
    for identity in (MRN, "Quenneville", "Odalys", "1990-04-27", "27 Apr 1990"):
        assert identity not in html, identity
    assert "Contraindicated" in html
    assert "STOP-PREGNANCY" in html
    facts = response.context["form"].initial["facts"]
    assert "date_of_birth" not in facts
    assert "screening_date" not in facts
    assert facts["age_years"] == 36
    assert facts["pregnancy_status"] == "pregnant"
    version = published_version()
    expected = outcome(compiled_version(version).screen(facts, today=date(2026, 11, 24)))
    form = response.context["form"]
    assert form.initial["expected"] == expected
    assert form.initial["disposition"] == "contraindicated"
    assert form.initial["flags"] == expected["flags"]
    assert form.initial["indication_mdd"] == expected["indications"]["mdd"]
    assert re.search(r'<input[^>]*value="STOP-PREGNANCY"[^>]*checked', html)
    assert re.search(r'<option value="contraindicated" selected>Contraindicated</option>', html)


def test_saving_adds_a_case_that_passes_under_the_published_rules(client, rule_admin, pregnant):
    client.force_login(rule_admin)
    form = page(client, pregnant).context["form"]
    data = case_form_data(
        name="pregnant-from-a-screening",
        description="Copied from a past screening.",
        facts=form.fields["facts"].prepare_value(form.initial["facts"]),
        expected=form.initial["expected"],
    )

    response = client.post(reverse("screening:as_test_case", args=[pregnant.uuid]), data)

    case = RuleTestCase.objects.get(name="pregnant-from-a-screening")
    assert response.status_code == 302
    assert response["Location"] == reverse("rules:case_list", args=[case.rule_set.uuid])
    assert "date_of_birth" not in case.facts
    assert case.expected["disposition"] == "contraindicated"
    assert "STOP-PREGNANCY" in case.expected["flags"]
    event = AuditEvent.objects.filter(action__startswith="rules.case").latest("seq")
    assert MRN not in str(event.detail)


def test_a_name_already_taken_is_said_beside_the_name_and_nothing_is_lost(
    client, rule_admin, pregnant
):
    client.force_login(rule_admin)
    form = page(client, pregnant).context["form"]
    taken = RuleTestCase.objects.first().name
    data = case_form_data(
        name=taken,
        description="Typed before the clash.",
        facts=form.fields["facts"].prepare_value(form.initial["facts"]),
        expected=form.initial["expected"],
    )

    response = client.post(reverse("screening:as_test_case", args=[pregnant.uuid]), data)

    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert "Typed before the clash." in response.content.decode()


@pytest.mark.parametrize("role", ["clinician", "reviewer"])
def test_only_rule_admins_turn_screenings_into_cases(client, request, role, pregnant):
    client.force_login(request.getfixturevalue(role))
    assert page(client, pregnant).status_code == 403


def test_the_reviewer_record_gives_the_reference_and_the_rule_admin_a_link(
    client, reviewer, rule_admin, pregnant
):
    client.force_login(reviewer)
    record = client.get(reverse("screening:review", args=[pregnant.uuid])).content.decode()
    assert str(pregnant.uuid) in record
    assert reverse("screening:as_test_case", args=[pregnant.uuid]) not in record


def test_the_case_list_box_opens_a_screening_by_its_reference(client, rule_admin, pregnant):
    client.force_login(rule_admin)
    find = reverse("screening:as_test_case_find")

    opened = client.get(find, {"screening": str(pregnant.uuid)})
    garbled = client.get(find, {"screening": "CASE-0427"})

    assert opened.status_code == 302
    assert opened["Location"] == reverse("screening:as_test_case", args=[pregnant.uuid])
    assert garbled.status_code == 400
    assert "Enter a screening reference" in garbled.content.decode()
    assert (
        client.get(find, {"screening": "00000000-0000-4000-8000-000000000000"}).status_code == 404
    )
