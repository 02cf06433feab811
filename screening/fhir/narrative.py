"""Generated narratives (`text`, status `generated`) for the resources the product emits.

A narrative is what a person reads when a receiving system cannot render the resource: a short
XHTML summary made from the resource's own elements (so it never says more than the data).
Pure Python: any resource dict in, the same resource with `text` out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from html import escape
from typing import Any
from urllib.parse import unquote

from screening.fhir.codes import RULE_SOURCE_PREFIX

XHTML = "http://www.w3.org/1999/xhtml"


def with_narrative(resource: dict[str, Any]) -> dict[str, Any]:
    """`resource` with a generated narrative (placed after `id`, as FHIR JSON orders it)."""
    describe = _DESCRIBERS.get(resource.get("resourceType", ""), _generic)
    div = f'<div xmlns="{XHTML}">{describe(resource)}</div>'
    ordered: dict[str, Any] = {}
    for key, value in resource.items():
        if key != "text":
            ordered[key] = value
        if key == "id":
            ordered["text"] = {"status": "generated", "div": div}
    if "text" not in ordered:
        ordered["text"] = {"status": "generated", "div": div}
    return ordered


def _p(text: str) -> str:
    return f"<p>{escape(text)}</p>"


def _ul(lines: Iterable[str]) -> str:
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return f"<ul>{items}</ul>" if items else ""


def _concept(concept: dict[str, Any] | None) -> str:
    if not concept:
        return ""
    codings = concept.get("coding") or [{}]
    return str(concept.get("text") or codings[0].get("display") or codings[0].get("code", ""))


def _patient(resource: dict[str, Any]) -> str:
    names = resource.get("name") or [{}]
    name = " ".join([*names[0].get("given", []), names[0].get("family", "")]).strip()
    mrn = (resource.get("identifier") or [{}])[0].get("value", "")
    return _p(
        f"{name or 'Patient'}; MRN {mrn}; born {resource.get('birthDate', 'unknown')}; "
        f"gender {resource.get('gender', 'unknown')}"
    )


def _questionnaire(resource: dict[str, Any]) -> str:
    groups = resource.get("item", [])
    return _p(
        f"{resource.get('title', 'Questionnaire')}, version {resource.get('version', '')}: "
        f"{len(groups)} sections."
    ) + _ul(group.get("text", group["linkId"]) for group in groups)


def _answer_text(answer: dict[str, Any]) -> str:
    (key, value), *_ = answer.items()
    if key == "valueCoding":
        return str(value.get("display") or value.get("code"))
    if key == "valueBoolean":
        return "yes" if value else "no"
    return str(value)


def _answered(items: list[dict[str, Any]], prefix: str = "") -> Iterable[str]:
    for item in items:
        text = item.get("text", item["linkId"])
        if item.get("answer"):
            yield f"{prefix}{text}: " + ", ".join(_answer_text(a) for a in item["answer"])
        if item.get("item"):
            yield from _answered(item["item"], f"{prefix}{text} / ")


def _questionnaire_response(resource: dict[str, Any]) -> str:
    heading = _p(
        f"Intake answers recorded {resource.get('authored', '')} (unanswered = not recorded)."
    )
    return heading + _ul(_answered(resource.get("item", [])))


def _quantity(value: dict[str, Any]) -> str:
    return f"{value.get('value')} {value.get('unit', '')}".strip()


def _observation(resource: dict[str, Any]) -> str:
    name = _concept(resource.get("code"))
    when = resource.get("effectiveDateTime", "")
    if "valueQuantity" in resource:
        value = _quantity(resource["valueQuantity"])
    elif "valueInteger" in resource:
        value = str(resource["valueInteger"])
    else:
        value = "; ".join(
            f"{_concept(c.get('code'))} {_quantity(c.get('valueQuantity', {}))}"
            for c in resource.get("component", [])
        )
    return _p(f"{name}: {value} ({when})")


def _detected_issue(resource: dict[str, Any]) -> str:
    reasons = [
        _concept(code) for evidence in resource.get("evidence", []) for code in evidence["code"]
    ]
    return (
        _p(f"{_concept(resource.get('code'))} (severity {resource.get('severity', '')})")
        + _p(str(resource.get("detail", "")))
        + _ul(f"because {reason}" for reason in reasons)
        + _source(resource.get("reference"))
    )


def _source(reference: str | None) -> str:
    if not reference:
        return ""
    return _p(f"Source: {unquote(reference.removeprefix(RULE_SOURCE_PREFIX))}")


def _generic(resource: dict[str, Any]) -> str:
    return _p(f"{resource.get('resourceType', 'Resource')} {resource.get('id', '')}".strip())


_DESCRIBERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "Patient": _patient,
    "Questionnaire": _questionnaire,
    "QuestionnaireResponse": _questionnaire_response,
    "Observation": _observation,
    "DetectedIssue": _detected_issue,
}
