"""Forms for registering patients and recording intakes.

Unknown is not false: every intake question can be left *not recorded*. Yes/no questions are
three-way radios (Yes / No / Not recorded → True / False / None), choices have an explicit
"Not recorded" option (""), numbers left blank are None, and the diagnoses checkboxes map
nothing ticked → None, "None of these conditions" → [] and conditions → their list.

Layouts (crispy `FormHelper`) live here, not in templates. Every field keeps crispy's element
IDs (`div_id_<name>` around it, `id_<name>` on the input, or on the group of radios/checkboxes):
the result page links to `/intakes/<uuid>/#id_<name>` for each piece of missing information.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, cast

from crispy_forms.bootstrap import AppendedText, StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Field, Layout, Row
from crispy_forms.utils import TEMPLATE_PACK
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.text import capfirst

from patients.models import Diagnosis, Intake, Patient, SexAtBirth, TrialOutcome, TrialsRecorded
from patients.services import (
    INTAKE_FIELDS,
    age_on,
    date_of_birth_problem,
    mrn_taken,
)

NOT_RECORDED = "Not recorded"
GROUP_TEMPLATE = "patients/fields/choice_group.html"


# --- Patients -------------------------------------------------------------------------------


class PatientForm(forms.ModelForm[Patient]):
    """Register a patient: MRN unique, date of birth not in the future."""

    class Meta:
        model = Patient
        fields = ["mrn", "family_name", "given_names", "date_of_birth", "sex_at_birth"]
        labels = {"mrn": "Medical record number (MRN)"}
        widgets = {
            "date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "sex_at_birth": forms.RadioSelect,
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["date_of_birth"].widget.attrs["max"] = today.isoformat()
        # Required, so no blank "---------" radio: exactly the three values.
        cast(forms.ChoiceField, self.fields["sex_at_birth"]).choices = SexAtBirth.choices
        self.fields["mrn"].widget.attrs["autocomplete"] = "off"
        self.helper = FormHelper(self)
        self.helper.form_id = "patient-form"
        self.helper.layout = Layout(
            "mrn",
            Row(Column("family_name", css_class="col-md-6"), Column("given_names")),
            Row(
                Column("date_of_birth", css_class="col-md-4"),
                Column(Field("sex_at_birth", template=GROUP_TEMPLATE)),
            ),
            Div(
                StrictButton("Register patient", type="submit", css_class="btn-primary"),
                css_class="d-flex gap-2",
            ),
        )

    def clean_mrn(self) -> str:
        mrn = str(self.cleaned_data["mrn"]).strip()
        if not mrn:
            raise ValidationError("Enter the medical record number.")
        # Case-insensitive: "mrn0042" and "MRN0042" are the same record typed twice.
        if mrn_taken(mrn):
            raise ValidationError(
                f"A patient with medical record number {mrn} is already registered: "
                "search the patient list for them instead of registering them again."
            )
        return mrn

    def clean_family_name(self) -> str:
        return self._required_text("family_name", "Enter the family name.")

    def clean_given_names(self) -> str:
        return self._required_text("given_names", "Enter the given names.")

    def clean_date_of_birth(self) -> date:
        born: date = self.cleaned_data["date_of_birth"]
        problem = date_of_birth_problem(born, today=timezone.localdate())
        if problem:
            raise ValidationError(problem)
        return born

    def _required_text(self, name: str, message: str) -> str:
        value = str(self.cleaned_data[name]).strip()
        if not value:
            raise ValidationError(message)
        return value


class PatientSearchForm(forms.Form):
    q = forms.CharField(label="Search by MRN or name", max_length=100, required=False, strip=True)


# --- Intake fields ----------------------------------------------------------------------------


class YesNoField(forms.TypedChoiceField):
    """A yes/no question that may be left unanswered: Yes → True, No → False, Not recorded → None."""

    #: The group template marks the question (`data-yes-no`), so the page's "None of these"
    #: control finds a section's yes/no questions.
    yes_no = True

    CHOICES = (("yes", "Yes"), ("no", "No"), ("", NOT_RECORDED))

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            choices=self.CHOICES,
            coerce=lambda value: value == "yes",
            empty_value=None,
            required=False,
            widget=forms.RadioSelect,
            **kwargs,
        )

    def prepare_value(self, value: Any) -> Any:
        if value is True:
            return "yes"
        if value is False:
            return "no"
        if value is None:
            return ""
        return value


class DiagnosesField(forms.MultipleChoiceField):
    """The eight conditions plus "None of these conditions".

    Nothing ticked → None (not recorded); "none" alone → [] (none of these); conditions → their
    values in catalogue order; "none" together with a condition is a contradiction.
    """

    NONE = "none"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            choices=[*Diagnosis.choices, (self.NONE, "None of these conditions")],
            widget=forms.CheckboxSelectMultiple,
            required=False,
            **kwargs,
        )

    def clean(self, value: Any) -> list[str] | None:
        ticked = set(super().clean(value))
        if not ticked:
            return None
        if self.NONE in ticked:
            if len(ticked) > 1:
                raise ValidationError(
                    "“None of these conditions” cannot be ticked together with a condition: "
                    "untick one or the other."
                )
            return []
        return [code for code in Diagnosis.values if code in ticked]

    @classmethod
    def initial_for(cls, stored: list[str] | None) -> list[str]:
        """What to tick for a stored value ([] is "none of these"; None ticks nothing)."""
        if stored is None:
            return []
        return list(stored) or [cls.NONE]


def _range(db_field: models.Field) -> tuple[int | None, int | None]:  # type: ignore[type-arg]
    low = high = None
    for validator in db_field.validators:
        if isinstance(validator, MinValueValidator):
            low = validator.limit_value
        elif isinstance(validator, MaxValueValidator):
            high = validator.limit_value
    return low, high


def intake_formfield(db_field: models.Field, **kwargs: Any) -> forms.Field | None:  # type: ignore[type-arg]
    """Form fields for intake columns, each able to say "not recorded"."""
    label = capfirst(db_field.verbose_name)
    if isinstance(db_field, models.BooleanField):
        return YesNoField(label=label, help_text=db_field.help_text)
    if db_field.name == "antidepressant_trials_recorded":
        return forms.TypedChoiceField(
            label=label,
            help_text="Trials of conventional medication for the current depressive episode.",
            choices=[("", NOT_RECORDED), *TrialsRecorded.choices],
            required=False,
            widget=forms.RadioSelect,
        )
    if isinstance(db_field, models.CharField) and db_field.choices:
        return forms.TypedChoiceField(
            label=label,
            help_text=db_field.help_text,
            choices=[("", NOT_RECORDED), *db_field.choices],
            required=False,
        )
    if db_field.name == "diagnoses":
        return DiagnosesField(
            label="Diagnoses",
            help_text="Conditions documented by a clinician. Leave all unticked if not recorded.",
        )
    if db_field.name == "benzodiazepine_dose_mg_diazepam_eq":
        return forms.DecimalField(
            label="Benzodiazepine dose",
            help_text=db_field.help_text,
            min_value=Decimal(0),
            max_value=Decimal(200),
            max_digits=5,
            decimal_places=1,
            required=False,
        )
    if isinstance(db_field, models.IntegerField):
        low, high = _range(db_field)
        return forms.IntegerField(
            label=label,
            help_text=db_field.help_text,
            min_value=low,
            max_value=high,
            required=False,
        )
    return db_field.formfield(**kwargs)


# --- Antidepressant trials --------------------------------------------------------------------


class TrialForm(forms.Form):
    """One antidepressant trial. A row left entirely blank is ignored (it is how a page without
    JavaScript offers room for another trial); a partly filled row must be completed."""

    drug = forms.CharField(label="Drug", max_length=80, required=False)
    weeks_at_adequate_dose = forms.IntegerField(
        label="Weeks at an adequate dose",
        min_value=0,
        max_value=104,
        required=False,
        help_text="0–104",
    )
    outcome = forms.ChoiceField(
        label="Outcome", choices=[("", "Choose an outcome…"), *TrialOutcome.choices], required=False
    )

    REQUIRED = {
        "drug": "Enter the drug.",
        "weeks_at_adequate_dose": "Enter the weeks at an adequate dose (0–104).",
        "outcome": "Choose the outcome.",
    }

    def __init__(self, *args: Any, read_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read_only = read_only
        if read_only:
            for field in self.fields.values():
                field.disabled = True

    @cached_property
    def helper(self) -> FormHelper:
        # Built when the page is drawn: a submitted form that validates is never drawn.
        helper = FormHelper(self)
        helper.form_tag = False
        helper.disable_csrf = True
        helper.layout = Layout(
            Row(
                Column("drug", css_class="col-md-5"),
                Column(AppendedText("weeks_at_adequate_dose", "weeks"), css_class="col-md-3"),
                Column("outcome", css_class="col-md-4"),
            )
        )
        return helper

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        if all(cleaned.get(name) in (None, "") for name in self.REQUIRED):
            return {}
        for name, message in self.REQUIRED.items():
            if cleaned.get(name) in (None, ""):
                self.add_error(name, message)
        return cleaned

    @property
    def row(self) -> dict[str, Any] | None:
        """The trial as service input, or None for a blank row."""
        data = getattr(self, "cleaned_data", None)
        if not data:
            return None
        return {name: data[name] for name in self.REQUIRED}


class BaseTrialFormSet(forms.BaseFormSet[TrialForm]):
    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        # Every row is cleaned: a row is blank by what it holds (`TrialForm.clean`), never by
        # matching the stored trial at its index, which BaseFormSet would skip unvalidated for
        # rows past the posted INITIAL_FORMS count (silently dropping that trial on save).
        return {
            **super().get_form_kwargs(index),
            "read_only": self.read_only,
            "empty_permitted": False,
        }

    def __init__(self, *args: Any, read_only: bool = False, **kwargs: Any) -> None:
        self.read_only = read_only
        super().__init__(*args, **kwargs)
        if read_only:
            self.extra = 0

    def rows(self) -> list[dict[str, Any]]:
        """The filled-in trials, in page order (call after `is_valid()`)."""
        return [form.row for form in self.forms if form.row is not None]


#: Most trials one intake lists. Also the most rows the form builds, whatever TOTAL_FORMS says.
MAX_TRIALS = 40

TrialFormSet = cast(
    type[BaseTrialFormSet],
    forms.formset_factory(
        TrialForm,
        formset=BaseTrialFormSet,
        extra=1,
        max_num=MAX_TRIALS,
        absolute_max=MAX_TRIALS,
        validate_max=True,
    ),
)

#: The formset's own errors, about the trial list as a whole, in words (by Django's error code).
TRIAL_LIST_ERRORS = {
    "too_many_forms": f"List at most {MAX_TRIALS} trials.",
    "missing_management_form": (
        "The list of trials on this page arrived incomplete, so no trial was read: "
        "reload the intake and enter the trials again."
    ),
}


class TemplateBlock:
    """A crispy layout object rendered from a template with the form in its context."""

    def __init__(self, template: str) -> None:
        self.template = template

    def render(
        self, form: forms.BaseForm, context: Any, template_pack: Any = TEMPLATE_PACK, **kwargs: Any
    ) -> str:
        return render_to_string(self.template, {**context.flatten(), "intake_form": form})


# --- The intake -------------------------------------------------------------------------------


def _section(slug: str, title: str, *fields: Any, intro: str = "") -> Div:
    heading = format_html('<h2 class="h5 app-section-title" id="section-{}">{}</h2>', slug, title)
    parts: list[Any] = [HTML(heading)]
    if intro:
        parts.append(HTML(format_html('<p class="text-body-secondary small">{}</p>', intro)))
    # The page's script adds the section's progress and its "None of these" control here.
    return Div(
        *parts,
        *fields,
        css_class="app-intake-section card card-body mb-4",
        data_intake_section=slug,
        data_section_title=title,
    )


def _group(name: str) -> Field:
    return Field(name, template=GROUP_TEMPLATE)


def _groups(*names: str) -> list[Field]:
    return [_group(name) for name in names]


#: Section anchors and titles, in page order (the page's table of contents uses them too).
SECTIONS = (
    ("demographics", "Demographics and pregnancy"),
    ("diagnoses", "Diagnoses and current episode"),
    ("treatment", "Treatment history"),
    ("scales", "Rating scales"),
    ("suicide-risk", "Suicide risk (C-SSRS screener)"),
    ("vitals", "Vital signs"),
    ("medical", "Medical history"),
    ("psychiatric", "Psychiatric history"),
    ("medications", "Current medications"),
    ("support", "Support and integration"),
    ("plan", "Planned treatment"),
)
_TITLES = dict(SECTIONS)

#: Engine names that are not fields of the form, as words.
_FACT_WORDS = {
    "sex_at_birth": "sex at birth",
    "date_of_birth": "date of birth",
    "age_years": "age",
    "screening_date": "screening date",
    "antidepressant_trials": "antidepressant trials",
    "active_thoughts": "active suicidal thoughts",
}


class IntakeForm(forms.ModelForm[Intake]):
    """Every answer of one intake, plus its antidepressant trials (`self.trials`, a formset) and
    the `version` the clinician started from (optimistic concurrency)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    #: Answers prefilled from another source (EHR data) that the clinician ticked as confirmed,
    #: one checkbox each beside the list of prefilled answers; not an answer itself.
    prefill_confirmed = forms.MultipleChoiceField(
        choices=[(name, name) for name in INTAKE_FIELDS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Intake
        fields = list(INTAKE_FIELDS)
        formfield_callback = intake_formfield

    def __init__(
        self, data: Mapping[str, Any] | None = None, *, intake: Intake, read_only: bool = False
    ) -> None:
        super().__init__(data, instance=intake, initial={"version": intake.version})
        self.read_only = read_only
        self.patient = intake.patient
        self.initial["diagnoses"] = DiagnosesField.initial_for(intake.diagnoses)
        # A submitted trial list is read from the submission alone; only a page drawn from the
        # stored intake needs the stored trials.
        stored_trials = intake.trials.all() if data is None else []
        self.trials = TrialFormSet(
            data,
            prefix="trials",
            read_only=read_only,
            initial=[trial.as_fact() for trial in stored_trials],
        )
        if read_only:
            for field in self.fields.values():
                field.disabled = True

    # -- layout

    @cached_property
    def helper(self) -> FormHelper:
        """The page layout, built when the page is drawn (a submission that validates and is
        saved never is)."""
        helper = FormHelper(self)
        helper.form_id = "intake-form"
        # The page's script saves a working copy here as the answers change (never the intake).
        autosave = reverse("patients:intake_autosave", args=[self.instance.uuid])
        helper.attrs = {"data-intake-form": "", "data-autosave-url": autosave}
        helper.form_tag = not self.read_only
        numbers = {
            "systolic_bp": "mmHg",
            "diastolic_bp": "mmHg",
            "heart_rate": "bpm",
            "benzodiazepine_dose_mg_diazepam_eq": "mg/day",
        }

        def unit(name: str) -> AppendedText:
            return AppendedText(name, numbers[name])

        helper.layout = Layout(
            "version",
            _section(
                "demographics",
                _TITLES["demographics"],
                TemplateBlock("patients/partials/intake_patient_facts.html"),
                Row(Column("pregnancy_status", css_class="col-md-6")),
                *_groups("breastfeeding", "planning_pregnancy"),
            ),
            _section(
                "diagnoses",
                _TITLES["diagnoses"],
                _group("diagnoses"),
                Row(Column("current_mood_episode", css_class="col-md-6")),
            ),
            _section(
                "treatment",
                _TITLES["treatment"],
                _group("antidepressant_trials_recorded"),
                TemplateBlock("patients/partials/trial_formset.html"),
                Row(
                    Column("failed_anxiety_treatments", css_class="col-md-6"),
                    Column("failed_pain_treatments", css_class="col-md-6"),
                ),
            ),
            _section(
                "scales",
                _TITLES["scales"],
                Row(
                    Column("phq9_total", css_class="col-md-4"),
                    Column("phq9_item9", css_class="col-md-4"),
                    Column("gad7_total", css_class="col-md-4"),
                ),
                Row(
                    Column("pcl5_total", css_class="col-md-4"),
                    Column("ybocs_total", css_class="col-md-4"),
                    Column("pain_nrs", css_class="col-md-4"),
                ),
            ),
            _section(
                "suicide-risk",
                _TITLES["suicide-risk"],
                *_groups("cssrs_wish_dead", "cssrs_active_thoughts"),
                Div(
                    *_groups("cssrs_method", "cssrs_intent", "cssrs_plan"),
                    css_id="cssrs-follow-ups",
                    css_class="app-follow-ups border-start border-3 ps-3",
                    data_follows="cssrs_active_thoughts",
                ),
                *_groups("cssrs_behavior_past_3_months", "cssrs_behavior_lifetime"),
                intro="Questions 3 to 5 are asked only when question 2 is answered yes; "
                "otherwise their answers are not kept.",
            ),
            _section(
                "vitals",
                _TITLES["vitals"],
                Row(
                    Column(unit("systolic_bp"), css_class="col-md-4"),
                    Column(unit("diastolic_bp"), css_class="col-md-4"),
                    Column(unit("heart_rate"), css_class="col-md-4"),
                ),
            ),
            _section(
                "medical",
                _TITLES["medical"],
                *_groups(
                    "hypersensitivity_to_ketamine",
                    "aneurysmal_vascular_disease",
                    "arteriovenous_malformation",
                    "intracerebral_hemorrhage_history",
                ),
                Row(Column("cardiovascular_disease", css_class="col-md-6")),
                *_groups(
                    "hypertensive_encephalopathy_history",
                    "elevated_intracranial_pressure",
                    "elevated_intraocular_pressure",
                ),
                Row(Column("hepatic_impairment", css_class="col-md-6")),
                *_groups(
                    "cognitive_impairment",
                    "bp_rise_serious_hazard",
                    "respiratory_compromise",
                    "bladder_symptoms_or_cystitis",
                ),
            ),
            _section(
                "psychiatric",
                _TITLES["psychiatric"],
                *_groups("psychosis_current", "psychosis_history", "family_history_schizophrenia"),
                Row(Column("substance_use_disorder", css_class="col-md-6")),
                _group("ketamine_misuse_history"),
                Row(Column("prior_ketamine_response", css_class="col-md-6")),
            ),
            _section(
                "medications",
                _TITLES["medications"],
                Row(Column(unit("benzodiazepine_dose_mg_diazepam_eq"), css_class="col-md-6")),
                *_groups(
                    "takes_maoi",
                    "takes_stimulant",
                    "takes_opioid",
                    "other_cns_depressant_use",
                    "takes_lamotrigine",
                    "takes_mood_stabilizer",
                ),
            ),
            _section(
                "support",
                _TITLES["support"],
                *_groups("engaged_in_psychotherapy", "has_escort_home"),
            ),
            _section(
                "plan",
                _TITLES["plan"],
                Row(Column("planned_formulation", css_class="col-md-6")),
            ),
        )
        if not self.read_only:
            helper.layout.append(
                Div(
                    StrictButton(
                        "Save draft",
                        type="submit",
                        name="action",
                        value="save",
                        css_class="btn-outline-primary",
                    ),
                    StrictButton(
                        "Run screening",
                        type="submit",
                        name="action",
                        value="run",
                        css_class="btn-primary",
                    ),
                    # The page's script says here how many questions are answered.
                    HTML(
                        '<p class="app-intake-progress small mb-0 ms-md-auto" '
                        "data-intake-progress></p>"
                    ),
                    # Sticky (static/css/intake.css): Save and Run stay in view while scrolling.
                    css_class="app-intake-actions app-sticky-actions d-flex flex-wrap "
                    "align-items-center gap-2",
                    css_id="intake-actions",
                )
            )
        return helper

    # -- validation

    def is_valid(self) -> bool:
        trials_valid = self.trials.is_valid()
        return super().is_valid() and trials_valid

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "version" in self.errors:
            del self.errors["version"]
            self.add_error(
                None,
                "This form lost track of which version of the intake it edits: "
                "reload the intake and enter your answers again.",
            )
        self._clear_cssrs_follow_ups(cleaned)
        self._check_blood_pressure(cleaned)
        self._check_trial_list()
        self._check_trials(cleaned)
        return cleaned

    def _clear_cssrs_follow_ups(self, cleaned: dict[str, Any]) -> None:
        # Q3–Q5 are asked only after a yes to Q2: otherwise whatever was ticked is not kept.
        if cleaned.get("cssrs_active_thoughts") is not True:
            for name in ("cssrs_method", "cssrs_intent", "cssrs_plan"):
                if name in cleaned:
                    cleaned[name] = None

    def _check_blood_pressure(self, cleaned: dict[str, Any]) -> None:
        systolic, diastolic = cleaned.get("systolic_bp"), cleaned.get("diastolic_bp")
        if systolic is not None and diastolic is not None and diastolic >= systolic:
            self.add_error(
                "diastolic_bp",
                f"Diastolic pressure must be lower than systolic pressure ({systolic} mmHg).",
            )

    def _check_trial_list(self) -> None:
        # Django's words for these name its machinery ("forms", "ManagementForm"): say what they
        # mean beside the question about the trials instead.
        for error in self.trials.non_form_errors().as_data():
            message = TRIAL_LIST_ERRORS.get(str(error.code), " ".join(error.messages))
            self.add_error("antidepressant_trials_recorded", message)

    def _check_trials(self, cleaned: dict[str, Any]) -> None:
        if "antidepressant_trials_recorded" not in cleaned or not self.trials.is_valid():
            return
        recorded = cleaned["antidepressant_trials_recorded"]
        listed = bool(self.trials.rows())
        if recorded == TrialsRecorded.LISTED and not listed:
            self.add_error(
                "antidepressant_trials_recorded",
                "Add at least one trial below, or choose “None tried in this episode”.",
            )
        elif recorded != TrialsRecorded.LISTED and listed:
            self.add_error(
                "antidepressant_trials_recorded",
                "Trials are listed below: choose “Trials listed below” to keep them, "
                "or remove them.",
            )

    def _post_clean(self) -> None:
        # ModelForm copies the answers onto the intake before validating the model: work on a
        # copy, so the caller's intake still says what is stored (services read it).
        original = self.instance
        self.instance = Intake(pk=original.pk, patient=original.patient)
        super()._post_clean()  # type: ignore[misc]
        self.instance = original

    def refuse_unchecked(self, names: Sequence[str]) -> None:
        """Run was pressed with prefilled answers nobody checked: say which, beside each."""
        labels = ", ".join(str(self.fields[n].label) for n in names if n in self.fields)
        self.add_error(
            None,
            f"The screening did not run: {len(names)} answer"
            f"{'s' if len(names) != 1 else ''} prefilled from EHR data "
            f"{'are' if len(names) != 1 else 'is'} not checked yet ({labels}). Confirm, change "
            "or clear each one, then run. Nothing was saved; your answers are as you left them.",
        )
        for name in names:
            if name in self.fields:
                self.add_error(
                    name, "Prefilled from EHR data: confirm, change or clear this answer."
                )

    # -- for the services (after `is_valid()`)

    @property
    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in INTAKE_FIELDS}

    @property
    def trial_rows(self) -> list[dict[str, Any]]:
        if self.cleaned_data.get("antidepressant_trials_recorded") != TrialsRecorded.LISTED:
            return []
        return self.trials.rows()

    @property
    def expected_version(self) -> int:
        return int(self.cleaned_data["version"])

    def add_service_errors(self, errors: Mapping[str, Sequence[str]]) -> None:
        """Show `InputInvalid` errors beside their fields (`__all__` above the form)."""
        for name, messages in errors.items():
            field = name if name in self.fields else None
            for message in messages:
                self.add_error(field, self._readable(message))

    # -- display

    @property
    def patient_age(self) -> int:
        return age_on(self.patient.date_of_birth, timezone.localdate())

    def _readable(self, message: str) -> str:
        """An engine message with fact names replaced by the form's labels."""

        def word(match: re.Match[str]) -> str:
            token = match.group(0)
            name = "cssrs_" + token.split(".", 1)[1] if token.startswith("cssrs.") else token
            if name in self.fields:
                return str(self.fields[name].label).lower()
            return _FACT_WORDS.get(token, token)

        text = re.sub(r"\bcssrs\.[a-z0-9_]+|\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", word, message)
        return capfirst(text)


def posted_by_intake_form(name: str) -> bool:
    """Whether `name` is a field the intake form posts: an answer, the version it edits, the
    prefilled answers ticked as confirmed, or a row of its trial list (what the page's autosave
    keeps, and nothing else)."""
    return (
        name in INTAKE_FIELDS
        or name in ("version", "prefill_confirmed")
        or name.startswith("trials-")
    )
