"""Every explanation the engine writes reads back into its parts (`read_because`), and those
parts write the same line again: the reader cannot drift from the compiler."""

from typing import Any

import pytest

from rules.engine import compile_ruleset
from rules.engine.reasons import Reason, read_because
from tests.engine.data import (
    TODAY,
    default_ruleset_spec,
    ruleset_v2_spec,
    sample_documents,
    vignette,
    vignette_names,
    vignette_v2,
    vignette_v2_names,
)


def every_because(spec: dict[str, Any], documents: list[dict[str, Any]]) -> set[str]:
    ruleset = compile_ruleset(spec)
    found: set[str] = set()
    for document in documents:
        result = ruleset.screen(document, today=TODAY)
        for part in (*result.indications, *result.flags):
            found.update(part.because)
    return found


def documents_of(names: list[str], read: Any) -> list[dict[str, Any]]:
    documents = []
    for name in names:
        document = read(name)
        document.pop("ruleset_version", None)
        documents.append(document.get("facts", document))
    return documents


@pytest.mark.parametrize("version", [1, 2])
def test_every_explanation_of_every_rule_reads_back(version: int):
    spec = default_ruleset_spec() if version == 1 else ruleset_v2_spec()
    names, read = (
        (vignette_names(), vignette) if version == 1 else (vignette_v2_names(), vignette_v2)
    )
    found = every_because(spec, documents_of(names, read) + sample_documents(400))
    assert len(found) > 150  # every shape, many times over
    kinds = set()
    for text in found:
        reason = read_because(text)
        assert str(reason) == text
        kinds.add(reason.kind)
    expected = {"compared", "value", "listed", "member", "unrecorded"}
    if version == 2:
        expected.add("narrowed")
    assert kinds >= expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("age_years = 16 (< 18)", Reason("compared", "age_years", "16", "<", ("18",))),
        ("pregnancy_status = pregnant", Reason("value", "pregnancy_status", "pregnant")),
        (
            "current_mood_episode = mixed (in manic, mixed)",
            Reason("listed", "current_mood_episode", "mixed", "in", ("manic", "mixed")),
        ),
        (
            "diagnoses does not include bipolar_i",
            Reason("member", "diagnoses", "bipolar_i", "does not include"),
        ),
        ("cssrs not recorded", Reason("unrecorded", "cssrs")),
        (
            "breastfeeding not recorded; sex_at_birth = male",
            Reason("defaulted", "breastfeeding", against=("sex_at_birth", "male")),
        ),
        (
            "suicide_risk is not high (cssrs.intent, cssrs.plan = no)",
            Reason(
                "narrowed",
                "suicide_risk",
                "high",
                "is not",
                detail=((("cssrs.intent", "cssrs.plan"), "no"),),
            ),
        ),
        (
            "suicide_risk could be none or low (cssrs.wish_dead not recorded)",
            Reason(
                "narrowed",
                "suicide_risk",
                "none or low",
                "could be",
                detail=((("cssrs.wish_dead",), "not recorded"),),
            ),
        ),
        (
            "heart_rate = 90 (< systolic_bp = 120)",
            Reason("facts", "heart_rate", "90", "<", ("systolic_bp", "120")),
        ),
    ],
)
def test_explanation_parts(text: str, reason: Reason):
    assert read_because(text) == reason
    assert str(reason) == text


@pytest.mark.parametrize("text", ["", "something else", "age_years == 16", "Age 16 (below 18)"])
def test_other_text_is_refused(text: str):
    with pytest.raises(ValueError, match="not an explanation"):
        read_because(text)
