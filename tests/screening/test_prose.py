"""Explanations in clinical prose: every explanation of every rule of rule sets 1 and 2 reads
as a sentence with the intake's labels and units, and no raw fact name, code or operator."""

import re

import pytest

from rules.engine import DEFINITIONS, FACTS
from screening.prose import because_prose
from tests.engine.data import default_ruleset_spec, ruleset_v2_spec, sample_documents
from tests.engine.test_reasons import every_because

#: An operator, a snake_case name (every multi-word fact, value and derived fact is one), a
#: dotted C-SSRS answer, or a raw boolean. One-word names ("breastfeeding") are English.
RAW = re.compile(r"[=≠<>≤≥]|\b[a-z0-9]+_[a-z0-9_]+\b|\bcssrs\b|\b(true|false)\b")
ONE_WORD = {name for name in (*FACTS, *DEFINITIONS) if "_" not in name}


def leaks(prose: str) -> list[str]:
    return [match.group(0) for match in RAW.finditer(prose)]


def test_every_fact_name_is_caught_by_the_leak_check_or_is_a_word():
    assert {"breastfeeding", "diagnoses", "bipolar"} >= ONE_WORD


@pytest.mark.parametrize("version", [1, 2])
def test_every_rule_explains_itself_in_prose_without_raw_names(version: int):
    spec = default_ruleset_spec() if version == 1 else ruleset_v2_spec()
    found = every_because(spec, sample_documents(400))
    assert len(found) > 150
    for text in found:
        prose = because_prose(text)
        assert prose != text
        assert not leaks(prose), (text, prose)


@pytest.mark.parametrize(
    ("because", "prose"),
    [
        (
            "failed_adequate_antidepressant_trials = 2 (≥ 1)",
            "2 adequate antidepressant trials without response (criterion: at least 1)",
        ),
        (
            "failed_adequate_antidepressant_trials = 1 (≥ 1)",
            "1 adequate antidepressant trial without response (criterion: at least 1)",
        ),
        ("systolic_bp = 150 (> 140)", "Systolic blood pressure 150 mmHg (above 140)"),
        ("diagnoses does not include bipolar_i", "Diagnoses do not include bipolar I disorder"),
        ("diagnoses includes mdd", "Diagnoses include major depressive disorder"),
        ("age_years = 16 (< 18)", "Age 16 years (below 18)"),
        ("phq9_item9 = 2 (≥ 1)", "PHQ-9 item 9: 2 (at least 1)"),
        ("psychosis_current = true", "Active psychotic symptoms: yes"),
        ("engaged_in_psychotherapy = false", "Currently in psychotherapy: no"),
        (
            "benzodiazepine_dose_mg_diazepam_eq = 8.5 (> 8)",
            "Benzodiazepine dose 8.5 mg diazepam equivalents a day (above 8)",
        ),
        (
            "pregnancy_status = not_pregnant (≠ not_applicable)",
            "Pregnancy status: not pregnant (other than not applicable)",
        ),
        (
            "current_mood_episode = mixed (in manic, mixed)",
            "Current mood episode: mixed (one of manic, mixed)",
        ),
        (
            "suicide_risk = low (in low, moderate)",
            "Suicide risk on the C-SSRS screener: low (one of low, moderate)",
        ),
        ("cssrs not recorded", "C-SSRS screener answers not recorded"),
        (
            "antidepressant_trials not recorded",
            "Antidepressant trials in the current episode not recorded",
        ),
        (
            "breastfeeding not recorded; sex_at_birth = male",
            "Breastfeeding not recorded, counted as no (sex at birth: male)",
        ),
        (
            "suicide_risk is not high (cssrs.intent, cssrs.plan, cssrs.behavior_past_3_months = no)",
            "Suicide risk on the C-SSRS screener is not high (Q4 intent to act, Q5 plan with "
            "intent, Q6 suicidal behaviour in the past 3 months: no)",
        ),
        (
            "suicide_risk could be none or low (cssrs.wish_dead not recorded)",
            "Suicide risk on the C-SSRS screener could be none or low (Q1 wish to be dead: not "
            "recorded)",
        ),
    ],
)
def test_explanation_reads_as_clinical_prose(because: str, prose: str):
    assert because_prose(because) == prose
    assert not leaks(prose)


def test_text_the_engine_does_not_write_is_shown_as_it_is():
    assert because_prose("a note from an older version") == "a note from an older version"


def test_the_rule_editor_names_each_fact_as_the_intake_asks_it():
    """The rule editor's palette (`rules.engine.glossary`, which cannot import the intake form)
    may add detail to a fact's label, but must start with what the intake and the result page
    call it, so the two cannot drift apart unnoticed."""
    from rules.engine.glossary import FACT_LABELS
    from screening.prose import fact_label

    drifted = {}
    for fact, label in FACT_LABELS.items():
        asked = fact_label(fact)
        if asked.lower() == fact.replace("_", " ").replace(".", " ").lower():
            continue  # no intake question or page wording of its own (e.g. bp_elevated)
        if not label.lower().startswith(asked.lower()):
            drifted[fact] = (label, asked)
    assert drifted == {}
