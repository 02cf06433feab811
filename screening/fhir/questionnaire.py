"""The intake form as a FHIR Questionnaire, and facts ↔ QuestionnaireResponse items.

The Questionnaire is generated from the intake form itself (`patients.forms.IntakeForm`): its
sections become groups, in page order; each form field becomes a question of the same name:
yes/no/not recorded → `boolean`, choices → `choice` with `answerOption`s, numbers → `integer` or
`decimal` with `minValue`/`maxValue` extensions, the diagnoses checkboxes → a repeating `choice`
(with "none of these conditions" as an answer), the antidepressant trials → a repeating group.
"Not recorded" is never an answer: an unanswered question is left out of the response, and means
*not recorded*, never "no" (the Questionnaire's description says so for receiving systems).

`response_items(facts)` answers the Questionnaire from a facts document (the data dictionary's
names), and `response_facts(items)` reads a facts document back: the round trip is exact.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from functools import cache
from html import unescape
from typing import Any

from crispy_forms.layout import HTML, Div
from django import forms

from patients.forms import DiagnosesField, IntakeForm, TemplateBlock, TrialForm, YesNoField
from patients.models import (
    INTAKE_FORM_VERSION,
    QUESTIONS_ADDED,
    Intake,
    Patient,
    SexAtBirth,
    TrialsRecorded,
)
from screening.fhir.codes import (
    MAX_VALUE,
    MIN_VALUE,
    QUESTION_UNITS,
    QUESTIONNAIRE_UNIT,
    QUESTIONNAIRE_URL,
    fact_system,
)
from screening.fhir.narrative import with_narrative

QUESTIONNAIRE_ID = "ketamine-intake"
#: Every version of the intake form, oldest first (`patients.models.INTAKE_FORM_VERSION` is the
#: current one; a test pins each version's generated structure). An older version is the current
#: form without the questions later versions added.
FORM_VERSIONS = tuple(range(1, INTAKE_FORM_VERSION + 1))

#: The trial list and the patient record's facts are drawn by templates, not form fields.
TRIALS_TEMPLATE = "patients/partials/trial_formset.html"
PATIENT_FACTS_TEMPLATE = "patients/partials/intake_patient_facts.html"
TRIALS = "antidepressant_trials"
TRIALS_RECORDED = "antidepressant_trials_recorded"
CSSRS_PREFIX = "cssrs_"

DESCRIPTION = (
    "Intake for ketamine-therapy eligibility screening. The tool screens and flags; it does not "
    "decide treatment. Every question may be left unanswered: an unanswered question means "
    "'not recorded' (unknown), never 'no'. Yes/no questions are booleans answered only when "
    "recorded. Diagnoses: the answer 'none' means none of the listed conditions was documented; "
    "no answer means not recorded. Age and sex at birth come from the patient record."
)


def questionnaire_canonical(version: int = INTAKE_FORM_VERSION) -> str:
    """The canonical reference (`url|version`) a QuestionnaireResponse uses."""
    return f"{QUESTIONNAIRE_URL}|{version}"


def _later_questions(version: int) -> set[str]:
    return {name for added, names in QUESTIONS_ADDED.items() if added > version for name in names}


@cache
def intake_questionnaire(version: int = INTAKE_FORM_VERSION) -> dict[str, Any]:
    """Version `version` of the intake form as a Questionnaire resource (FHIR JSON); raises
    `LookupError` for a version that never existed."""
    if version not in FORM_VERSIONS:
        raise LookupError(f"The intake form has no version {version}.")
    later = _later_questions(version)
    sections = [
        (slug, title, [item for item in items if item["linkId"] not in later])
        for slug, title, items in _sections(_blank_form())
    ]
    questionnaire = {
        "resourceType": "Questionnaire",
        "id": QUESTIONNAIRE_ID,
        "url": QUESTIONNAIRE_URL,
        "version": str(version),
        "name": "KetamineScreeningIntake",
        "title": "Ketamine therapy eligibility screening intake",
        "status": "active",
        "subjectType": ["Patient"],
        "description": DESCRIPTION,
        "item": [
            {"linkId": slug, "text": title, "type": "group", "item": items}
            for slug, title, items in sections
            if items
        ],
    }
    return with_narrative(questionnaire)


def _blank_form() -> IntakeForm:
    patient = Patient(date_of_birth=date(2000, 1, 1), sex_at_birth=SexAtBirth.FEMALE)
    return IntakeForm({}, intake=Intake(patient=patient), read_only=True)


def _sections(form: IntakeForm) -> Iterator[tuple[str, str, list[dict[str, Any]]]]:
    for block in form.helper.layout.fields:
        if not (isinstance(block, Div) and "app-intake-section" in (block.css_class or "")):
            continue
        slug, title, items = "", "", []
        for piece, follows in _walk(block, None):
            if isinstance(piece, HTML):
                heading = re.search(r'id="section-([a-z0-9-]+)">([^<]+)<', piece.html)
                if heading and not slug:
                    slug, title = heading.group(1), unescape(heading.group(2))
            elif isinstance(piece, TemplateBlock):
                items.extend(_template_items(piece.template))
            else:
                question = _question(piece, form.fields[piece])
                if follows:
                    question["enableWhen"] = [
                        {"question": follows, "operator": "=", "answerBoolean": True}
                    ]
                items.append(question)
        yield slug, title, items


def _walk(piece: Any, follows: str | None) -> Iterator[tuple[Any, str | None]]:
    """The layout's field names, headings and template blocks in page order, each with the
    question it follows up (a block drawn only after a yes to that question)."""
    if isinstance(piece, str | HTML | TemplateBlock):
        yield piece, follows
        return
    marked = re.search(r'data-follows="([a-z0-9_]+)"', str(getattr(piece, "flat_attrs", "")))
    follows = marked.group(1) if marked else follows
    for child in getattr(piece, "fields", ()):
        yield from _walk(child, follows)


def _template_items(template: str) -> list[dict[str, Any]]:
    if template == PATIENT_FACTS_TEMPLATE:
        return [
            {
                "linkId": "sex_at_birth",
                "text": "Sex at birth (from the patient record)",
                "type": "choice",
                "readOnly": True,
                "answerOption": _options("sex_at_birth", SexAtBirth.choices),
            },
            {
                "linkId": "age_years",
                "text": "Age in years at the screening date (from the patient record)",
                "type": "integer",
                "readOnly": True,
                "extension": _range(0, 120),
            },
        ]
    if template == TRIALS_TEMPLATE:
        trial = TrialForm()
        return [
            {
                "linkId": TRIALS,
                "text": "Antidepressant trial in the current episode",
                "type": "group",
                "repeats": True,
                "enableWhen": [
                    {
                        "question": TRIALS_RECORDED,
                        "operator": "=",
                        "answerCoding": {
                            "system": fact_system(TRIALS_RECORDED),
                            "code": TrialsRecorded.LISTED.value,
                        },
                    }
                ],
                "item": [
                    {**_question(name, field), "required": True}
                    for name, field in trial.fields.items()
                ],
            }
        ]
    return []


def _question(name: str, field: forms.Field) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": name, "text": str(field.label)}
    if isinstance(field, YesNoField):
        item["type"] = "boolean"
    elif isinstance(field, DiagnosesField):
        item.update(type="choice", repeats=True, answerOption=_options(name, field.choices))
    elif isinstance(field, forms.ChoiceField):
        item.update(type="choice", answerOption=_options(name, field.choices))
    elif isinstance(field, forms.DecimalField):
        item.update(type="decimal", extension=_range(field.min_value, field.max_value))
    elif isinstance(field, forms.IntegerField):
        item.update(type="integer", extension=_range(field.min_value, field.max_value))
    else:
        item["type"] = "string"
        if isinstance(field, forms.CharField) and field.max_length:
            item["maxLength"] = field.max_length
    if name in QUESTION_UNITS:
        unit = {"url": QUESTIONNAIRE_UNIT, "valueCoding": QUESTION_UNITS[name].coding()}
        item["extension"] = [*item.get("extension", []), unit]
    return item


def _options(name: str, choices: Any) -> list[dict[str, Any]]:
    return [
        {"valueCoding": {"system": fact_system(name), "code": str(code), "display": str(label)}}
        for code, label in choices
        if code != ""
    ]


def _range(low: Any, high: Any) -> list[dict[str, Any]]:
    def value(number: Any) -> dict[str, Any]:
        if isinstance(number, Decimal | float):
            return {"valueDecimal": float(number)}
        return {"valueInteger": int(number)}

    bounds = [(MIN_VALUE, low), (MAX_VALUE, high)]
    return [{"url": url, **value(number)} for url, number in bounds if number is not None]


# --- facts ↔ response items ----------------------------------------------------------------


def _questions(version: int) -> dict[str, dict[str, Any]]:
    """Every question by linkId, nested ones included."""
    found: dict[str, dict[str, Any]] = {}

    def visit(items: list[dict[str, Any]]) -> None:
        for item in items:
            found[item["linkId"]] = item
            visit(item.get("item", []))

    visit(intake_questionnaire(version)["item"])
    return found


def _fact_value(name: str, facts: Mapping[str, Any]) -> Any:
    """The value of question `name` in a facts document (None: not recorded)."""
    if name.startswith(CSSRS_PREFIX):
        return (facts.get("cssrs") or {}).get(name.removeprefix(CSSRS_PREFIX))
    if name == TRIALS_RECORDED:
        trials = facts.get(TRIALS)
        if trials is None:
            return None
        return TrialsRecorded.LISTED.value if trials else TrialsRecorded.NONE.value
    if name == "diagnoses":
        diagnoses = facts.get("diagnoses")
        if diagnoses is None:
            return None
        return list(diagnoses) or [DiagnosesField.NONE]
    return facts.get(name)


def _answers(question: dict[str, Any], value: Any) -> list[dict[str, Any]]:
    kind = question["type"]
    values = value if isinstance(value, list) else [value]
    if kind == "boolean":
        return [{"valueBoolean": v} for v in values]
    if kind == "integer":
        return [{"valueInteger": v} for v in values]
    if kind == "decimal":
        return [{"valueDecimal": v} for v in values]
    if kind == "choice":
        options = {o["valueCoding"]["code"]: o["valueCoding"] for o in question["answerOption"]}
        return [{"valueCoding": options[str(v)]} for v in values]
    return [{"valueString": str(v)} for v in values]


def response_items(
    facts: Mapping[str, Any], version: int = INTAKE_FORM_VERSION
) -> list[dict[str, Any]]:
    """Version `version` of the Questionnaire's items answered from a facts document:
    unanswered questions and groups left with nothing in them are left out."""
    groups = (_group(group, facts) for group in intake_questionnaire(version)["item"])
    return [group for group in groups if group is not None]


def _group(group: dict[str, Any], facts: Mapping[str, Any]) -> dict[str, Any] | None:
    children: list[dict[str, Any]] = []
    for question in group["item"]:
        if question["linkId"] == TRIALS:
            children.extend(_trial_items(question, facts.get(TRIALS) or []))
            continue
        value = _fact_value(question["linkId"], facts)
        if value is None:
            continue
        children.append(
            {
                "linkId": question["linkId"],
                "text": question["text"],
                "answer": _answers(question, value),
            }
        )
    if not children:
        return None
    return {"linkId": group["linkId"], "text": group["text"], "item": children}


def _trial_items(question: dict[str, Any], trials: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "linkId": question["linkId"],
            "text": question["text"],
            "item": [
                {
                    "linkId": part["linkId"],
                    "text": part["text"],
                    "answer": _answers(part, trial[part["linkId"]]),
                }
                for part in question["item"]
                if trial.get(part["linkId"]) is not None
            ],
        }
        for trial in trials
    ]


def response_facts(
    items: list[dict[str, Any]], version: int = INTAKE_FORM_VERSION
) -> dict[str, Any]:
    """The facts document a QuestionnaireResponse's items record (the inverse of
    `response_items`); unanswered questions are left out (not recorded)."""
    questions = _questions(version)
    facts: dict[str, Any] = {}
    cssrs: dict[str, Any] = {}
    trials: list[dict[str, Any]] = []
    recorded = None
    for group in items:
        for item in group.get("item", []):
            name = item["linkId"]
            if name == TRIALS:
                trials.append(
                    {part["linkId"]: _value(part["answer"][0]) for part in item.get("item", [])}
                )
                continue
            values = [_value(answer) for answer in item.get("answer", [])]
            if not values:
                continue
            if name.startswith(CSSRS_PREFIX):
                cssrs[name.removeprefix(CSSRS_PREFIX)] = values[0]
            elif name == TRIALS_RECORDED:
                recorded = values[0]
            elif name == "diagnoses":
                facts[name] = [v for v in values if v != DiagnosesField.NONE]
            elif questions[name].get("repeats"):
                facts[name] = values
            else:
                facts[name] = values[0]
    if cssrs:
        facts["cssrs"] = cssrs
    if recorded == TrialsRecorded.NONE:
        facts[TRIALS] = []
    elif recorded == TrialsRecorded.LISTED:
        facts[TRIALS] = trials
    return facts


def _value(answer: Mapping[str, Any]) -> Any:
    (key, value), *_ = answer.items()
    if key == "valueCoding":
        return value["code"]
    return value
