"""Patients and their intakes.

An intake holds every input fact of the data dictionary in typed columns; `None` (or an empty
choice) means *not recorded*, never "no". Antidepressant trials are related rows. An intake is a
draft while clinicians fill it; it is locked once a screening of it has been signed. Concurrent
edits are refused by `version` (optimistic concurrency).
"""

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower


class SexAtBirth(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    INTERSEX = "intersex", "Intersex"


class Patient(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    mrn = models.CharField("medical record number", max_length=32, unique=True)
    family_name = models.CharField(max_length=100)
    given_names = models.CharField(max_length=150)
    date_of_birth = models.DateField()
    sex_at_birth = models.CharField(max_length=10, choices=SexAtBirth.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["family_name", "given_names"]
        indexes = [models.Index(fields=["family_name", "given_names"])]
        constraints = [
            # "mrn0042" and "MRN0042" are the same record typed twice, whichever door (form,
            # API) registers it: the database refuses the second in any case.
            models.UniqueConstraint(
                Lower("mrn"),
                name="patient_mrn_unique_any_case",
                violation_error_message="A patient with this medical record number is "
                "already registered.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.family_name.upper()}, {self.given_names} ({self.mrn})"

    @property
    def full_name(self) -> str:
        return f"{self.given_names} {self.family_name}"


class Diagnosis(models.TextChoices):
    MDD = "mdd", "Major depressive disorder"
    BIPOLAR_I = "bipolar_i", "Bipolar I disorder"
    BIPOLAR_II = "bipolar_ii", "Bipolar II disorder"
    GAD = "gad", "Generalised anxiety disorder"
    PTSD = "ptsd", "Post-traumatic stress disorder"
    OCD = "ocd", "Obsessive-compulsive disorder"
    FIBROMYALGIA = "fibromyalgia", "Fibromyalgia"
    CRPS = "crps", "Complex regional pain syndrome"


class PregnancyStatus(models.TextChoices):
    PREGNANT = "pregnant", "Pregnant"
    NOT_PREGNANT = "not_pregnant", "Not pregnant"
    NOT_APPLICABLE = "not_applicable", "Not applicable (cannot become pregnant)"


class MoodEpisode(models.TextChoices):
    DEPRESSIVE = "depressive", "Depressive"
    MANIC = "manic", "Manic"
    HYPOMANIC = "hypomanic", "Hypomanic"
    MIXED = "mixed", "Mixed"
    EUTHYMIC = "euthymic", "Euthymic (no current episode)"


class CardiovascularDisease(models.TextChoices):
    NONE = "none", "None"
    CONTROLLED = "controlled", "Controlled"
    POORLY_CONTROLLED = "poorly_controlled", "Poorly controlled"


class HepaticImpairment(models.TextChoices):
    NONE = "none", "None"
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe (about Child-Pugh C)"


class SubstanceUse(models.TextChoices):
    NONE = "none", "None"
    IN_REMISSION = "in_remission", "In remission"
    ACTIVE = "active", "Active"


class PriorKetamineResponse(models.TextChoices):
    NONE = "none", "Never treated with ketamine"
    RESPONDED = "responded", "Responded"
    NO_RESPONSE = "no_response", "No response"
    ADVERSE_REACTION = "adverse_reaction", "Adverse reaction"


class PlannedFormulation(models.TextChoices):
    ESKETAMINE_NASAL = "esketamine_nasal", "Esketamine nasal spray"
    RACEMIC_IV = "racemic_iv", "Racemic ketamine, intravenous"
    RACEMIC_IM = "racemic_im", "Racemic ketamine, intramuscular"
    RACEMIC_ORAL = "racemic_oral", "Racemic ketamine, oral or sublingual"
    UNDECIDED = "undecided", "Undecided"


class TrialsRecorded(models.TextChoices):
    NONE = "none", "None tried in this episode"
    LISTED = "listed", "Trials listed below"


class TrialOutcome(models.TextChoices):
    NO_RESPONSE = "no_response", "No response (< 25% improvement)"
    PARTIAL_RESPONSE = "partial_response", "Partial response (25–49%)"
    RESPONSE = "response", "Response (≥ 50%)"
    REMISSION = "remission", "Remission"
    INTOLERANCE = "intolerance", "Stopped for side effects"
    ONGOING = "ongoing", "Ongoing"


#: The intake form's version: the data dictionary version whose questions it asks. Each intake
#: records the version it was last saved with; its FHIR QuestionnaireResponse names that version
#: of the intake Questionnaire. Bump it with any change to the questions.
INTAKE_FORM_VERSION = 2

#: The questions each form version added (version 1 asked all the others).
QUESTIONS_ADDED: dict[int, tuple[str, ...]] = {
    2: (
        "bp_rise_serious_hazard",
        "respiratory_compromise",
        "other_cns_depressant_use",
        "bladder_symptoms_or_cystitis",
        "planned_formulation",
    ),
}


def _yes_no(verbose_name: str, help_text: str = "") -> models.BooleanField:  # type: ignore[type-arg]
    """A three-way question: yes / no / not recorded (null)."""
    return models.BooleanField(verbose_name, null=True, blank=True, help_text=help_text)


def _score(
    verbose_name: str, low: int, high: int, help_text: str = ""
) -> models.PositiveSmallIntegerField:  # type: ignore[type-arg]
    from django.core.validators import MaxValueValidator, MinValueValidator

    return models.PositiveSmallIntegerField(
        verbose_name,
        null=True,
        blank=True,
        validators=[MinValueValidator(low), MaxValueValidator(high)],
        help_text=help_text or f"{low}–{high}",
    )


def _choice(
    verbose_name: str, choices: type[models.TextChoices], help_text: str = ""
) -> models.CharField:  # type: ignore[type-arg]
    return models.CharField(
        verbose_name, max_length=20, choices=choices.choices, blank=True, help_text=help_text
    )


class Intake(models.Model):
    """The facts a clinician records for one screening. Blank = not recorded."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        LOCKED = "locked", "Locked (signed)"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="intakes")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    version = models.PositiveIntegerField(default=1, help_text="Bumped by every save.")
    form_version = models.PositiveSmallIntegerField(
        default=INTAKE_FORM_VERSION,
        null=True,
        editable=False,
        help_text="The version of the intake form the answers were last saved with "
        "(null: saved before intakes recorded it).",
    )
    amends = models.ForeignKey(
        "screening.Screening",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="amendments",
        help_text="The signed screening this intake amends.",
    )
    amendment_reason = models.TextField(
        blank=True, help_text="Why the signed screening is being amended (amendments only)."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    # Demographics and pregnancy (age and sex come from the patient record)
    pregnancy_status = _choice("pregnancy status", PregnancyStatus)
    breastfeeding = _yes_no("breastfeeding")
    planning_pregnancy = _yes_no("planning a pregnancy", "Within the planned course of treatment.")

    # Diagnoses and current episode
    diagnoses = models.JSONField(
        null=True,
        blank=True,
        help_text="List of Diagnosis values; [] = none of these; null = not recorded.",
    )
    current_mood_episode = _choice("current mood episode", MoodEpisode)

    # Treatment history
    antidepressant_trials_recorded = _choice(
        "antidepressant trials in the current episode", TrialsRecorded
    )
    failed_anxiety_treatments = _score(
        "failed first-line anxiety treatments",
        0,
        20,
        "Adequate trials (SSRI/SNRI, evidence-based psychotherapy) for GAD, PTSD or OCD without adequate response (0–20).",
    )
    failed_pain_treatments = _score(
        "failed conventional pain treatments",
        0,
        20,
        "Adequate trials for fibromyalgia or CRPS without adequate relief (0–20).",
    )

    # Scales
    phq9_total = _score("PHQ-9 total", 0, 27)
    phq9_item9 = _score("PHQ-9 item 9", 0, 3, "Thoughts of death or self-harm (0–3).")
    gad7_total = _score("GAD-7 total", 0, 21)
    pcl5_total = _score("PCL-5 total", 0, 80)
    ybocs_total = _score("Y-BOCS total", 0, 40, "Original Y-BOCS, not Y-BOCS-II (0–40).")
    pain_nrs = _score("pain (NRS)", 0, 10, "Current average pain, numeric rating scale (0–10).")

    # Suicide risk: C-SSRS screener
    cssrs_wish_dead = _yes_no("Q1 wish to be dead")
    cssrs_active_thoughts = _yes_no("Q2 active suicidal thoughts")
    cssrs_method = _yes_no("Q3 thoughts of a method", "Asked only when Q2 is yes.")
    cssrs_intent = _yes_no("Q4 intent to act", "Asked only when Q2 is yes.")
    cssrs_plan = _yes_no("Q5 plan with intent", "Asked only when Q2 is yes.")
    cssrs_behavior_past_3_months = _yes_no("Q6 suicidal behaviour in the past 3 months")
    cssrs_behavior_lifetime = _yes_no("Q6 suicidal behaviour ever")

    # Vitals
    systolic_bp = _score("systolic blood pressure", 60, 300, "mmHg (60–300).")
    diastolic_bp = _score("diastolic blood pressure", 30, 200, "mmHg (30–200).")
    heart_rate = _score("heart rate", 20, 250, "Beats per minute (20–250).")

    # Medical history
    hypersensitivity_to_ketamine = _yes_no(
        "hypersensitivity to ketamine", "To ketamine, esketamine or an excipient."
    )
    aneurysmal_vascular_disease = _yes_no(
        "aneurysmal vascular disease", "Aortic, intracranial or peripheral arterial aneurysm."
    )
    arteriovenous_malformation = _yes_no("arteriovenous malformation")
    intracerebral_hemorrhage_history = _yes_no("history of intracerebral haemorrhage")
    cardiovascular_disease = _choice(
        "cardiovascular disease",
        CardiovascularDisease,
        "Arrhythmia, MI, heart failure, valve disease, stroke or cerebrovascular disease.",
    )
    hypertensive_encephalopathy_history = _yes_no("history of hypertensive encephalopathy")
    elevated_intracranial_pressure = _yes_no("raised intracranial pressure")
    elevated_intraocular_pressure = _yes_no(
        "raised intraocular pressure", "Including uncontrolled glaucoma."
    )
    hepatic_impairment = _choice("hepatic impairment", HepaticImpairment)
    cognitive_impairment = _yes_no(
        "cognitive impairment", "Dementia or significant cognitive impairment."
    )

    # Psychiatric history
    psychosis_current = _yes_no("active psychotic symptoms")
    psychosis_history = _yes_no("past psychotic disorder or episode")
    family_history_schizophrenia = _yes_no("first-degree relative with schizophrenia")
    substance_use_disorder = _choice("substance use disorder", SubstanceUse, "Including alcohol.")
    ketamine_misuse_history = _yes_no("ketamine or PCP misuse")
    prior_ketamine_response = _choice("prior ketamine treatment", PriorKetamineResponse)

    # Medications
    benzodiazepine_dose_mg_diazepam_eq = models.DecimalField(
        "benzodiazepine dose",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="Daily dose in mg diazepam equivalents (0–200); 0 = not taking.",
    )
    takes_lamotrigine = _yes_no("takes lamotrigine")
    takes_maoi = _yes_no("takes an MAOI")
    takes_stimulant = _yes_no("takes a psychostimulant")
    takes_opioid = _yes_no("takes an opioid")
    takes_mood_stabilizer = _yes_no(
        "takes a mood stabiliser", "Lithium, valproate or an antipsychotic with antimanic effect."
    )

    # Support and integration
    engaged_in_psychotherapy = _yes_no("currently in psychotherapy")
    has_escort_home = _yes_no(
        "has an escort home", "Someone to take the patient home after a session."
    )

    # Added in version 2 of the data dictionary. An intake saved before them has them not
    # recorded (null / blank), never "no".
    bp_rise_serious_hazard = _yes_no(
        "condition in which a blood-pressure rise would be a serious hazard",
        "A condition in which a significant rise in blood pressure (or heart rate) would be a "
        "serious hazard, not already recorded as aneurysm, AVM or intracerebral haemorrhage: e.g. "
        "uncontrolled hyperthyroidism, phaeochromocytoma or paraganglioma, recent myocardial "
        "infarction or unstable angina, decompensated heart failure (examples; the clinician "
        "judges).",
    )
    respiratory_compromise = _yes_no(
        "reduced respiratory reserve or airway risk",
        "Reduced respiratory reserve or a risk of airway obstruction under sedation: obstructive "
        "sleep apnoea, COPD, other chronic lung or neuromuscular disease affecting breathing.",
    )
    other_cns_depressant_use = _yes_no(
        "uses another CNS depressant",
        "Regular use of a CNS depressant other than opioids and benzodiazepines: "
        "gabapentin/pregabalin, Z-drugs, sedating antipsychotics or antihistamines, barbiturates, "
        "muscle relaxants, or regular alcohol use.",
    )
    bladder_symptoms_or_cystitis = _yes_no(
        "bladder symptoms or cystitis",
        "Current lower-urinary-tract symptoms (frequency, urgency, dysuria, haematuria, "
        "pelvic/bladder pain) or a history of ulcerative or interstitial cystitis, including "
        "ketamine-associated uropathy.",
    )
    planned_formulation = _choice(
        "planned ketamine formulation",
        PlannedFormulation,
        "The ketamine product and route under consideration (oral includes sublingual). "
        "“Undecided” is an answer; leave it not recorded if the question was not asked.",
    )

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"intake {self.uuid} for {self.patient.mrn}"

    @property
    def is_locked(self) -> bool:
        return self.status == self.Status.LOCKED

    @property
    def answered_form_version(self) -> int:
        """The intake form version these answers were saved with; for an intake saved before
        intakes recorded it, the earliest version that asks every question it answers."""
        if self.form_version is not None:
            return self.form_version
        answered = [
            version
            for version, names in QUESTIONS_ADDED.items()
            if any(getattr(self, name) not in (None, "") for name in names)
        ]
        return max(answered, default=1)


class AntidepressantTrial(models.Model):
    """One trial of conventional medication for the current depressive episode."""

    intake = models.ForeignKey(Intake, on_delete=models.CASCADE, related_name="trials")
    position = models.PositiveSmallIntegerField(default=0)
    drug = models.CharField(max_length=80)
    weeks_at_adequate_dose = models.PositiveSmallIntegerField(
        help_text="Weeks at an adequate dose (0–104)."
    )
    outcome = models.CharField(max_length=20, choices=TrialOutcome.choices)

    #: The trial's fields as the data dictionary names them in `antidepressant_trials`.
    FACTS = ("drug", "weeks_at_adequate_dose", "outcome")

    class Meta:
        ordering = ["intake", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.drug}, {self.weeks_at_adequate_dose} weeks, {self.outcome}"

    def as_fact(self) -> dict[str, Any]:
        """The trial as one item of the `antidepressant_trials` fact (and a trial form row)."""
        return {name: getattr(self, name) for name in self.FACTS}


class IntakeAutosave(models.Model):
    """A clinician's answers as the intake page last sent them in the background: a working copy
    that never changes the intake, never runs or supersedes a screening, and is offered back when
    the clinician opens the intake again. Saving or running the intake discards it.

    `data` is the form as submitted (field name → list of values); `base_version` is the intake
    version the page was editing, so a copy made before someone else saved is recognised.
    """

    intake = models.ForeignKey(Intake, on_delete=models.CASCADE, related_name="autosaves")
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    data = models.JSONField()
    base_version = models.PositiveIntegerField()
    saved_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["intake", "saved_by"], name="one_autosave_per_person"),
        ]

    def __str__(self) -> str:
        return f"autosave of {self.intake_id} by {self.saved_by_id}"
