"""FHIR R4 resources → screening facts, as `rules/data/fhir-map.toml` says (data, not code).

Pure: no Django, no clock (the screening date is passed in). Every fact taken carries its
source (resource type/id, date), so the clinician sees where each prefilled answer came from;
stale and conflicting data is reported and never used; anything the map does not name stays
unknown, and an absent resource says nothing (conditions and medicines only ever say yes;
diagnoses become an open-world set, `{"includes": [...]}`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

from rules.engine import FactsInvalid, IntakeFacts, validate_facts
from screening.fhir import codes

MAP_PATH = Path(__file__).resolve().parents[2] / "rules" / "data" / "fhir-map.toml"

_FINAL = {"final", "amended", "corrected"}
_ACTIVE = {"active", "recurrence", "relapse"}
_NOT_REAL = {"refuted", "entered-in-error"}

Status = Literal["used", "stale", "conflict", "invalid"]


@dataclass(frozen=True, slots=True)
class Source:
    """Where a value came from: `Observation/abc`, its date (ISO, or None), what it said."""

    reference: str
    date: str | None
    display: str

    def as_json(self) -> dict[str, Any]:
        return {"reference": self.reference, "date": self.date, "display": self.display}


@dataclass(frozen=True, slots=True)
class Finding:
    """One value found for a fact, and whether it is used (or why not)."""

    fact: str
    value: Any
    source: Source
    status: Status = "used"
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "fact": self.fact,
            "value": self.value,
            "source": self.source.as_json(),
            "status": self.status,
            "note": self.note,
        }


@dataclass
class Prefill:
    """What a set of FHIR resources says: `facts` (a facts document, only what is used) and
    every finding behind it, used or not."""

    facts: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)

    def used(self) -> list[Finding]:
        return [f for f in self.findings if f.status == "used"]

    def not_used(self) -> list[Finding]:
        return [f for f in self.findings if f.status != "used"]

    def sources(self) -> dict[str, list[dict[str, Any]]]:
        """Per fact, the sources of the values used (JSON-ready)."""
        found: dict[str, list[dict[str, Any]]] = {}
        for finding in self.used():
            found.setdefault(finding.fact, []).append(finding.source.as_json())
        return found


class BundleInvalid(ValueError):
    """The document is not a FHIR Bundle (or resource list) this mapping can read."""


@cache
def fhir_map() -> dict[str, Any]:
    """The mapping file, parsed once."""
    with MAP_PATH.open("rb") as data:
        return tomllib.load(data)


def bundle_resources(bundle: Any) -> list[Mapping[str, Any]]:
    """The resources of a Bundle (`entry[].resource`); raises `BundleInvalid`."""
    if not isinstance(bundle, Mapping) or bundle.get("resourceType") != "Bundle":
        raise BundleInvalid('must be a FHIR Bundle (a JSON object with "resourceType": "Bundle")')
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise BundleInvalid("Bundle.entry must be a list")
    resources = []
    for index, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, Mapping) else None
        if not isinstance(resource, Mapping) or not isinstance(resource.get("resourceType"), str):
            raise BundleInvalid(f"Bundle.entry[{index}].resource must be a FHIR resource")
        resources.append(resource)
    return resources


def map_bundle(bundle: Any, *, today: date) -> Prefill:
    """What a Bundle says, per the mapping file (raises `BundleInvalid`)."""
    return map_resources(bundle_resources(bundle), today=today)


def map_resources(resources: Iterable[Mapping[str, Any]], *, today: date) -> Prefill:
    """What a set of resources says, per the mapping file."""
    spec = fhir_map()
    found: list[Finding] = []
    unmapped: list[str] = []
    for resource in resources:
        kind = resource.get("resourceType")
        reader = _READERS.get(str(kind))
        got = reader(resource, spec, today) if reader else []
        if not got and kind != "Bundle":
            unmapped.append(_reference(resource))
        found.extend(got)
    return _settle(found, unmapped, today)


# --- readers, one per resource type ----------------------------------------------------------


def _reference(resource: Mapping[str, Any]) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id', '?')}"


def _codings(concept: Any) -> list[tuple[str, str]]:
    if not isinstance(concept, Mapping):
        return []
    return [
        (str(c.get("system", "")), str(c.get("code", "")))
        for c in concept.get("coding", [])
        if isinstance(c, Mapping)
    ]


def _when(resource: Mapping[str, Any], *names: str) -> date | None:
    for name in names:
        value = resource.get(name)
        if isinstance(value, Mapping):
            value = value.get("start")
        if isinstance(value, str) and len(value) >= 10:
            try:
                return date.fromisoformat(value[:10])
            except ValueError:
                return None
    return None


def _iso(when: date | None) -> str | None:
    return None if when is None else when.isoformat()


def _age_problem(when: date | None, today: date, max_age_days: int) -> str:
    if when is None:
        return "has no date"
    if when > today:
        return f"is dated after the screening date ({when.isoformat()})"
    if (today - when).days > max_age_days:
        return f"is from {when.isoformat()}, older than {max_age_days} days"
    return ""


def _observation(
    resource: Mapping[str, Any], spec: Mapping[str, Any], today: date
) -> list[Finding]:
    if resource.get("status") not in _FINAL:
        return []
    when = _when(resource, "effectiveDateTime", "effectivePeriod", "issued")
    reference = _reference(resource)
    own = _codings(resource.get("code"))
    found: list[Finding] = []
    for entry in spec.get("observation", []):
        code: codes.Code = getattr(codes, entry["code"])
        key = (code.system, code.code)
        value: Any = None
        if key in own:
            value = (resource.get("valueQuantity") or {}).get("value")
        elif (
            entry.get("panel")
            and (getattr(codes, entry["panel"]).system, getattr(codes, entry["panel"]).code) in own
        ):
            for component in resource.get("component", []):
                if key in _codings(component.get("code")):
                    value = (component.get("valueQuantity") or {}).get("value")
        if value is None:
            continue
        source = Source(reference, _iso(when), f"{code.display}: {value}")
        found.append(_finding(entry["fact"], _number(value), source, when, today, entry))
    found.extend(_cssrs_observation(resource, spec, today, own, when))
    for entry in spec.get("coded_observation", []):
        system = spec["systems"][entry["system"]]
        if (system, entry["code"]) not in own:
            continue
        answers = entry["answers"]
        for answer_system, answer_code in _codings(resource.get("valueCodeableConcept")):
            mapped = answers.get(f"{answer_system}|{answer_code}")
            if mapped is not None:
                source = Source(reference, _iso(when), f"{entry['fact']}: {mapped}")
                found.append(_finding(entry["fact"], mapped, source, when, today, entry))
                break
    return found


# --- C-SSRS: one administration's items, from Observations or a QuestionnaireResponse ---------

CSSRS = "cssrs."


def _cssrs_answer(spec: Mapping[str, Any], holder: Mapping[str, Any]) -> bool | None:
    """Yes/no from `valueBoolean`, `valueCoding` or `valueCodeableConcept` (None: no answer
    the map knows, so the item stays unknown)."""
    if isinstance(holder.get("valueBoolean"), bool):
        return bool(holder["valueBoolean"])
    answers = spec["cssrs"]["answers"]
    codings = _codings(holder.get("valueCodeableConcept"))
    coding = holder.get("valueCoding")
    if isinstance(coding, Mapping):
        codings.append((str(coding.get("system", "")), str(coding.get("code", ""))))
    for system, code in codings:
        if not system and code.startswith("LA"):
            system = spec["systems"]["loinc"]  # LHC-Forms writes LOINC answers without a system
        value = answers.get(f"{system}|{code}")
        if value is not None:
            return bool(value)
    return None


def _cssrs_finding(
    item: Mapping[str, Any],
    value: bool,
    reference: str,
    when: date | None,
    today: date,
    spec: Mapping[str, Any],
) -> Finding:
    fact = CSSRS + item["field"]
    said = f"C-SSRS {item['display']}: {'yes' if value else 'no'}"
    source = Source(reference, _iso(when), said)
    limit = int(spec["cssrs"]["max_age_days"])
    if item.get("lifetime") and value:
        limit = (today - date.min).days  # "ever: yes" stays true whatever its age
    problem = _age_problem(when, today, limit)
    if problem:
        return Finding(fact, value, source, "stale", f"{reference} {problem}")
    return Finding(fact, value, source)


def _cssrs_observation(
    resource: Mapping[str, Any],
    spec: Mapping[str, Any],
    today: date,
    own: list[tuple[str, str]],
    when: date | None,
) -> list[Finding]:
    if "cssrs" not in spec:
        return []
    loinc = spec["systems"]["loinc"]
    reference = _reference(resource)
    holders: list[tuple[list[tuple[str, str]], Mapping[str, Any]]] = [(own, resource)]
    if (loinc, spec["cssrs"]["panel"]) in own:
        holders += [
            (_codings(c.get("code")), c)
            for c in resource.get("component", [])
            if isinstance(c, Mapping)
        ]
    found = []
    for item in spec["cssrs"]["item"]:
        for codings, holder in holders:
            if (loinc, item["code"]) in codings:
                value = _cssrs_answer(spec, holder)
                if value is not None:
                    found.append(_cssrs_finding(item, value, reference, when, today, spec))
                break
    return found


def _questionnaire_response(
    resource: Mapping[str, Any], spec: Mapping[str, Any], today: date
) -> list[Finding]:
    """C-SSRS items of a completed QuestionnaireResponse, found by linkId = the item's LOINC
    code ("/93246-7" or "93246-7", nested groups too)."""
    if resource.get("status") not in ("completed", "amended") or "cssrs" not in spec:
        return []
    by_code = {item["code"]: item for item in spec["cssrs"]["item"]}
    when = _when(resource, "authored")
    reference = _reference(resource)
    found: list[Finding] = []
    seen: set[str] = set()
    pending = list(resource.get("item", []))
    while pending:
        node = pending.pop(0)
        if not isinstance(node, Mapping):
            continue
        pending.extend(node.get("item", []))
        answers = [a for a in node.get("answer", []) if isinstance(a, Mapping)]
        for answer in answers:
            pending.extend(answer.get("item", []))
        item = by_code.get(str(node.get("linkId", "")).rstrip("/").rsplit("/", 1)[-1])
        if item is None or item["code"] in seen or len(answers) != 1:
            continue
        value = _cssrs_answer(spec, answers[0])
        if value is not None:
            seen.add(item["code"])
            found.append(_cssrs_finding(item, value, reference, when, today, spec))
    return found


def _settle_cssrs(findings: list[Finding], prefill: Prefill) -> None:
    """The newest administration's answers (items of the newest date among those usable), as
    one `cssrs` object: answers of two screenings are never mixed. An older lifetime "yes"
    fills a lifetime answer the newest one lacks, and contradicts a newer "no"."""
    prefill.findings.extend(f for f in findings if f.status != "used")
    usable = [f for f in findings if f.status == "used"]
    if not usable:
        return
    newest = max((f.source.date or "") for f in usable)
    chosen = [f for f in usable if (f.source.date or "") == newest]
    lifetime = CSSRS + "behavior_lifetime"
    ever_yes = [f for f in usable if f not in chosen and f.fact == lifetime and f.value is True]
    if ever_yes and not any(f.fact == lifetime for f in chosen):
        chosen.append(max(ever_yes, key=lambda f: f.source.date or ""))
    placed: list[Finding] = []
    answers: dict[str, bool] = {}
    for fact in sorted({f.fact for f in chosen}):
        latest = [f for f in chosen if f.fact == fact]
        said_no_after_yes = fact == lifetime and latest[0].value is False and bool(ever_yes)
        if len({f.value for f in latest}) > 1 or said_no_after_yes:
            disagreeing = latest + (ever_yes if said_no_after_yes else [])
            note = f"{fact}: the C-SSRS answers disagree"
            prefill.findings.extend(
                Finding(f.fact, f.value, f.source, "conflict", note) for f in disagreeing
            )
            placed.extend(disagreeing)
            continue
        answers[fact.removeprefix(CSSRS)] = bool(latest[0].value)
        prefill.findings.extend(latest)
        placed.extend(latest)
    prefill.findings.extend(
        Finding(f.fact, f.value, f.source, "stale", f"a newer C-SSRS ({newest}) is used")
        for f in usable
        if f not in placed
    )
    if answers:
        prefill.facts["cssrs"] = answers


def _number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _finding(
    fact: str, value: Any, source: Source, when: date | None, today: date, entry: Mapping[str, Any]
) -> Finding:
    problem = _age_problem(when, today, int(entry["max_age_days"]))
    if problem:
        return Finding(fact, value, source, "stale", f"{source.reference} {problem}")
    return Finding(fact, value, source)


def _matches(
    own: list[tuple[str, str]], entry: Mapping[str, Any], systems: Mapping[str, str]
) -> bool:
    for system, code in own:
        if system == systems["icd10cm"]:
            if any(code.startswith(p) for p in entry.get("exclude_icd10cm", [])):
                continue
            if any(code.startswith(p) for p in entry.get("icd10cm", [])):
                return True
        if system == systems["snomed"] and code in entry.get("snomed", []):
            return True
    return False


def _condition(resource: Mapping[str, Any], spec: Mapping[str, Any], today: date) -> list[Finding]:
    clinical = {c for _, c in _codings(resource.get("clinicalStatus"))}
    verification = {c for _, c in _codings(resource.get("verificationStatus"))}
    if verification & _NOT_REAL:
        return []
    own = _codings(resource.get("code"))
    when = _when(resource, "onsetDateTime", "recordedDate")
    reference = _reference(resource)
    text = (resource.get("code") or {}).get("text") or ", ".join(c for _, c in own)
    source = Source(reference, _iso(when), str(text))
    active = bool(clinical & _ACTIVE)
    found: list[Finding] = []
    for entry in spec.get("condition", []):
        if active and _matches(own, entry, spec["systems"]):
            found.append(Finding("diagnoses", entry["member"], source))
    for entry in spec.get("condition_fact", []):
        if (active or entry.get("history")) and _matches(own, entry, spec["systems"]):
            found.append(Finding(entry["fact"], True, source))
    return found


def _medication(resource: Mapping[str, Any], spec: Mapping[str, Any], today: date) -> list[Finding]:
    if resource.get("status") != "active":
        return []
    rxnorm = spec["systems"]["rxnorm"]
    own = {
        code
        for system, code in _codings(resource.get("medicationCodeableConcept"))
        if system == rxnorm
    }
    when = _when(resource, "authoredOn")
    found = []
    for entry in spec.get("medication", []):
        hits = own & set(entry["rxnorm"])
        if hits:
            names = ", ".join(entry["rxnorm"][c] for c in sorted(hits))
            source = Source(_reference(resource), _iso(when), names)
            found.append(Finding(entry["fact"], True, source))
    return found


def _patient(resource: Mapping[str, Any], spec: Mapping[str, Any], today: date) -> list[Finding]:
    found = []
    reference = _reference(resource)
    born = resource.get("birthDate")
    if isinstance(born, str) and len(born) == 10:
        found.append(Finding("date_of_birth", born, Source(reference, None, f"born {born}")))
    for extension in resource.get("extension", []):
        if (
            isinstance(extension, Mapping)
            and extension.get("url") == spec["systems"]["us_core_birthsex"]
        ):
            sex = {"F": "female", "M": "male"}.get(str(extension.get("valueCode")))
            if sex:
                found.append(
                    Finding("sex_at_birth", sex, Source(reference, None, f"birth sex {sex}"))
                )
    return found


_READERS = {
    "Observation": _observation,
    "Condition": _condition,
    "MedicationRequest": _medication,
    "Patient": _patient,
    "QuestionnaireResponse": _questionnaire_response,
}


# --- settling: newest wins, a disagreement on the newest day is a conflict ------------------


def _settle(found: list[Finding], unmapped: list[str], today: date) -> Prefill:
    prefill = Prefill(unmapped=unmapped)
    by_fact: dict[str, list[Finding]] = {}
    for finding in found:
        by_fact.setdefault(finding.fact, []).append(finding)
    _settle_cssrs([f for f in found if f.fact.startswith(CSSRS)], prefill)
    for fact, findings in by_fact.items():
        if fact.startswith(CSSRS):
            continue
        if fact == "diagnoses":
            members = sorted({str(f.value) for f in findings})
            prefill.facts["diagnoses"] = {"includes": members}
            prefill.findings.extend(findings)
            continue
        usable = [f for f in findings if f.status == "used"]
        prefill.findings.extend(f for f in findings if f.status != "used")
        if not usable:
            continue
        newest = max((f.source.date or "") for f in usable)
        latest = [f for f in usable if (f.source.date or "") == newest]
        older = [f for f in usable if f not in latest]
        values = {repr(f.value) for f in latest}
        if len(values) > 1:
            note = f"{fact}: sources of the same day disagree"
            prefill.findings.extend(
                Finding(f.fact, f.value, f.source, "conflict", note) for f in latest
            )
        else:
            prefill.facts[fact] = latest[0].value
            prefill.findings.extend(latest)
        prefill.findings.extend(
            Finding(f.fact, f.value, f.source, "stale", "a newer value is used") for f in older
        )
    _drop_invalid(prefill, today)
    return prefill


def _drop_invalid(prefill: Prefill, today: date) -> None:
    """Values the facts schema refuses (out of range, diastolic ≥ systolic) are not used."""
    for _ in range(len(prefill.facts) + 1):
        try:
            validate_facts(prefill.facts, today=today)
            return
        except FactsInvalid as rejected:
            bad = {
                error.field.split(".")[0].split("[")[0]: error.message for error in rejected.errors
            }
        for fact, message in bad.items():
            prefill.facts.pop(fact, None)
            prefill.findings = [
                Finding(f.fact, f.value, f.source, "invalid", f"{fact} {message}")
                if (f.fact == fact or f.fact.startswith(fact + ".")) and f.status == "used"
                else f
                for f in prefill.findings
            ]


def intake_fields() -> frozenset[str]:
    """Facts an intake's answers may hold (the patient record gives age and sex)."""
    return frozenset(IntakeFacts.model_fields) - {
        "age_years",
        "date_of_birth",
        "screening_date",
        "sex_at_birth",
    }


__all__ = [
    "BundleInvalid",
    "Finding",
    "Prefill",
    "Source",
    "bundle_resources",
    "fhir_map",
    "intake_fields",
    "map_bundle",
    "map_resources",
]
