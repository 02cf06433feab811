"""Input facts per the data dictionary, their validation, and the derived facts.

`validate_facts(document, today=...)` is the one door for every caller (form, API, command):
it rejects a document as a whole with every problem listed by field, or returns `Facts`,
whose `values` map every fact name the rule language knows (input and derived) to its value,
`None` meaning *not recorded*, as rule language level 1 reads them; `values_for(2)` as level 2
reads them (`suicide_risk` possibly known in part, the effective `breastfeeding` default).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
)

from rules.engine.errors import FactsInvalid, FieldError
from rules.engine.partial import Possible, SetInPart

Sex = Literal["female", "male", "intersex"]
PregnancyStatus = Literal["pregnant", "not_pregnant", "not_applicable"]
Diagnosis = Literal["mdd", "bipolar_i", "bipolar_ii", "gad", "ptsd", "ocd", "fibromyalgia", "crps"]
MoodEpisode = Literal["depressive", "manic", "hypomanic", "mixed", "euthymic"]
TrialOutcome = Literal[
    "no_response", "partial_response", "response", "remission", "intolerance", "ongoing"
]
CardiovascularDisease = Literal["none", "controlled", "poorly_controlled"]
HepaticImpairment = Literal["none", "mild", "moderate", "severe"]
SubstanceUse = Literal["none", "in_remission", "active"]
PriorKetamineResponse = Literal["none", "responded", "no_response", "adverse_reaction"]
SuicideRisk = Literal["none", "low", "moderate", "high"]
PlannedFormulation = Literal[
    "esketamine_nasal", "racemic_iv", "racemic_im", "racemic_oral", "undecided"
]

_STRICT = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

# --- What one document may cost to check ------------------------------------------------------
# Every door (form, API, command) goes through `validate_facts`, so these bound the work any
# caller can ask for: a document is refused on its size before its keys are looked at one by one.

#: The largest facts document read from text, in bytes (a full document is a few kilobytes).
MAX_DOCUMENT_BYTES = 256 * 1024
#: The most keys a facts document may have (the data dictionary names about 50 facts).
MAX_FACTS = 100
#: The most values (nested ones included) in a document: 50 trials of 3 fields is 150.
MAX_VALUES = 2_000
#: The deepest nesting of objects and lists: document → antidepressant_trials → trial is 3.
MAX_DEPTH = 8
#: The most problems reported for one document; the last line says how many more there were.
MAX_PROBLEMS = 50
#: Unknown keys that get a "did you mean" suggestion; the rest are just named.
MAX_SUGGESTIONS = 5

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: Any) -> Any:
    """Only an ISO date (`YYYY-MM-DD`) is a date: not Unix seconds, not a date and time."""
    if isinstance(value, str):
        if not _ISO_DATE.fullmatch(value):
            raise ValueError(f"must be an ISO date, YYYY-MM-DD (got {_describe(value)})")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"is not a date in the calendar (got {_describe(value)})") from None
    if isinstance(value, date) and type(value) is date:
        return value
    if value is None:
        return value
    raise ValueError(f"must be an ISO date, YYYY-MM-DD (got {_describe(value)})")


#: A date as the data dictionary means it: an ISO date string (or a `date` from Python callers).
IsoDate = Annotated[date, BeforeValidator(_iso_date)]


class AntidepressantTrial(BaseModel):
    """A trial of conventional medication for the current depressive episode."""

    model_config = _STRICT

    drug: str = Field(min_length=1, max_length=80, pattern=r"^[^\x00]*$")
    weeks_at_adequate_dose: int = Field(ge=0, le=104)
    outcome: TrialOutcome


class Cssrs(BaseModel):
    """C-SSRS screener answers. Q3–Q5 are asked only when Q2 (`active_thoughts`) is yes."""

    model_config = _STRICT

    wish_dead: bool | None = None
    active_thoughts: bool | None = None
    method: bool | None = None
    intent: bool | None = None
    plan: bool | None = None
    behavior_past_3_months: bool | None = None
    behavior_lifetime: bool | None = None


class DiagnosesInPart(BaseModel):
    """Diagnoses known in part (open world): `includes` are documented, `excludes` are known
    not to apply, and every other condition is not recorded (neither yes nor no). This is what
    EHR data says: a recorded condition is present, an unrecorded one is unknown."""

    model_config = _STRICT

    includes: list[Diagnosis] = Field(default_factory=list, max_length=8)
    excludes: list[Diagnosis] = Field(default_factory=list, max_length=8)


#: Tags of the two shapes a set fact may take (never shown in error field names).
_SET_SHAPES = ("complete", "known_in_part")


def _set_shape(value: Any) -> str:
    return "known_in_part" if isinstance(value, Mapping | DiagnosesInPart) else "complete"


#: `diagnoses`: a complete list (closed world: what is not listed is absent), or an object
#: `{"includes": [...], "excludes": [...]}` (open world: what is not listed is not recorded).
Diagnoses = Annotated[
    Annotated[list[Diagnosis], Tag("complete")] | Annotated[DiagnosesInPart, Tag("known_in_part")],
    Discriminator(_set_shape),
]


class IntakeFacts(BaseModel):
    """The input document, field for field as in the data dictionary. Absent or null = not recorded."""

    model_config = _STRICT

    age_years: int | None = Field(default=None, ge=0, le=120)
    date_of_birth: IsoDate | None = None
    screening_date: IsoDate | None = None
    sex_at_birth: Sex | None = None
    pregnancy_status: PregnancyStatus | None = None
    breastfeeding: bool | None = None
    planning_pregnancy: bool | None = None
    diagnoses: Diagnoses | None = None
    current_mood_episode: MoodEpisode | None = None
    antidepressant_trials: list[AntidepressantTrial] | None = Field(default=None, max_length=50)
    failed_anxiety_treatments: int | None = Field(default=None, ge=0, le=20)
    failed_pain_treatments: int | None = Field(default=None, ge=0, le=20)
    phq9_total: int | None = Field(default=None, ge=0, le=27)
    phq9_item9: int | None = Field(default=None, ge=0, le=3)
    gad7_total: int | None = Field(default=None, ge=0, le=21)
    pcl5_total: int | None = Field(default=None, ge=0, le=80)
    ybocs_total: int | None = Field(default=None, ge=0, le=40)
    pain_nrs: int | None = Field(default=None, ge=0, le=10)
    cssrs: Cssrs | None = None
    systolic_bp: int | None = Field(default=None, ge=60, le=300)
    diastolic_bp: int | None = Field(default=None, ge=30, le=200)
    heart_rate: int | None = Field(default=None, ge=20, le=250)
    hypersensitivity_to_ketamine: bool | None = None
    aneurysmal_vascular_disease: bool | None = None
    arteriovenous_malformation: bool | None = None
    intracerebral_hemorrhage_history: bool | None = None
    cardiovascular_disease: CardiovascularDisease | None = None
    hypertensive_encephalopathy_history: bool | None = None
    elevated_intracranial_pressure: bool | None = None
    elevated_intraocular_pressure: bool | None = None
    hepatic_impairment: HepaticImpairment | None = None
    cognitive_impairment: bool | None = None
    psychosis_current: bool | None = None
    psychosis_history: bool | None = None
    family_history_schizophrenia: bool | None = None
    substance_use_disorder: SubstanceUse | None = None
    ketamine_misuse_history: bool | None = None
    prior_ketamine_response: PriorKetamineResponse | None = None
    benzodiazepine_dose_mg_diazepam_eq: float | None = Field(default=None, ge=0, le=200)
    takes_lamotrigine: bool | None = None
    takes_maoi: bool | None = None
    takes_stimulant: bool | None = None
    takes_opioid: bool | None = None
    takes_mood_stabilizer: bool | None = None
    engaged_in_psychotherapy: bool | None = None
    has_escort_home: bool | None = None
    # Added in version 2 of the data dictionary: accepted under every rule-set version (version-1
    # rules never read them).
    bp_rise_serious_hazard: bool | None = Field(
        default=None,
        description="A condition in which a significant rise in blood pressure (or heart rate) "
        "would be a serious hazard, not already recorded as aneurysm/AVM/ICH (e.g. uncontrolled "
        "hyperthyroidism, phaeochromocytoma, recent MI or unstable angina, decompensated heart "
        "failure).",
    )
    respiratory_compromise: bool | None = Field(
        default=None,
        description="Reduced respiratory reserve or a risk of airway obstruction under sedation "
        "(obstructive sleep apnoea, COPD, other chronic lung or neuromuscular disease).",
    )
    other_cns_depressant_use: bool | None = Field(
        default=None,
        description="Regular use of a CNS depressant other than opioids and benzodiazepines "
        "(gabapentinoids, Z-drugs, sedating antipsychotics or antihistamines, barbiturates, "
        "muscle relaxants, regular alcohol).",
    )
    bladder_symptoms_or_cystitis: bool | None = Field(
        default=None,
        description="Current lower-urinary-tract symptoms or a history of ulcerative or "
        "interstitial cystitis, including ketamine-associated uropathy.",
    )
    planned_formulation: PlannedFormulation | None = Field(
        default=None,
        description="The ketamine product and route under consideration (racemic_oral includes "
        "sublingual; undecided is a recorded answer, not unknown).",
    )


#: Input fields that are not rule facts themselves (they feed `age_years`).
DATE_FIELDS = ("date_of_birth", "screening_date")

#: Derived facts that stand for an input fact, for the `missing` list.
DERIVED_SOURCES: dict[str, str] = {
    "failed_adequate_antidepressant_trials": "antidepressant_trials",
    "suicide_risk": "cssrs",
    "acute_suicidal_ideation_or_behavior": "cssrs",
}

_CSSRS_FOLLOW_UPS = ("method", "intent", "plan")

#: Rule language levels. A rule set declares the one its rules were written for, so that the
#: meaning of a published version never changes: 1 is version 1's reading, 2 adds decisions on
#: facts known in part (`suicide_risk` from partial C-SSRS answers) and the effective
#: `breastfeeding` default (data dictionary, "Added in version 2").
LANGUAGES: tuple[int, ...] = (1, 2)

#: Key of the values mapping (never a fact name) holding, per fact the facts layer filled in
#: because nothing was entered, the explanation of that default.
DEFAULTED = "(defaulted)"


@dataclass(frozen=True, slots=True)
class Facts:
    """Validated facts: `values` holds every rule-language fact (input and derived) as rule
    language level 1 reads it; `values_for(language)` as any level reads it."""

    intake: IntakeFacts
    values: Mapping[str, Any]
    refined: Mapping[str, Any]

    def values_for(self, language: int) -> Mapping[str, Any]:
        """The facts as rule language `language` reads them (see `LANGUAGES`)."""
        return self.values if language == 1 else self.refined

    def as_document(self) -> dict[str, Any]:
        """The input as evaluated (JSON-ready, not-recorded facts left out), for snapshots."""
        document: dict[str, Any] = self.intake.model_dump(mode="json", exclude_none=True)
        if self.values["age_years"] is not None and "age_years" not in document:
            document["age_years"] = self.values["age_years"]
        return document


def validate_facts(document: Mapping[str, Any], *, today: date) -> Facts:
    """Validate an input document and compute the derived facts.

    `today` is the default screening date (the engine never reads the clock).
    Raises `FactsInvalid` listing every problem by field.
    """
    if not isinstance(document, Mapping):
        raise FactsInvalid([FieldError("(document)", "must be a JSON object of facts")])
    bounded = _bounds_problems(document)
    if bounded:
        raise FactsInvalid(bounded)
    try:
        intake = IntakeFacts.model_validate(document)
    except ValidationError as exc:
        suggestions = [MAX_SUGGESTIONS]
        errors = [_field_error(err, suggestions) for err in exc.errors(include_url=False)]
        partial = _validate_what_is_valid(
            document, {e.field.split("[")[0].split(".")[0] for e in errors}
        )
        if partial is not None:
            errors.extend(_cross_field_errors(partial, today))
        raise FactsInvalid(_at_most(_sorted_unique(errors))) from None
    errors = _cross_field_errors(intake, today)
    if errors:
        raise FactsInvalid(errors)
    values = _derive(intake, today)
    return Facts(intake=intake, values=values, refined=_refine(intake, values))


def parse_document(text: str | bytes) -> Any:
    """The JSON value of a facts document's text, or `FactsInvalid` saying in one sentence why
    it cannot be read: too large, not JSON, or nested too deeply (checked before any key is)."""
    if len(text) > MAX_DOCUMENT_BYTES:
        limit = f"{MAX_DOCUMENT_BYTES // 1024} KB"
        raise FactsInvalid(
            [FieldError("(document)", f"is larger than {limit}, the most a facts document may be")]
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        message = f"is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
    except RecursionError:
        message = f"is nested too deeply (a facts document has at most {MAX_DEPTH} levels)"
    except (ValueError, UnicodeDecodeError) as exc:  # e.g. an integer of over 4,300 digits
        message = f"is not valid JSON: {exc}"
    raise FactsInvalid([FieldError("(document)", message)])


def _bounds_problems(document: Mapping[str, Any]) -> list[FieldError]:
    """What makes the document too big to check key by key (empty when it is not): too many
    facts, too many values, nesting too deep; and text holding NUL characters, which no
    database column can store. Iterative, so no depth can exhaust the stack."""
    if len(document) > MAX_FACTS:
        return [
            FieldError(
                "(document)",
                f"has {len(document):,} keys; a facts document has at most {MAX_FACTS}",
            )
        ]
    problems: list[FieldError] = []
    values = 0
    # The document itself has no path (None), so a top-level key named "" still gets one.
    stack: list[tuple[str | None, Any, int]] = [(None, document, 1)]
    while stack:
        path, value, depth = stack.pop()
        values += 1
        if values > MAX_VALUES:
            return [
                FieldError(
                    "(document)", f"holds more than {MAX_VALUES:,} values; too many to check"
                )
            ]
        if depth > MAX_DEPTH:
            return [
                FieldError(
                    path or "(document)",
                    f"is nested too deeply (a facts document has at most {MAX_DEPTH} levels)",
                )
            ]
        if isinstance(value, str) and "\x00" in value:
            problems.append(FieldError(path or "(document)", "must not contain NUL characters"))
        elif isinstance(value, Mapping):
            for key, item in value.items():
                name = str(key)
                if "\x00" in name:
                    problems.append(
                        FieldError(path or "(document)", "has a key with a NUL character")
                    )
                    continue
                stack.append((name if path is None else f"{path}.{name}", item, depth + 1))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item, depth + 1) for i, item in enumerate(value))
    return _at_most(sorted(problems, key=lambda problem: problem.field))


def _at_most(errors: list[FieldError]) -> list[FieldError]:
    """The first `MAX_PROBLEMS` problems, and a last one saying how many more there were."""
    if len(errors) <= MAX_PROBLEMS:
        return errors
    more = len(errors) - MAX_PROBLEMS
    return [
        *errors[:MAX_PROBLEMS],
        FieldError("(document)", f"and {more:,} more problem{'s' if more > 1 else ''}"),
    ]


def _validate_what_is_valid(document: Mapping[str, Any], bad: set[str]) -> IntakeFacts | None:
    """Re-validate without the failing keys, so contradictions among the rest are reported too."""
    rest = {k: v for k, v in document.items() if k not in bad and k in IntakeFacts.model_fields}
    try:
        return IntakeFacts.model_validate(rest)
    except ValidationError:
        return None


def _cross_field_errors(intake: IntakeFacts, today: date) -> list[FieldError]:
    errors: list[FieldError] = []
    if intake.age_years is not None and intake.date_of_birth is not None:
        errors.append(
            FieldError("date_of_birth", "give either age_years or date_of_birth, not both")
        )
    elif intake.date_of_birth is not None:
        on = intake.screening_date or today
        if intake.date_of_birth > on:
            errors.append(
                FieldError("date_of_birth", f"is after the screening date ({on.isoformat()})")
            )
        elif _age_on(intake.date_of_birth, on) > 120:
            errors.append(FieldError("date_of_birth", "gives an age over 120 years"))
    if (
        intake.systolic_bp is not None
        and intake.diastolic_bp is not None
        and intake.diastolic_bp >= intake.systolic_bp
    ):
        errors.append(
            FieldError(
                "diastolic_bp",
                f"must be lower than systolic_bp (got {intake.systolic_bp}/{intake.diastolic_bp})",
            )
        )
    if isinstance(intake.diagnoses, DiagnosesInPart):
        both = sorted(set(intake.diagnoses.includes) & set(intake.diagnoses.excludes))
        if both:
            errors.append(
                FieldError("diagnoses.excludes", f"{', '.join(both)} is also in includes")
            )
    if intake.pregnancy_status == "pregnant" and intake.sex_at_birth == "male":
        errors.append(
            FieldError("pregnancy_status", "cannot be pregnant when sex_at_birth is male")
        )
    if intake.cssrs is not None and intake.cssrs.active_thoughts is False:
        for name in _CSSRS_FOLLOW_UPS:
            if getattr(intake.cssrs, name) is True:
                errors.append(
                    FieldError(
                        f"cssrs.{name}",
                        "is asked only when active_thoughts (Q2) is yes, but Q2 is no",
                    )
                )
    return errors


def _age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _derive(intake: IntakeFacts, today: date) -> dict[str, Any]:
    values = dict(intake.__dict__)
    for name in DATE_FIELDS:
        del values[name]
    if intake.date_of_birth is not None:
        values["age_years"] = _age_on(intake.date_of_birth, intake.screening_date or today)
    age = values["age_years"]
    values["diagnoses"] = set_value(intake.diagnoses, get_args(Diagnosis))
    values["antidepressant_trials"] = None
    values["cssrs"] = None
    if intake.pregnancy_status is None and (
        intake.sex_at_birth == "male" or (age is not None and (age < 10 or age > 55))
    ):
        values["pregnancy_status"] = "not_applicable"
    trials = intake.antidepressant_trials
    values["failed_adequate_antidepressant_trials"] = (
        None
        if trials is None
        else sum(
            1
            for t in trials
            if t.weeks_at_adequate_dose >= 6 and t.outcome in ("no_response", "partial_response")
        )
    )
    values["suicide_risk"] = suicide_risk(intake.cssrs)
    values["acute_suicidal_ideation_or_behavior"] = (
        None
        if intake.cssrs is None
        else _any(intake.cssrs.active_thoughts, intake.cssrs.behavior_past_3_months)
    )
    return values


def set_value(
    given: list[Any] | DiagnosesInPart | None, allowed: tuple[str, ...]
) -> frozenset[str] | SetInPart | None:
    """A set fact as rules read it: a frozenset when known (a complete list, or an open-world
    set whose includes and excludes together name every allowed value), a `SetInPart` when
    known in part, None when not recorded."""
    if given is None:
        return None
    if isinstance(given, DiagnosesInPart):
        members, absent = frozenset(given.includes), frozenset(given.excludes)
        if members | absent >= set(allowed):
            return members
        return SetInPart(members=members, absent=absent)
    return frozenset(given)


def _refine(intake: IntakeFacts, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values as rule language level 2 reads them (data dictionary, "Added in version 2")."""
    refined = dict(values)
    refined["suicide_risk"] = suicide_risk_known_in_part(intake.cssrs)
    if intake.breastfeeding is None and intake.sex_at_birth == "male":
        refined["breastfeeding"] = False
        refined[DEFAULTED] = {"breastfeeding": "breastfeeding not recorded; sex_at_birth = male"}
    return refined


def _any(*answers: bool | None) -> bool | None:
    """Kleene `or`: true if any is true, false if all are false, otherwise unknown."""
    if True in answers:
        return True
    if None in answers:
        return None
    return False


def suicide_risk(cssrs: Cssrs | None) -> SuicideRisk | None:
    """C-SSRS screener triage: high / moderate / low / none, or None when it cannot be decided."""
    if cssrs is None:
        return None
    skipped = cssrs.active_thoughts is False
    method = False if skipped and cssrs.method is None else cssrs.method
    intent = False if skipped and cssrs.intent is None else cssrs.intent
    plan = False if skipped and cssrs.plan is None else cssrs.plan
    levels: tuple[tuple[SuicideRisk, bool | None], ...] = (
        ("high", _any(intent, plan, cssrs.behavior_past_3_months)),
        ("moderate", _any(method, cssrs.behavior_lifetime)),
        ("low", _any(cssrs.wish_dead, cssrs.active_thoughts)),
    )
    for level, answer in levels:
        if answer is None:
            return None
        if answer:
            return level
    return "none"


# --- suicide_risk from partial C-SSRS answers (rule language level 2) -----------------------

#: The answers behind each triage level: H (high), M (moderate), W (low).
_HIGH = ("intent", "plan", "behavior_past_3_months")
_MODERATE = ("method", "behavior_lifetime")
_LOW = ("wish_dead", "active_thoughts")
_ALL_ANSWERS = (*_LOW, "method", "intent", "plan", "behavior_past_3_months", "behavior_lifetime")


def _cssrs_answers(cssrs: Cssrs | None) -> dict[str, bool | None]:
    """Every answer (None = not recorded); Q3–Q5 count as no when Q2 is no (not asked)."""
    answers: dict[str, bool | None] = {
        name: None if cssrs is None else getattr(cssrs, name) for name in _ALL_ANSWERS
    }
    if answers["active_thoughts"] is False:
        for name in _CSSRS_FOLLOW_UPS:
            if answers[name] is None:
                answers[name] = False
    return answers


def suicide_risk_levels(cssrs: Cssrs | None) -> frozenset[SuicideRisk]:
    """The risk levels consistent with the recorded answers, by the data dictionary's closed
    form (equivalent to triaging every completion of the answers). One level exactly when
    `suicide_risk` is known, and then it is that level."""
    answers = _cssrs_answers(cssrs)
    high, moderate, low = (
        _any(*(answers[name] for name in group)) for group in (_HIGH, _MODERATE, _LOW)
    )
    levels: set[SuicideRisk] = set()
    if high is not False:
        levels.add("high")
    if high is not True and moderate is not False:
        levels.add("moderate")
    if high is not True and moderate is not True and low is not False:
        levels.add("low")
    if high is not True and moderate is not True and low is not True:
        levels.add("none")
    return frozenset(levels)


def suicide_risk_known_in_part(cssrs: Cssrs | None) -> SuicideRisk | Possible:
    """`suicide_risk` for rule language level 2: the level when the answers settle it, otherwise
    the levels still possible, each excluded level with the answers that exclude it."""
    levels = suicide_risk_levels(cssrs)
    if len(levels) == 1:
        return next(iter(levels))
    answers = _cssrs_answers(cssrs)

    def said(group: tuple[str, ...], answer: bool) -> str:
        names = ", ".join(f"cssrs.{name}" for name in group if answers[name] is answer)
        return f"{names} = {'yes' if answer else 'no'}"

    high, moderate, low = (
        _any(*(answers[name] for name in group)) for group in (_HIGH, _MODERATE, _LOW)
    )
    # Why each level is ruled out, by the closed form: a yes to a higher level's answers, or no
    # to every answer of its own level.
    groups = {"high": (_HIGH, high), "moderate": (_MODERATE, moderate), "low": (_LOW, low)}
    ruled_out: dict[str, str] = {}
    higher: list[tuple[tuple[str, ...], bool | None]] = []
    for level in ("high", "moderate", "low", "none"):
        own = groups.get(level)
        yes = next((group for group, value in higher if value is True), None)
        if yes is not None:
            ruled_out[level] = said(yes, True)
        elif own is not None and own[1] is False:
            ruled_out[level] = said(own[0], False)
        if own is not None:
            higher.append(own)
    unrecorded = (
        ("cssrs",)
        if cssrs is None
        else tuple(f"cssrs.{name}" for name in _ALL_ANSWERS if answers[name] is None)
    )
    return Possible(
        candidates=frozenset(levels),
        ruled_out=tuple(
            (level, reason) for level, reason in ruled_out.items() if level not in levels
        ),
        unrecorded=unrecorded,
    )


# --- turning pydantic's errors into sentences a clinician can read -------------------------

_TYPE_WORDS = {
    "int": "a whole number",
    "bool": "true or false",
    "float": "a number",
    "string": "text",
    "list": "a list",
    "date": "a date (YYYY-MM-DD)",
    "model": "an object",
    "dict": "an object",
}


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in {"function-after", "function-before", "literal", *_SET_SHAPES} or "[" in str(
            part
        ):
            continue
        else:
            path += f".{part}" if path else str(part)
    return path or "(document)"


def _known_names(loc: tuple[int | str, ...]) -> list[str]:
    if not loc or loc[0] not in ("cssrs", "antidepressant_trials", "diagnoses"):
        return list(IntakeFacts.model_fields)
    models: dict[Any, type[BaseModel]] = {
        "cssrs": Cssrs,
        "antidepressant_trials": AntidepressantTrial,
        "diagnoses": DiagnosesInPart,
    }
    model = models[loc[0]]
    return list(model.model_fields)


def _field_error(err: Any, suggestions: list[int]) -> FieldError:
    """The sentence for one pydantic error. `suggestions` holds how many more unknown keys may
    get a "did you mean" (each costs a fuzzy search over the known names)."""
    loc: tuple[int | str, ...] = tuple(err["loc"])
    kind: str = err["type"]
    ctx: dict[str, Any] = err.get("ctx") or {}
    field = _field_path(loc)
    got = err.get("input")
    if kind == "extra_forbidden":
        name = str(loc[-1])
        close: list[str] = []
        if suggestions[0] > 0:
            suggestions[0] -= 1
            close = difflib.get_close_matches(name, _known_names(loc), n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        noun = "fact" if len(loc) == 1 else "field"
        # The key is the person's own text: name it even when it looks like a pydantic tag.
        parent = _field_path(loc[:-1]) if len(loc) > 1 else ""
        field = (f"{parent}.{name}" if parent else name) or "(document)"
        return FieldError(field, f"unknown {noun} {name!r}{hint}")
    if kind == "missing":
        return FieldError(field, "is required")
    if kind == "literal_error":
        return FieldError(field, f"must be one of {ctx.get('expected', '')} (got {_shown(got)})")
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return FieldError(field, _range_message(field, got))
    if kind in ("too_long", "too_short", "string_too_long", "string_too_short"):
        message = str(err["msg"])
        for subject in ("Value should", "List should", "String should"):
            message = message.replace(subject, "must")
        return FieldError(field, message)
    if kind == "value_error":
        return FieldError(field, str(err["msg"]).removeprefix("Value error, "))
    if kind == "finite_number":
        return FieldError(field, "must be a finite number")
    if kind == "string_unicode":
        # A lone surrogate, in a value or in a key (then the field is the object holding it).
        return FieldError(field, f"holds text that is not valid Unicode (got {_describe(got)})")
    base = kind.split("_")[0]
    if base in _TYPE_WORDS:
        return FieldError(field, f"must be {_TYPE_WORDS[base]} (got {_describe(got)})")
    return FieldError(field, str(err["msg"]))


def _range_message(field: str, got: Any) -> str:
    top = field.split(".")[-1].split("[")[0]
    model: type[BaseModel] = IntakeFacts
    if field.startswith("antidepressant_trials"):
        model = AntidepressantTrial
    info = model.model_fields.get(top)
    lo = hi = None
    for meta in info.metadata if info else []:
        lo = getattr(meta, "ge", lo)
        hi = getattr(meta, "le", hi)
    return f"must be between {lo} and {hi} (got {_shown(got)})"


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else repr(value[:40] + "…")
    if isinstance(value, int | float):
        return _shown(value)
    return type(value).__name__.replace("dict", "an object").replace("list", "a list")


def _shown(value: Any) -> str:
    """`repr(value)`, unless it holds an integer too long for Python to print (`repr` raises
    ValueError past `sys.get_int_max_str_digits()`): then what it is, so the error is still a
    sentence."""
    try:
        return repr(value)
    except ValueError:
        if isinstance(value, int):
            digits = int(value.bit_length() * 0.30103) + 1
            return f"a whole number of about {digits} digits"
        return "an object" if isinstance(value, Mapping) else "a list"


def _sorted_unique(errors: list[FieldError]) -> list[FieldError]:
    seen: dict[tuple[str, str], FieldError] = {}
    for error in errors:
        seen.setdefault((error.field, error.message), error)
    return list(seen.values())
