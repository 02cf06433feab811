"""Generated intake submissions: the form, and the intake page's two buttons (Save draft, Run
screening) posted as a signed-in clinician.

Plausible submissions use the form's own choices with numbers in and out of range, questions left
out, trial rows good and bad and management counts right, wrong, missing or huge. Hostile ones add
arbitrary keys and values on top: NUL characters, lone surrogates (sent as the bytes a broken
client would send), very long text, 1e309, NaN, -0, and several values where one is expected.

Whatever is posted: never a server error. Either the page redirects to what it stored (the draft,
or the screening it ran), and what it stored is what was posted; or it shows the form again
(200, or 409 for a stale version) with every error beside the field it concerns, and nothing at
all changed: not the intake, not its trials, no screening, no audit event.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote_plus

import pytest
from django.db import models
from django.http import QueryDict
from django.utils.html import escape
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from patients.forms import MAX_TRIALS, IntakeForm, TrialForm, _range
from patients.models import Diagnosis, Intake, TrialOutcome
from patients.services import INTAKE_FIELDS
from screening.core.models import AuditEvent
from screening.models import Screening
from tests.factories import make_intake, make_patient

pytestmark = pytest.mark.django_db

FIELDS = {name: Intake._meta.get_field(name) for name in INTAKE_FIELDS}
TRIAL_FIELDS = tuple(TrialForm.base_fields)
CSSRS_FOLLOW_UPS = ("cssrs_method", "cssrs_intent", "cssrs_plan")

#: Words a non-field error may use to name what it concerns, besides the form's labels: the
#: hidden version, and the patient-record facts the engine checks (age, date of birth, sex).
NON_FIELD_SUBJECTS = ("version", "date of birth", "age", "sex at birth", "screening date")

HTTP = settings(
    max_examples=100,
    deadline=None,
    database=None,  # leave nothing behind in the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FORM = settings(HTTP, max_examples=400)


# --- what is posted -----------------------------------------------------------------------------


def _is(field: models.Field, kind: type) -> bool:  # type: ignore[type-arg]
    return isinstance(field, kind)


def mostly(usual: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usual values nine times in ten, so that whole submissions are often valid."""
    return st.sampled_from([usual] * 9 + [odd]).flatmap(lambda chosen: chosen)


def plausible_answer(name: str) -> st.SearchStrategy[list[str]]:
    """The values a browser (or a slightly wrong one) posts for one question."""
    field = FIELDS[name]
    if name == "diagnoses":
        return st.lists(st.sampled_from([*Diagnosis.values, "none"]), max_size=3, unique=True)
    if _is(field, models.BooleanField):
        one = mostly(st.sampled_from(["yes", "no", ""]), st.sampled_from(["Yes", "true", "1"]))
    elif field.choices:
        one = mostly(
            st.sampled_from(["", *(value for value, _ in field.choices)]),
            st.sampled_from(["unknown", "NONE", " none"]),
        )
    elif _is(field, models.DecimalField):
        one = mostly(
            st.decimals(min_value=0, max_value=200, places=1).map(str),
            st.sampled_from(["", "-0", "1e2", "200.05", "-0.5", "NaN", "1e309", "7,5", "sNaN"]),
        )
    else:
        low, high = _range(field)
        assert low is not None, name
        assert high is not None, name
        one = mostly(
            st.one_of(st.integers(min_value=low, max_value=high).map(str), st.just("")),
            st.sampled_from([str(low - 1), str(high + 1), " 7 ", "7.0", "7.5", "1e3", "-0", "x"]),
        )
    return one.map(lambda value: [value])


trial_values = {
    "drug": mostly(st.sampled_from(["sertraline", "venlafaxine XL"]), st.text(max_size=90)),
    "weeks_at_adequate_dose": mostly(
        st.integers(min_value=0, max_value=104).map(str),
        st.sampled_from(["", "-1", "105", "6.0", "six"]),
    ),
    "outcome": mostly(st.sampled_from(TrialOutcome.values), st.sampled_from(["", "cured"])),
}
trial_rows = st.lists(
    mostly(
        st.fixed_dictionaries(trial_values),
        st.fixed_dictionaries({}, optional=trial_values),  # a row partly filled, or blank
    ),
    max_size=4,
)

#: Symbolic choices resolved against the intake in each example (see `resolve`).
versions = mostly(
    st.just("current"),
    st.sampled_from(["stale", "ahead", "stale", "ahead", "missing", "0", "seven", "1e309"]),
)
total_forms = mostly(
    st.just("rows"), st.sampled_from(["missing", "", "-1", "0", "3", "many", "41", "9" * 7])
)
initial_forms = mostly(st.just("stored"), st.sampled_from(["0", "missing", "99999", "x"]))


@st.composite
def plausible(draw: st.DrawFn) -> dict[str, Any]:
    answers = draw(
        st.fixed_dictionaries({}, optional={n: plausible_answer(n) for n in INTAKE_FIELDS})
    )
    rows = draw(trial_rows)
    if draw(st.booleans()):  # often say, consistently, whether trials are listed
        listed = any(value.strip() for row in rows for value in row.values())
        answers["antidepressant_trials_recorded"] = ["listed" if listed else "none"]
    return {
        "answers": answers,
        "trials": rows,
        "version": draw(versions),
        "total_forms": draw(total_forms),
        "initial_forms": draw(initial_forms),
        "extra": [],
    }


any_text = st.text(st.characters(exclude_categories=()), max_size=30)  # lone surrogates too
hostile_values = st.one_of(
    any_text,
    st.sampled_from(
        ["\x00", "yes\x00", "\ud800", "1e309", "-1e309", "NaN", "-0", "inf", "0x1F", "١٩", "[]"]
    ),
    st.builds(
        lambda piece, times: piece * times,
        st.sampled_from(["a", "\x00", "é", "9", "\udfff"]),
        st.integers(min_value=100, max_value=300_000),
    ),
)
hostile_keys = st.one_of(
    st.sampled_from(
        [
            *INTAKE_FIELDS,
            "version",
            "action",
            "trials-TOTAL_FORMS",
            "trials-INITIAL_FORMS",
            "trials-MAX_NUM_FORMS",
            *(f"trials-{i}-{name}" for i in (0, 1, 40) for name in TRIAL_FIELDS),
        ]
    ),
    any_text,
)


@st.composite
def hostile(draw: st.DrawFn) -> dict[str, Any]:
    submission = draw(plausible())
    submission["extra"] = draw(st.lists(st.tuples(hostile_keys, hostile_values), max_size=6))
    return submission


def resolve(submission: dict[str, Any], intake: Intake, action: str) -> list[tuple[str, str]]:
    """The submission as (key, value) pairs in posting order, against the intake as stored."""
    pairs: list[tuple[str, str]] = [("action", action)]
    version = {
        "current": str(intake.version),
        "stale": str(intake.version - 1),
        "ahead": str(intake.version + 1),
    }.get(submission["version"], submission["version"])
    if version != "missing":
        pairs.append(("version", version))
    for name, values in submission["answers"].items():
        pairs.extend((name, value) for value in values)
    rows = submission["trials"]
    counts = {
        "TOTAL_FORMS": {"rows": str(len(rows))}.get(
            submission["total_forms"], submission["total_forms"]
        ),
        "INITIAL_FORMS": {"stored": str(intake.trials.count())}.get(
            submission["initial_forms"], submission["initial_forms"]
        ),
        "MIN_NUM_FORMS": "0",
        "MAX_NUM_FORMS": "1000",
    }
    pairs.extend((f"trials-{key}", value) for key, value in counts.items() if value != "missing")
    for index, row in enumerate(rows):
        pairs.extend((f"trials-{index}-{name}", value) for name, value in row.items())
    return pairs + list(submission["extra"])


def encoded(pairs: list[tuple[str, str]]) -> str:
    """A urlencoded body; lone surrogates go out as the (invalid UTF-8) bytes they encode to."""

    def quote(text: str) -> str:
        return quote_plus(text.encode("utf-8", "surrogatepass"))

    return "&".join(f"{quote(key)}={quote(value)}" for key, value in pairs)


# --- what was stored ----------------------------------------------------------------------------


def stored_state(intake: Intake) -> dict[str, Any]:
    return {
        "intake": Intake.objects.filter(pk=intake.pk).values().get(),
        "trials": list(
            intake.trials.order_by("position").values_list(
                "drug", "weeks_at_adequate_dose", "outcome"
            )
        ),
        "screenings": list(Screening.objects.filter(intake=intake).values_list("uuid", flat=True)),
        "audit_events": AuditEvent.objects.count(),
    }


def _whole_number(raw: str) -> int:
    return int(re.sub(r"\.0*\s*$", "", raw))


def expected_values(posted: QueryDict) -> dict[str, Any]:
    """What an accepted post stores, worked out independently of the form."""
    values: dict[str, Any] = {}
    for name, field in FIELDS.items():
        raw = posted.get(name) or ""
        if name == "diagnoses":
            ticked = set(posted.getlist(name))
            values[name] = None if not ticked else [d for d in Diagnosis.values if d in ticked]
        elif _is(field, models.BooleanField):
            values[name] = {"yes": True, "no": False}.get(raw)
        elif field.choices:
            values[name] = raw
        elif _is(field, models.DecimalField):
            values[name] = Decimal(raw.strip()) if raw else None
        else:
            values[name] = _whole_number(raw) if raw else None
    if values["cssrs_active_thoughts"] is not True:
        values.update(dict.fromkeys(CSSRS_FOLLOW_UPS))
    return values


def expected_trials(posted: QueryDict) -> list[tuple[str, int, str]]:
    if posted.get("antidepressant_trials_recorded") != "listed":
        return []
    rows = []
    for index in range(_whole_number(posted["trials-TOTAL_FORMS"])):
        drug, weeks, outcome = (posted.get(f"trials-{index}-{n}", "") for n in TRIAL_FIELDS)
        if drug.strip() or weeks or outcome:
            rows.append((drug.strip(), _whole_number(weeks), outcome))
    return rows


# --- the properties -----------------------------------------------------------------------------


def field_block(page: str, name: str) -> str:
    """The HTML of one field's wrapper (`div_id_<name>` up to the next field's)."""
    start = page.index(f'id="div_id_{name}"')
    following = page.find('id="div_id_', start + 1)
    return page[start : following if following != -1 else len(page)]


def assert_every_error_names_its_field(form: IntakeForm, page: str) -> None:
    labels = [str(field.label).lower() for field in form.fields.values()]
    for name, messages in form.errors.items():
        if name == "__all__":
            for message in messages:
                assert escape(message) in page
                assert any(s in message.lower() for s in (*labels, *NON_FIELD_SUBJECTS)), message
            continue
        assert name in form.fields, name
        assert name != "version"  # its error is moved above the form, in words
        for message in messages:
            assert escape(message) in field_block(page, name), (name, message)
    for problem in form.trials.non_form_errors():  # said in words beside the trials question
        assert "antidepressant_trials_recorded" in form.errors
        assert escape(problem) not in page
    for index, errors in enumerate(form.trials.errors):
        for name, messages in errors.items():
            assert name in TRIAL_FIELDS, name
            for message in messages:
                assert escape(message) in field_block(page, f"trials-{index}-{name}")


def assert_accepted(response, intake: Intake, before: dict[str, Any], posted: QueryDict) -> None:
    after = stored_state(intake)
    stored = after["intake"]
    unchanged = {name: before["intake"][name] for name in INTAKE_FIELDS} == expected_values(
        posted
    ) and before["trials"] == expected_trials(posted)
    if unchanged and posted.get("action") != "run":
        # Saving the answers the intake already holds changes nothing, not even its version.
        assert stored["version"] == before["intake"]["version"]
        assert after["audit_events"] == before["audit_events"]
    else:
        assert stored["version"] == before["intake"]["version"] + 1
    location = response["Location"]
    new_screenings = set(after["screenings"]) - set(before["screenings"])
    if posted.get("action") == "run":
        [screening] = new_screenings
        assert location == f"/screenings/{screening}/"
    else:
        assert location == f"/intakes/{intake.uuid}/"
        assert not new_screenings
    assert {name: stored[name] for name in INTAKE_FIELDS} == expected_values(posted)
    assert after["trials"] == expected_trials(posted)


def assert_rejected(response, intake: Intake, before: dict[str, Any], posted: QueryDict) -> None:
    assert stored_state(intake) == before, "a refused post changed something"
    if response.status_code in (400, 413):  # refused before the form: over Django's limits
        return  # (400: too many fields) or over REQUEST_MAX_BODY_BYTES (413)
    form = response.context["form"]
    assert isinstance(form, IntakeForm)
    page = response.content.decode()
    if response.status_code == 409:
        assert response.context["conflict"]
        assert posted.get("version") != str(before["intake"]["version"])
        assert "Another clinician saved this intake after you opened it." in page
    else:
        assert form.errors or form.trials.total_error_count()
        assert "Nothing was saved" in page
    assert_every_error_names_its_field(form, page)


def post_and_check(client, intake: Intake, pairs: list[tuple[str, str]]) -> None:
    before = stored_state(intake)
    body = encoded(pairs)

    response = client.post(
        f"/intakes/{intake.uuid}/", body, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code in (200, 302, 400, 409, 413, 422), response.status_code
    event(f"answered {response.status_code}")
    posted = QueryDict(body)
    if response.status_code == 302:
        assert_accepted(response, intake, before, posted)
    else:
        assert_rejected(response, intake, before, posted)


#: Where an example starts: who the patient is, and what their intake already holds.
STARTS = {
    "blank": {"sex": "female", "born": date(1984, 3, 1), "filled": False},
    "eligible": {"sex": "female", "born": date(1984, 3, 1), "filled": True},
    # The engine refuses some answers for these patients (a male patient "pregnant"; an age
    # over 120), so running the screening can be refused after the form accepted the answers.
    "male": {"sex": "male", "born": date(1980, 1, 1), "filled": True},
    "aged": {"sex": "intersex", "born": date(1900, 1, 1), "filled": False},
}
starts = st.sampled_from(sorted(STARTS))


def new_intake(clinician, start: str) -> Intake:
    """A fresh patient and intake for each example, so no example sees another's changes."""
    sex, born, filled = STARTS[start].values()
    patient = make_patient(created_by=clinician, sex=sex, born=born)
    if not filled:
        return Intake.objects.create(patient=patient, created_by=clinician, updated_by=clinician)
    intake = make_intake(patient=patient, by=clinician)
    Intake.objects.filter(pk=intake.pk).update(version=3)  # so a stale version is a real one
    intake.refresh_from_db()
    return intake


@pytest.fixture
def signed_in(client, clinician):
    client.force_login(clinician)
    return client


def explicit(**given: Any) -> dict[str, Any]:
    """A submission for `@example`: nothing answered, current version and counts, unless
    `given`."""
    base = {"answers": {}, "trials": [], "version": "current", "extra": []}
    return {**base, "total_forms": "rows", "initial_forms": "stored", **given}


TRIAL = {"drug": "sertraline", "weeks_at_adequate_dose": "8", "outcome": "no_response"}
STORED_TRIALS = [  # the trials `make_intake` stores, as posted
    TRIAL,
    {"drug": "venlafaxine", "weeks_at_adequate_dose": "6", "outcome": "partial_response"},
]


@pytest.mark.parametrize("action", ["save", "run"])
@HTTP
@given(start=starts, submission=plausible())
# Found by this test: a TOTAL_FORMS of millions built 1,040 trial forms (seconds, a 2 MB page)
# and said "Please submit at most 40 forms." above the trial list, beside no field.
@example(start="blank", submission=explicit(total_forms="9" * 7))
@example(start="blank", submission=explicit(total_forms="missing"))
# Found while fuzzing the form: posted with INITIAL_FORMS 0, rows equal to the stored trials
# at their index were skipped unvalidated, and saving silently kept only the new row.
@example(
    start="eligible",
    submission=explicit(
        answers={"antidepressant_trials_recorded": ["listed"]},
        trials=[*STORED_TRIALS, {**TRIAL, "drug": "bupropion"}],
        initial_forms="0",
    ),
)
@example(start="eligible", submission=explicit(version="stale"))
@example(start="male", submission=explicit(answers={"pregnancy_status": ["pregnant"]}))
@example(start="aged", submission=explicit())
def test_plausible_submissions_are_stored_as_posted_or_refused_beside_each_field(
    signed_in, clinician, action, start, submission
):
    intake = new_intake(clinician, start)

    post_and_check(signed_in, intake, resolve(submission, intake, action))


@HTTP
@given(action=st.sampled_from(["save", "run"]), start=starts, submission=hostile())
def test_hostile_submissions_never_cause_a_server_error_or_a_partial_save(
    signed_in, clinician, action, start, submission
):
    intake = new_intake(clinician, start)

    post_and_check(signed_in, intake, resolve(submission, intake, action))


# --- the form alone, for many more examples ----------------------------------------------------


@pytest.fixture
def stored_intake(clinician):
    return new_intake(clinician, "eligible")


@FORM
@given(submission=st.one_of(plausible(), hostile()))
def test_the_form_accepts_only_what_can_be_stored_and_names_a_field_for_every_error(
    stored_intake, submission
):
    posted = QueryDict(encoded(resolve(submission, stored_intake, "save")))
    form = IntakeForm(posted, intake=stored_intake)

    if not form.is_valid():
        assert form.errors or form.trials.total_error_count()
        assert set(form.errors) <= {*form.fields, "__all__"} - {"version"}
        if form.trials.non_form_errors():
            assert "antidepressant_trials_recorded" in form.errors
        for errors in form.trials.errors:
            assert set(errors) <= set(TRIAL_FIELDS)
        return
    assert form.values == expected_values(posted)
    assert [tuple(row.values()) for row in form.trial_rows] == expected_trials(posted)
    assert len(form.trial_rows) <= MAX_TRIALS


def test_a_trial_count_of_millions_builds_forty_rows_and_is_refused_beside_the_trials_question(
    signed_in, clinician
):
    intake = new_intake(clinician, "blank")
    pairs = resolve(explicit(total_forms="9" * 7), intake, "save")

    response = signed_in.post(
        f"/intakes/{intake.uuid}/", encoded(pairs), content_type="application/x-www-form-urlencoded"
    )

    form = response.context["form"]
    assert response.status_code == 200
    assert len(form.trials.forms) == MAX_TRIALS
    assert form.errors["antidepressant_trials_recorded"] == ["List at most 40 trials."]
    page = response.content.decode()
    assert "List at most 40 trials." in field_block(page, "antidepressant_trials_recorded")
    assert "Please submit at most" not in page
