"""Explanations in clinical prose: each `because` line the engine wrote, read back into its parts
(`rules.engine.reasons`), worded with the facts' labels, units and value labels.

Nothing here is written per rule: the sentence comes from the shape of the rule's own logic (the
comparison, list or set test that decided it) and from the facts' words below, which come from
the intake's questions (`patients.models.Intake`, the same labels the form shows) and the data
dictionary's units. So "systolic_bp = 150 (> 140)" reads "Systolic blood pressure 150 mmHg
(above 140)" on every page, PDF and rule alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from django.db import models
from django.utils.text import capfirst

from patients.models import Diagnosis, Intake, SexAtBirth, TrialOutcome
from patients.services import INTAKE_FIELDS
from rules.engine import IntakeFacts
from rules.engine.facts import DATE_FIELDS
from rules.engine.reasons import Reason, read_because


@dataclass(frozen=True, slots=True)
class FactWords:
    """How a fact reads: its label (the intake's question), its unit, and the words for its
    values. A count (`noun`) reads "2 adequate antidepressant trials without response"."""

    label: str
    unit: str = ""
    values: dict[str, str] = field(default_factory=dict)
    noun: tuple[str, str] = ("", "")  # singular, plural


def _lower(label: object) -> str:
    """A choice label inside a sentence: "Not pregnant" → "not pregnant", "Bipolar I
    disorder" → "bipolar I disorder" (an acronym such as "MAOI" keeps its capitals)."""
    text = str(label)
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _words(choices: type[models.TextChoices]) -> dict[str, str]:
    return {str(value): _lower(label) for value, label in choices.choices}


_YES_NO = {"true": "yes", "false": "no"}
_RISK = {"none": "none", "low": "low", "moderate": "moderate", "high": "high"}

#: Units from the data dictionary, for the facts that have one.
UNITS = {
    "age_years": "years",
    "systolic_bp": "mmHg",
    "diastolic_bp": "mmHg",
    "heart_rate": "bpm",
    "benzodiazepine_dose_mg_diazepam_eq": "mg diazepam equivalents a day",
}

#: Facts that are not one intake question: demographics, derived facts and nested answers.
OTHER_FACTS = {
    "age_years": FactWords("age", "years"),
    "sex_at_birth": FactWords("sex at birth", values=_words(SexAtBirth)),
    "diagnoses": FactWords("diagnoses", values=_words(Diagnosis)),
    "failed_adequate_antidepressant_trials": FactWords(
        "adequate antidepressant trials without response",
        noun=(
            "adequate antidepressant trial without response",
            "adequate antidepressant trials without response",
        ),
    ),
    "failed_anxiety_treatments": FactWords(
        "failed first-line anxiety treatments",
        noun=("failed first-line anxiety treatment", "failed first-line anxiety treatments"),
    ),
    "failed_pain_treatments": FactWords(
        "failed conventional pain treatments",
        noun=("failed conventional pain treatment", "failed conventional pain treatments"),
    ),
    "suicide_risk": FactWords("suicide risk on the C-SSRS screener", values=_RISK),
    "acute_suicidal_ideation_or_behavior": FactWords(
        "acute suicidal ideation or behaviour (C-SSRS Q2 or Q6 in the past 3 months)",
        values=_YES_NO,
    ),
    "cssrs": FactWords("C-SSRS screener answers"),
    "antidepressant_trials": FactWords("antidepressant trials in the current episode"),
}

#: How each comparison reads after a value ("150 mmHg (above 140)").
COMPARISONS = {
    ">": "above",
    "≥": "at least",
    "<": "below",
    "≤": "at most",
    "=": "equal to",
    "≠": "other than",
}


@cache
def fact_words(fact: str) -> FactWords:
    """The words for `fact`: an intake question's label and choices, or `OTHER_FACTS`."""
    if fact in OTHER_FACTS:
        return OTHER_FACTS[fact]
    column = f"cssrs_{fact.removeprefix('cssrs.')}" if fact.startswith("cssrs.") else fact
    if column in INTAKE_FIELDS:
        db_field = Intake._meta.get_field(column)
        assert isinstance(db_field, models.Field)
        values = _YES_NO if isinstance(db_field, models.BooleanField) else {}
        if db_field.choices:
            values = {str(v): _lower(label) for v, label in db_field.choices}
        return FactWords(str(db_field.verbose_name), UNITS.get(fact, ""), values)
    return FactWords(fact.replace("_", " ").replace(".", " "))


def fact_label(fact: str) -> str:
    """The fact as the intake asks it, capitalised: "Systolic blood pressure"."""
    return capfirst(fact_words(fact).label)


def value_words(fact: str, value: str) -> str:
    """A value as shown by the engine ("not_applicable", "true", "8.5"), in words with unit."""
    words = fact_words(fact)
    if value in words.values:
        return words.values[value]
    if " or " in value and all(v in words.values for v in value.split(" or ")):
        return " or ".join(words.values[v] for v in value.split(" or "))
    if words.unit and _is_number(value):
        unit = words.unit.removesuffix("s") if value == "1" else words.unit
        return f"{value} {unit}"
    return value.replace("_", " ")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def because_prose(text: str) -> str:
    """One `because` line as a sentence; a line the engine's shapes do not cover stays as it
    is (it is still the truth, only less readable)."""
    try:
        reason = read_because(text)
    except ValueError:
        return text
    return capfirst(_WORDERS[reason.kind](reason))


def because_list(lines: tuple[str, ...] | list[str]) -> list[str]:
    return [because_prose(line) for line in lines]


def _compared(r: Reason) -> str:
    words = fact_words(r.fact)
    # Inside the brackets a value reads without its own bracketed gloss.
    against = re.sub(r" \(.*\)$", "", value_words(r.fact, r.against[0]))
    criterion = f"{COMPARISONS[r.op]} {against}"
    if words.unit and _is_number(r.against[0]):
        criterion = f"{COMPARISONS[r.op]} {r.against[0]}"
    if words.noun[0] and _is_number(r.value):
        noun = words.noun[0] if r.value == "1" else words.noun[1]
        return f"{r.value} {noun} (criterion: {criterion})"
    if r.op in ("=", "≠") or words.label[-1:].isdigit():  # "PHQ-9 item 9: 2"
        return f"{words.label}: {value_words(r.fact, r.value)} ({criterion})"
    return f"{words.label} {value_words(r.fact, r.value)} ({criterion})"


def _value(r: Reason) -> str:
    words = fact_words(r.fact)
    if words.noun[0] and _is_number(r.value):
        return f"{r.value} {words.noun[0] if r.value == '1' else words.noun[1]}"
    return f"{words.label}: {value_words(r.fact, r.value)}"


def _listed(r: Reason) -> str:
    among = ", ".join(value_words(r.fact, v) for v in r.against)
    which = "one of" if r.op == "in" else "none of"
    return f"{fact_words(r.fact).label}: {value_words(r.fact, r.value)} ({which} {among})"


def _member(r: Reason) -> str:
    verb = "include" if r.op == "includes" else "do not include"
    return f"{fact_words(r.fact).label} {verb} {value_words(r.fact, r.value)}"


def _unrecorded(r: Reason) -> str:
    return f"{fact_words(r.fact).label} not recorded"


def _defaulted(r: Reason) -> str:
    other, value = r.against
    return (
        f"{fact_words(r.fact).label} not recorded, counted as no "
        f"({fact_words(other).label}: {value_words(other, value)})"
    )


def _narrowed(r: Reason) -> str:
    levels = value_words(r.fact, r.value)
    answers = "; ".join(
        f"{', '.join(fact_words(name).label for name in names)}: {answer}"
        for names, answer in r.detail
    )
    said = f"{fact_words(r.fact).label} {r.op} {levels}"
    return f"{said} ({answers})" if answers else said


def _facts(r: Reason) -> str:
    other, other_value = r.against
    left = f"{fact_words(r.fact).label} {value_words(r.fact, r.value)}"
    right = f"{fact_words(other).label} {value_words(other, other_value)}"
    if not r.op:
        return f"{left}, {right}"
    return f"{left} ({COMPARISONS[r.op]} {right})"


_WORDERS = {
    "compared": _compared,
    "value": _value,
    "listed": _listed,
    "member": _member,
    "unrecorded": _unrecorded,
    "defaulted": _defaulted,
    "narrowed": _narrowed,
    "facts": _facts,
}


# --- the facts as entered ----------------------------------------------------------------

#: The C-SSRS screener's answers, in the screener's order.
CSSRS_ORDER = (
    "wish_dead",
    "active_thoughts",
    "method",
    "intent",
    "plan",
    "behavior_past_3_months",
    "behavior_lifetime",
)


def shown(value: object) -> str:
    """A stored fact value as the engine's explanations show it ("true", "8", "8.5")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def facts_as_entered(document: dict[str, object]) -> tuple[list[tuple[str, str]], list[str]]:
    """A stored facts document as (question, answer) rows, with units and value words, in the
    data dictionary's order, and the questions left not recorded (C-SSRS answers one by one)."""
    rows: list[tuple[str, str]] = []
    unrecorded: list[str] = []
    for fact in IntakeFacts.model_fields:
        if fact in DATE_FIELDS:
            continue
        value = document.get(fact)
        if fact == "cssrs":
            answers = value if isinstance(value, dict) else {}
            for name in CSSRS_ORDER:
                label = fact_label(f"cssrs.{name}")
                if name in answers and answers[name] is not None:
                    rows.append((label, _YES_NO[shown(answers[name])]))
                elif (
                    name in ("method", "intent", "plan") and answers.get("active_thoughts") is False
                ):
                    rows.append((label, "not asked (Q2 is no)"))
                else:
                    unrecorded.append(label)
        elif value is None:
            unrecorded.append(fact_label(fact))
        elif fact == "diagnoses" and isinstance(value, list):
            said = ", ".join(value_words(fact, str(v)) for v in value) or "none of these"
            rows.append((fact_label(fact), said))
        elif fact == "antidepressant_trials" and isinstance(value, list):
            rows.append((fact_label(fact), _trials(value)))
        else:
            rows.append((fact_label(fact), value_words(fact, shown(value))))
    return rows, unrecorded


def _trials(trials: list[object]) -> str:
    outcomes = _words(TrialOutcome)
    said = [
        f"{t.get('drug')}, {t.get('weeks_at_adequate_dose')} weeks at an adequate dose, "
        f"{outcomes.get(str(t.get('outcome')), str(t.get('outcome')))}"
        for t in trials
        if isinstance(t, dict)
    ]
    return "; ".join(said) or "none tried in this episode"
