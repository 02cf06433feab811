"""The patient and intake forms: not recorded is never "no", and what the services receive."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from crispy_forms.utils import render_crispy_form
from django.utils import timezone

from patients.forms import IntakeForm, PatientForm
from patients.models import Intake, TrialsRecorded
from patients.services import INTAKE_FIELDS
from tests.factories import ELIGIBLE_TRD, TWO_FAILED_TRIALS, make_intake, make_patient
from tests.patients.conftest import eligible_data, intake_data

pytestmark = pytest.mark.django_db

YES_NO_FIELDS = [
    name
    for name in INTAKE_FIELDS
    if Intake._meta.get_field(name).get_internal_type() == "BooleanField"
]
CHOICE_FIELDS = [
    name
    for name in INTAKE_FIELDS
    if Intake._meta.get_field(name).choices and name not in YES_NO_FIELDS
]


@pytest.fixture
def intake(patient, clinician):
    return Intake.objects.create(patient=patient, created_by=clinician, updated_by=clinician)


def bound(intake, **kwargs):
    form = IntakeForm(intake_data(intake, **kwargs), intake=intake)
    return form


def valid(intake, **kwargs):
    form = bound(intake, **kwargs)
    assert form.is_valid(), (form.errors, form.trials.errors, form.trials.non_form_errors())
    return form


# --- yes / no / not recorded ------------------------------------------------------------------


@pytest.mark.parametrize(("posted", "stored"), [("yes", True), ("no", False), ("", None)])
@pytest.mark.parametrize("name", ["breastfeeding", "takes_maoi", "has_escort_home"])
def test_yes_no_not_recorded_map_to_true_false_none(intake, name, posted, stored):
    data = intake_data(intake)
    data[name] = posted

    form = IntakeForm(data, intake=intake)

    assert form.is_valid(), form.errors
    assert form.values[name] is stored


def test_a_question_missing_from_the_post_is_not_recorded_rather_than_no(intake):
    data = intake_data(intake)
    for name in YES_NO_FIELDS:
        del data[name]

    form = IntakeForm(data, intake=intake)

    assert form.is_valid(), form.errors
    assert all(form.values[name] is None for name in YES_NO_FIELDS)


def test_every_yes_no_question_offers_yes_no_and_not_recorded(intake):
    form = IntakeForm(intake=intake)

    for name in YES_NO_FIELDS:
        assert [label for _, label in form.fields[name].choices] == ["Yes", "No", "Not recorded"]


def test_every_choice_question_has_an_explicit_not_recorded_option(intake):
    form = IntakeForm(intake=intake)

    for name in CHOICE_FIELDS:
        assert form.fields[name].choices[0] == ("", "Not recorded"), name


def test_a_new_intake_shows_not_recorded_checked_and_stored_answers_checked(patient, clinician):
    intake = make_intake(patient=patient, by=clinician, breastfeeding=None, takes_opioid=True)

    html = _rendered(IntakeForm(intake=intake))

    assert re.search(r'value=""[^>]*id="id_breastfeeding_2" checked', html)
    assert re.search(r'value="yes"[^>]*id="id_takes_opioid_0" checked', html)
    assert re.search(r'value="no"[^>]*id="id_takes_maoi_1" checked', html)


def test_an_unknown_yes_no_answer_is_refused(intake):
    data = intake_data(intake)
    data["takes_maoi"] = "maybe"

    form = IntakeForm(data, intake=intake)

    assert not form.is_valid()
    assert "takes_maoi" in form.errors


def test_a_choice_left_not_recorded_is_blank(intake):
    form = valid(intake, answers={"pregnancy_status": "", "hepatic_impairment": "mild"})

    assert form.values["pregnancy_status"] == ""
    assert form.values["hepatic_impairment"] == "mild"


# --- diagnoses --------------------------------------------------------------------------------


def test_no_diagnosis_ticked_is_not_recorded(intake):
    assert valid(intake).values["diagnoses"] is None


def test_none_of_these_conditions_is_an_empty_list(intake):
    data = intake_data(intake)
    data["diagnoses"] = ["none"]

    form = IntakeForm(data, intake=intake)

    assert form.is_valid(), form.errors
    assert form.values["diagnoses"] == []


def test_ticked_conditions_are_kept_in_catalogue_order(intake):
    data = intake_data(intake)
    data["diagnoses"] = ["ptsd", "mdd"]

    form = IntakeForm(data, intake=intake)

    assert form.is_valid(), form.errors
    assert form.values["diagnoses"] == ["mdd", "ptsd"]


def test_none_of_these_with_a_condition_is_an_error_on_diagnoses(intake):
    data = intake_data(intake)
    data["diagnoses"] = ["none", "gad"]

    form = IntakeForm(data, intake=intake)

    assert not form.is_valid()
    assert "cannot be ticked together" in form.errors["diagnoses"][0]


def test_an_unknown_diagnosis_is_refused(intake):
    data = intake_data(intake)
    data["diagnoses"] = ["schizophrenia"]

    assert "diagnoses" in IntakeForm(data, intake=intake).errors


@pytest.mark.parametrize(
    ("stored", "ticked"), [(None, []), ([], ["none"]), (["mdd", "gad"], ["mdd", "gad"])]
)
def test_stored_diagnoses_tick_the_right_boxes(patient, clinician, stored, ticked):
    intake = make_intake(patient=patient, by=clinician, diagnoses=stored)

    assert IntakeForm(intake=intake)["diagnoses"].value() == ticked


# --- antidepressant trials --------------------------------------------------------------------


def test_listed_trials_reach_the_service_in_page_order(intake):
    form = valid(
        intake,
        answers={"antidepressant_trials_recorded": TrialsRecorded.LISTED},
        trials=TWO_FAILED_TRIALS,
    )

    assert form.values["antidepressant_trials_recorded"] == "listed"
    assert form.trial_rows == list(TWO_FAILED_TRIALS)


def test_blank_trial_rows_are_ignored(intake):
    rows = [TWO_FAILED_TRIALS[0], {"drug": "", "weeks_at_adequate_dose": "", "outcome": ""}]

    form = valid(intake, answers={"antidepressant_trials_recorded": "listed"}, trials=rows)

    assert form.trial_rows == [TWO_FAILED_TRIALS[0]]


def test_a_partly_filled_trial_row_names_what_is_missing(intake):
    rows = [{"drug": "sertraline", "weeks_at_adequate_dose": "", "outcome": ""}]

    form = bound(intake, answers={"antidepressant_trials_recorded": "listed"}, trials=rows)

    assert not form.is_valid()
    assert form.trials.errors[0] == {
        "weeks_at_adequate_dose": ["Enter the weeks at an adequate dose (0–104)."],
        "outcome": ["Choose the outcome."],
    }


@pytest.mark.parametrize(("weeks", "ok"), [(0, True), (104, True), (105, False), (-1, False)])
def test_weeks_at_adequate_dose_is_0_to_104(intake, weeks, ok):
    rows = [{"drug": "sertraline", "weeks_at_adequate_dose": weeks, "outcome": "no_response"}]

    form = bound(intake, answers={"antidepressant_trials_recorded": "listed"}, trials=rows)

    assert form.is_valid() is ok


def test_a_drug_name_longer_than_80_characters_is_refused(intake):
    rows = [{"drug": "x" * 81, "weeks_at_adequate_dose": 8, "outcome": "no_response"}]

    form = bound(intake, answers={"antidepressant_trials_recorded": "listed"}, trials=rows)

    assert not form.is_valid()
    assert "drug" in form.trials.errors[0]


def test_trials_listed_without_any_trial_is_an_error(intake):
    form = bound(intake, answers={"antidepressant_trials_recorded": "listed"})

    assert not form.is_valid()
    assert "Add at least one trial" in form.errors["antidepressant_trials_recorded"][0]


@pytest.mark.parametrize("recorded", ["", "none"])
def test_trials_entered_under_another_answer_are_an_error_not_silently_dropped(intake, recorded):
    form = bound(
        intake, answers={"antidepressant_trials_recorded": recorded}, trials=TWO_FAILED_TRIALS
    )

    assert not form.is_valid()
    assert "choose “Trials listed below”" in form.errors["antidepressant_trials_recorded"][0]


@pytest.mark.parametrize("recorded", ["", "none"])
def test_not_recorded_or_none_tried_sends_no_trials(intake, recorded):
    form = valid(intake, answers={"antidepressant_trials_recorded": recorded})

    assert form.values["antidepressant_trials_recorded"] == recorded
    assert form.trial_rows == []


def test_stored_trials_are_the_formset_rows_plus_one_blank_row(patient, clinician):
    intake = make_intake(patient=patient, by=clinician)

    form = IntakeForm(intake=intake)

    assert [f.initial for f in form.trials.forms[:2]] == list(TWO_FAILED_TRIALS)
    assert len(form.trials.forms) == 3


def test_a_tampered_trial_management_form_is_an_error_not_a_crash(intake):
    data = intake_data(intake)
    del data["trials-TOTAL_FORMS"]

    form = IntakeForm(data, intake=intake)

    assert not form.is_valid()
    assert form.trials.non_form_errors()


# --- C-SSRS follow-up questions ---------------------------------------------------------------

FOLLOW_UPS = ("cssrs_method", "cssrs_intent", "cssrs_plan")


@pytest.mark.parametrize("q2", [False, None])
def test_q3_to_q5_are_cleared_unless_q2_is_yes(intake, q2):
    answers = {"cssrs_active_thoughts": q2, **dict.fromkeys(FOLLOW_UPS, True)}

    form = valid(intake, answers=answers)

    assert [form.values[name] for name in FOLLOW_UPS] == [None, None, None]


def test_q3_to_q5_are_kept_when_q2_is_yes(intake):
    answers = {"cssrs_active_thoughts": True, "cssrs_method": True, "cssrs_intent": False}

    form = valid(intake, answers=answers)

    assert [form.values[name] for name in FOLLOW_UPS] == [True, False, None]


# --- blood pressure and ranges ----------------------------------------------------------------


@pytest.mark.parametrize(("systolic", "diastolic"), [(120, 130), (120, 120)])
def test_diastolic_not_below_systolic_is_an_error_on_diastolic(intake, systolic, diastolic):
    form = bound(intake, answers={"systolic_bp": systolic, "diastolic_bp": diastolic})

    assert not form.is_valid()
    assert form.errors["diastolic_bp"] == [
        f"Diastolic pressure must be lower than systolic pressure ({systolic} mmHg)."
    ]
    assert "systolic_bp" not in form.errors


@pytest.mark.parametrize(
    "answers", [{"systolic_bp": 120, "diastolic_bp": 80}, {"diastolic_bp": 80}]
)
def test_diastolic_below_systolic_or_alone_is_accepted(intake, answers):
    assert valid(intake, answers=answers).values["diastolic_bp"] == 80


@pytest.mark.parametrize(
    ("name", "value", "ok"),
    [
        ("phq9_total", 27, True),
        ("phq9_total", 28, False),
        ("phq9_item9", 4, False),
        ("gad7_total", 22, False),
        ("pcl5_total", 80, True),
        ("ybocs_total", 41, False),
        ("pain_nrs", -1, False),
        ("failed_anxiety_treatments", 21, False),
        ("systolic_bp", 59, False),
        ("systolic_bp", 300, True),
        ("diastolic_bp", 29, False),
        ("heart_rate", 251, False),
        ("heart_rate", 20, True),
        ("benzodiazepine_dose_mg_diazepam_eq", 0, True),
        ("benzodiazepine_dose_mg_diazepam_eq", "12.5", True),
        ("benzodiazepine_dose_mg_diazepam_eq", "200.5", False),
        ("benzodiazepine_dose_mg_diazepam_eq", "-1", False),
    ],
)
def test_numbers_must_be_within_their_range(intake, name, value, ok):
    form = bound(intake, answers={name: value})

    assert form.is_valid() is ok
    assert (name in form.errors) is not ok


def test_a_number_left_blank_is_not_recorded(intake):
    form = valid(intake)

    assert form.values["phq9_total"] is None
    assert form.values["benzodiazepine_dose_mg_diazepam_eq"] is None


def test_not_a_number_is_an_error_beside_the_field(intake):
    form = bound(intake, answers={"phq9_total": "nineteen"})

    assert not form.is_valid()
    assert form.errors["phq9_total"] == ["Enter a whole number."]


def test_the_eligible_answers_are_valid_and_complete(intake):
    form = IntakeForm(eligible_data(intake), intake=intake)

    assert form.is_valid(), form.errors
    unanswered = set(INTAKE_FIELDS) - set(ELIGIBLE_TRD)
    expected = {
        **dict.fromkeys(unanswered),
        **ELIGIBLE_TRD,
        "benzodiazepine_dose_mg_diazepam_eq": Decimal(0),
    }
    assert form.values == expected
    assert form.trial_rows == list(TWO_FAILED_TRIALS)


# --- version, service errors, layout ----------------------------------------------------------


def test_a_missing_version_is_a_form_error_not_a_crash(intake):
    data = intake_data(intake)
    del data["version"]

    form = IntakeForm(data, intake=intake)

    assert not form.is_valid()
    assert "reload the intake" in form.non_field_errors()[0]


def test_engine_errors_land_beside_their_field_in_words(intake):
    form = valid(intake)

    form.add_service_errors(
        {
            "pregnancy_status": ["pregnancy_status cannot be pregnant when sex_at_birth is male"],
            "__all__": ["date_of_birth gives an age over 120 years"],
        }
    )

    assert form.errors["pregnancy_status"] == [
        "Pregnancy status cannot be pregnant when sex at birth is male"
    ]
    assert form.non_field_errors() == ["Date of birth gives an age over 120 years"]


def test_validating_does_not_change_the_intake_object(patient, clinician):
    intake = make_intake(patient=patient, by=clinician, phq9_total=19)

    IntakeForm(intake_data(intake, answers={"phq9_total": 5}), intake=intake).is_valid()

    assert intake.phq9_total == 19


def _rendered(form):
    return render_crispy_form(form)


def test_every_intake_field_is_laid_out_once_with_crispy_ids(intake):
    form = IntakeForm(intake=intake)
    laid_out = [pointer.name for pointer in form.helper.layout.get_field_names()]

    assert sorted(laid_out) == sorted([*INTAKE_FIELDS, "version"])
    html = _rendered(form)
    for name in INTAKE_FIELDS:
        assert html.count(f'id="div_id_{name}"') == 1, name
        assert html.count(f'id="id_{name}"') == 1, name


@pytest.mark.parametrize(
    "anchor",
    [
        "id_pregnancy_status",
        "id_cssrs_active_thoughts",
        "id_antidepressant_trials_recorded",
        "id_diagnoses",
        "id_systolic_bp",
    ],
)
def test_result_page_anchors_are_on_the_question(intake, anchor):
    html = _rendered(IntakeForm(intake=intake))
    name = anchor.removeprefix("id_")

    target = re.search(rf'<(\w+)\b[^>]*\bid="{anchor}"[^>]*>', html)

    assert target is not None
    assert html.index(f'id="div_{anchor}"') < target.start()
    if target.group(1) in ("input", "select"):
        assert f'name="{name}"' in target.group(0)
    else:
        assert target.group(1) == "fieldset"
        group = html[target.end() : html.index("</fieldset>", target.end())]
        assert group.count(f'name="{name}"') >= 3


def test_units_and_ranges_are_shown(intake):
    html = _rendered(IntakeForm(intake=intake))

    for text in ("mmHg (60–300).", "mmHg (30–200).", "Beats per minute (20–250).", "0–27", "0–104"):
        assert text in html
    assert "mg diazepam equivalents (0–200); 0 = not taking" in html
    assert html.count(">mmHg<") == 2
    assert ">bpm<" in html


def test_q3_to_q5_sit_in_a_wrapper_that_follows_q2(intake):
    html = _rendered(IntakeForm(intake=intake))
    start = html.index('id="cssrs-follow-ups"')
    wrapper = html[start : html.index('id="div_id_cssrs_behavior_past_3_months"')]

    assert 'data-follows="cssrs_active_thoughts"' in html[start - 200 : start + 200]
    for name in FOLLOW_UPS:
        assert f'id="div_id_{name}"' in wrapper


def test_read_only_form_disables_every_input_and_has_no_buttons(patient, clinician):
    intake = make_intake(patient=patient, by=clinician)

    html = _rendered(IntakeForm(intake=intake, read_only=True))

    inputs = re.findall(r"<(?:input|select)\b[^>]*>", html)
    visible = [tag for tag in inputs if 'type="hidden"' not in tag]
    assert visible
    assert all(" disabled" in tag for tag in visible)
    assert "Run screening" not in html
    assert "Save draft" not in html
    assert "data-trial-add" not in html
    assert 'value="sertraline"' in html


def test_patient_age_is_computed_today(patient, clinician):
    intake = make_intake(patient=patient, by=clinician)
    today = timezone.localdate()
    expected = today.year - 1984 - ((today.month, today.day) < (3, 1))

    assert IntakeForm(intake=intake).patient_age == expected


# --- patients ---------------------------------------------------------------------------------


def patient_data(**changes):
    return {
        "mrn": "MRN-7001",
        "family_name": "Okafor",
        "given_names": "Ada",
        "date_of_birth": "1979-06-02",
        "sex_at_birth": "female",
        **changes,
    }


def test_a_complete_registration_is_valid():
    form = PatientForm(patient_data(mrn="  MRN-7001 "))

    assert form.is_valid(), form.errors
    assert form.cleaned_data["mrn"] == "MRN-7001"
    assert form.cleaned_data["date_of_birth"] == date(1979, 6, 2)


@pytest.mark.parametrize("typed", ["MRN1500", "mrn1500"])
def test_an_mrn_already_registered_is_refused_with_a_clear_message(clinician, typed):
    make_patient(created_by=clinician, mrn="MRN1500")

    form = PatientForm(patient_data(mrn=typed))

    assert not form.is_valid()
    assert form.errors["mrn"] == [
        f"A patient with medical record number {typed} is already registered: search the "
        "patient list for them instead of registering them again."
    ]


def test_a_date_of_birth_in_the_future_is_refused():
    tomorrow = timezone.localdate() + timedelta(days=1)

    form = PatientForm(patient_data(date_of_birth=tomorrow.isoformat()))

    assert form.errors["date_of_birth"] == ["The date of birth cannot be in the future."]


def test_a_date_of_birth_over_120_years_ago_is_refused():
    form = PatientForm(patient_data(date_of_birth="1890-01-01"))

    assert "over 120 years" in form.errors["date_of_birth"][0]


@pytest.mark.parametrize("missing", ["mrn", "family_name", "given_names", "sex_at_birth"])
def test_every_registration_field_is_required(missing):
    form = PatientForm(patient_data(**{missing: "  "}))

    assert missing in form.errors


def test_sex_at_birth_offers_exactly_the_three_values():
    assert [value for value, _ in PatientForm().fields["sex_at_birth"].choices] == [
        "female",
        "male",
        "intersex",
    ]


# --- the version-2 questions ---------------------------------------------------------------------

#: Each version-2 question, the section the form asks it in, and words of its help text (the
#: data dictionary's notes).
VERSION_2_QUESTIONS = {
    "bp_rise_serious_hazard": ("medical", "phaeochromocytoma or paraganglioma"),
    "respiratory_compromise": ("medical", "obstructive sleep apnoea, COPD"),
    "bladder_symptoms_or_cystitis": ("medical", "ketamine-associated uropathy"),
    "other_cns_depressant_use": ("medications", "gabapentin/pregabalin, Z-drugs"),
    "planned_formulation": ("plan", "oral includes sublingual"),
}


def _section_of(html: str, name: str) -> str:
    """The slug of the intake section whose block holds the question `name`."""
    position = html.index(f'id="div_id_{name}"')
    return re.findall(r'id="section-([a-z-]+)"', html[:position])[-1]


@pytest.mark.parametrize(("name", "where"), VERSION_2_QUESTIONS.items())
def test_each_version_2_question_is_asked_in_its_section_with_the_dictionarys_help(
    intake, name, where
):
    section, help_words = where
    html = _rendered(IntakeForm(intake=intake))

    assert _section_of(html, name) == section
    block = html[html.index(f'id="div_id_{name}"') :]
    following = block.find('id="div_id_', 10)
    assert help_words in (block[:following] if following > 0 else block)


def test_the_planned_formulation_is_a_choice_with_not_recorded_and_undecided(intake):
    field = IntakeForm(intake=intake).fields["planned_formulation"]
    assert [value for value, _ in field.choices] == [
        "",
        "esketamine_nasal",
        "racemic_iv",
        "racemic_im",
        "racemic_oral",
        "undecided",
    ]
    assert dict(field.choices)[""] == "Not recorded"


@pytest.mark.parametrize(
    ("answers", "stored"),
    [
        (
            {
                "bp_rise_serious_hazard": False,
                "respiratory_compromise": True,
                "other_cns_depressant_use": False,
                "bladder_symptoms_or_cystitis": True,
                "planned_formulation": "esketamine_nasal",
            },
            {
                "bp_rise_serious_hazard": False,
                "respiratory_compromise": True,
                "other_cns_depressant_use": False,
                "bladder_symptoms_or_cystitis": True,
                "planned_formulation": "esketamine_nasal",
            },
        ),
        (
            {},
            {
                "bp_rise_serious_hazard": None,
                "respiratory_compromise": None,
                "other_cns_depressant_use": None,
                "bladder_symptoms_or_cystitis": None,
                "planned_formulation": "",
            },
        ),
    ],
    ids=["answered", "not-recorded"],
)
def test_the_version_2_answers_reach_the_services_and_unanswered_stay_not_recorded(
    intake, answers, stored
):
    form = valid(intake, answers=answers)
    assert {name: form.values[name] for name in VERSION_2_QUESTIONS} == stored
