"""The rule language as the rule editor's help shows it: a label for every fact a rule may name,
and the operators with an example each.

Operators are read off the parser's own tables (`COMPARE_OPS`, `KEYWORDS`): an operator added
there without words here fails at import, so the help cannot fall behind the grammar. Labels
follow the data dictionary's wording (the intake asks the same questions); a test holds every
name of `FACTS` and `DEFINITIONS` to having one, and every example to compiling.
"""

from __future__ import annotations

from dataclasses import dataclass

from rules.engine.parser import COMPARE_OPS, KEYWORDS
from rules.engine.schema import DEFINITIONS, FACTS

#: What each fact is, in the words of the data dictionary (units in brackets).
FACT_LABELS: dict[str, str] = {
    "age_years": "Age (years)",
    "sex_at_birth": "Sex at birth",
    "pregnancy_status": "Pregnancy status",
    "breastfeeding": "Breastfeeding",
    "planning_pregnancy": "Planning a pregnancy during the course of treatment",
    "diagnoses": "Diagnoses documented by a clinician",
    "current_mood_episode": "Current mood episode",
    "failed_anxiety_treatments": "Failed first-line anxiety treatments (GAD, PTSD, OCD)",
    "failed_pain_treatments": "Failed conventional pain treatments (fibromyalgia, CRPS)",
    "phq9_total": "PHQ-9 total",
    "phq9_item9": "PHQ-9 item 9 (thoughts of death or self-harm)",
    "gad7_total": "GAD-7 total",
    "pcl5_total": "PCL-5 total",
    "ybocs_total": "Y-BOCS total",
    "pain_nrs": "Pain (NRS): current average pain, numeric rating scale 0-10",
    "systolic_bp": "Systolic blood pressure (mmHg)",
    "diastolic_bp": "Diastolic blood pressure (mmHg)",
    "heart_rate": "Heart rate (bpm)",
    "hypersensitivity_to_ketamine": "Hypersensitivity to ketamine, esketamine or an excipient",
    "aneurysmal_vascular_disease": "Aneurysmal vascular disease",
    "arteriovenous_malformation": "Arteriovenous malformation",
    "intracerebral_hemorrhage_history": "History of intracerebral haemorrhage",
    "cardiovascular_disease": "Cardiovascular disease",
    "hypertensive_encephalopathy_history": "History of hypertensive encephalopathy",
    "elevated_intracranial_pressure": "Raised intracranial pressure",
    "elevated_intraocular_pressure": "Raised intraocular pressure (including uncontrolled glaucoma)",
    "hepatic_impairment": "Hepatic impairment",
    "cognitive_impairment": "Cognitive impairment",
    "psychosis_current": "Active psychotic symptoms",
    "psychosis_history": "Past psychotic disorder or episode",
    "family_history_schizophrenia": "First-degree relative with schizophrenia",
    "substance_use_disorder": "Substance use disorder (including alcohol)",
    "ketamine_misuse_history": "Ketamine or PCP misuse",
    "prior_ketamine_response": "Prior ketamine treatment",
    "benzodiazepine_dose_mg_diazepam_eq": "Benzodiazepine dose (mg diazepam equivalents a day)",
    "takes_lamotrigine": "Takes lamotrigine",
    "takes_maoi": "Takes an MAOI",
    "takes_stimulant": "Takes a psychostimulant",
    "takes_opioid": "Takes an opioid",
    "takes_mood_stabilizer": "Takes a mood stabiliser",
    "engaged_in_psychotherapy": "Currently in psychotherapy",
    "has_escort_home": "Has an escort home after a session",
    "bp_rise_serious_hazard": "Condition in which a blood-pressure rise would be a serious hazard",
    "respiratory_compromise": "Reduced respiratory reserve or airway risk",
    "other_cns_depressant_use": "Uses another CNS depressant",
    "bladder_symptoms_or_cystitis": "Bladder symptoms or cystitis",
    "planned_formulation": "Planned ketamine formulation",
    "failed_adequate_antidepressant_trials": (
        "Adequate antidepressant trials without response (≥ 6 weeks, no or partial response)"
    ),
    "suicide_risk": "Suicide risk on the C-SSRS screener",
    "acute_suicidal_ideation_or_behavior": (
        "Acute suicidal ideation or behaviour (C-SSRS Q2 or Q6 in the past 3 months)"
    ),
    "bipolar": "Bipolar I or II disorder diagnosed",
    "bp_elevated": "Blood pressure above 140/90",
    "bp_crisis": "Blood pressure above 180/120",
}


@dataclass(frozen=True, slots=True)
class Operator:
    """One operator of the rule language: its spellings (the first is the usual one), what it
    means, and an example that compiles."""

    spellings: tuple[str, ...]
    meaning: str
    example: str


#: Words for each canonical comparison of `COMPARE_OPS`.
_COMPARISONS: dict[str, tuple[str, str]] = {
    "=": ("equals (a number, a listed value, or true/false)", 'pregnancy_status = "pregnant"'),
    "≠": ("differs from", 'substance_use_disorder != "none"'),
    "<": ("less than", "age_years < 18"),
    "≤": ("at most", "phq9_item9 <= 1"),
    ">": ("more than", "systolic_bp > 140"),
    "≥": ("at least", "phq9_total >= 10"),
}

#: Words for each keyword of `KEYWORDS` (and the one two-word operator, `not in`).
_KEYWORDS: dict[str, tuple[str, str]] = {
    "and": ("both hold (false if either is false)", '"mdd" in diagnoses and phq9_total >= 10'),
    "or": ("either holds (true if either is true)", "bp_elevated or heart_rate > 110"),
    "not": ("the opposite (unknown stays unknown)", "not has_escort_home"),
    "in": (
        "is one of a list, or a set fact includes a value",
        'current_mood_episode in ("manic", "mixed")',
    ),
    "not in": ("is none of a list, or a set fact lacks a value", '"gad" not in diagnoses'),
    "true": ("yes, for a yes/no fact", "breastfeeding = true"),
    "false": ("no, for a yes/no fact", "takes_maoi = false"),
}


def _operators() -> tuple[Operator, ...]:
    canonical = list(dict.fromkeys(COMPARE_OPS.values()))
    comparisons = [
        Operator(
            tuple(sorted((s for s, c in COMPARE_OPS.items() if c == op), key=_usual_first)),
            *_COMPARISONS[op],
        )
        for op in canonical
    ]
    keywords = [
        Operator((word,), *_KEYWORDS[word])
        for word in ("and", "or", "not", "in", "not in", "true", "false")
        if word in KEYWORDS or word == "not in"
    ]
    missing = KEYWORDS - set(_KEYWORDS)
    if missing:  # a keyword the parser knows and the help does not explain
        raise KeyError(f"no words for keyword(s) {', '.join(sorted(missing))}")
    grouping = Operator(
        ("( … )",),
        "groups conditions: not binds tightest, then and, then or",
        "(bp_elevated or takes_stimulant) and not bp_crisis",
    )
    return (*comparisons, *keywords, grouping)


def _usual_first(spelling: str) -> tuple[bool, int, str]:
    """ASCII spellings first (`>=` before `≥`), the shortest first (`=` before `==`)."""
    return (not spelling.isascii(), len(spelling), spelling)


#: Every operator of the rule language, comparisons first, then the keywords.
OPERATORS: tuple[Operator, ...] = _operators()


def fact_label(name: str) -> str:
    """The label of a fact or definition (its name with spaces when it has none)."""
    return FACT_LABELS.get(name) or name.replace("_", " ").capitalize()


def unlabelled() -> list[str]:
    """Names a rule may use that have no label (empty while the help is complete)."""
    return [name for name in (*FACTS, *DEFINITIONS) if name not in FACT_LABELS]
