"""The FHIR JSON rules real validators (HAPI, the HL7 validator) enforce and the HL7 JSON schema
does not, as one pass over any resource or Bundle the product emits.

FHIR JSON (http://hl7.org/fhir/R4/json.html) forbids empty arrays, empty objects, `null` and
empty strings: an element either has a value or is absent. `fhir_hygiene` removes them wherever
they are (an object that only held empty things goes too), then checks what it cannot repair:
each Bundle entry's `fullUrl` names its own resource, every date/dateTime/instant is a valid
calendar value in FHIR's format, ids have FHIR's id syntax, decimals are finite. `hygiene_problems`
lists every breach without repairing anything: CI runs it over every exported bundle.

Pure Python (no Django): the export, CDS Hooks responses and anything else can use it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any, TypeVar

Document = TypeVar("Document")

#: FHIR's regular expressions for the primitive types (R4 datatypes page).
_DATE = re.compile(r"\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?")
_DATETIME = re.compile(
    r"\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])"
    r"(T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00)))?)?)?"
)
_INSTANT = re.compile(
    r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
    r"T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))"
)
_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")

#: Element names whose values are dates, dateTimes or instants (besides `…DateTime`/`…Date`/
#: `…Instant` choice elements such as `effectiveDateTime`).
_DATE_ELEMENTS = {"birthDate", "deceasedDate"}
_DATETIME_ELEMENTS = {"authored", "date", "recorded", "start", "end", "identifiedDateTime"}
_INSTANT_ELEMENTS = {"timestamp", "issued", "lastUpdated"}


class FhirHygieneError(ValueError):
    """A document breaks a FHIR JSON rule the pass cannot repair; `problems` lists each one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def fhir_hygiene(document: Document) -> Document:
    """A copy of `document` (a resource or Bundle as JSON) with every null, empty or
    whitespace-only string, empty array and empty object removed; raises `FhirHygieneError`
    naming each problem it cannot repair (a `fullUrl` that is not its resource's, an invalid
    date, id or decimal)."""
    cleaned: Document = _clean(document)
    problems = hygiene_problems(cleaned)
    if problems:
        raise FhirHygieneError(problems)
    return cleaned


def _empty(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, list | dict) and not value)
    )


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        cleaned = {key: _clean(item) for key, item in value.items()}
        return {key: item for key, item in cleaned.items() if not _empty(item)}
    if isinstance(value, list):
        cleaned_items = [_clean(item) for item in value]
        return [item for item in cleaned_items if not _empty(item)]
    return value


def hygiene_problems(document: Any) -> list[str]:
    """Every breach of the rules above in `document`, each as `path: problem` (empty when the
    document is clean). Repairs nothing."""
    return [f"{path or '(document)'}: {problem}" for path, problem in _problems(document, "")]


def _problems(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if value is None:
        yield path, "null is not allowed in FHIR JSON"
    elif isinstance(value, str):
        if not value.strip():
            yield path, "empty or whitespace-only string"
    elif isinstance(value, float) and not math.isfinite(value):
        yield path, "a decimal must be a finite number"
    elif isinstance(value, list):
        if not value:
            yield path, "empty array"
        for index, item in enumerate(value):
            yield from _problems(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        if not value:
            yield path, "empty object"
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            yield from _problems(item, where)
            if isinstance(item, str) and item.strip():
                yield from _primitive_problems(key, item, where)
        if value.get("resourceType") == "Bundle":
            yield from _full_url_problems(value, path)


def _primitive_problems(key: str, value: str, path: str) -> Iterator[tuple[str, str]]:
    if key == "id":
        if not _ID.fullmatch(value):
            yield path, f"{value!r} is not a FHIR id (1-64 letters, digits, '-' or '.')"
        return
    kind = _temporal_kind(key)
    if kind is not None:
        pattern, name = kind
        if not pattern.fullmatch(value) or not _calendar_valid(value):
            yield path, f"{value!r} is not a FHIR {name}"


def _temporal_kind(key: str) -> tuple[re.Pattern[str], str] | None:
    """The type of a date-valued element by its name, or None for any other element."""
    if key in _INSTANT_ELEMENTS or key.endswith("Instant"):
        return _INSTANT, "instant (date, time and zone)"
    if key in _DATE_ELEMENTS or (key.endswith("Date") and key != "date"):
        return _DATE, "date"
    if key in _DATETIME_ELEMENTS or key.endswith("DateTime"):
        return _DATETIME, "dateTime (a time needs a zone)"
    return None


def _calendar_valid(value: str) -> bool:
    """The regular expressions accept 31 February; the calendar does not."""
    try:
        if len(value) == 10:
            date.fromisoformat(value)
        elif len(value) > 10:
            datetime.fromisoformat(value.replace("Z", "+00:00").replace(":60", ":59"))
    except ValueError:
        return False
    return True


def _full_url_problems(bundle: dict[str, Any], path: str) -> Iterator[tuple[str, str]]:
    for index, entry in enumerate(bundle.get("entry") or ()):
        if not isinstance(entry, dict):
            continue
        where = f"{path}.entry[{index}]" if path else f"entry[{index}]"
        resource, full_url = entry.get("resource"), entry.get("fullUrl")
        if not isinstance(resource, dict):
            continue
        if not isinstance(full_url, str):
            yield where, "an entry with a resource needs a fullUrl"
            continue
        resource_id, kind = resource.get("id"), resource.get("resourceType")
        if resource_id is None:
            yield where, "the entry's resource has no id to match its fullUrl"
        elif full_url.startswith(("urn:uuid:", "urn:oid:")):
            if full_url.split(":", 2)[2] != resource_id:
                yield where, f"fullUrl {full_url} does not name its resource (id {resource_id})"
        elif not full_url.endswith(f"/{kind}/{resource_id}"):
            yield where, f"fullUrl {full_url} does not end with {kind}/{resource_id}"
