"""Engine fixtures: the default rule set compiled once, the fixed screening date, and a screener
that starts from the `trd-eligible` vignette (eligible, no flag fires) and changes a few facts."""

import copy
from datetime import date
from typing import Any

import pytest

from rules.engine import CompiledRuleSet, ScreeningResult, compile_ruleset
from tests.engine.data import (
    TODAY,
    Screen,
    default_ruleset_spec,
    ruleset_v2_spec,
    vignette,
    vignette_v2,
)


@pytest.fixture(scope="session")
def ruleset() -> CompiledRuleSet:
    return compile_ruleset(default_ruleset_spec())


@pytest.fixture
def today() -> date:
    return TODAY


@pytest.fixture(scope="session")
def _eligible_facts() -> dict[str, Any]:
    return vignette("trd-eligible")["facts"]


@pytest.fixture
def eligible_facts(_eligible_facts: dict[str, Any]) -> dict[str, Any]:
    """The `trd-eligible` vignette's facts: an adult with TRD and nothing of concern."""
    return copy.deepcopy(_eligible_facts)


@pytest.fixture
def screen(ruleset: CompiledRuleSet, eligible_facts: dict[str, Any], today: date) -> Screen:
    """Screen the eligible patient with some facts changed; `None` removes a fact (not recorded)."""

    def run(**changes: Any) -> ScreeningResult:
        document = dict(eligible_facts)
        for name, value in changes.items():
            if value is None:
                document.pop(name, None)
            else:
                document[name] = value
        return ruleset.screen(document, today=today)

    return run


# --- version 2 ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def ruleset_v2() -> CompiledRuleSet:
    """Version 2 of the default rule set, compiled from its data file (rule language level 2)."""
    return compile_ruleset(ruleset_v2_spec())


@pytest.fixture(scope="session")
def _eligible_facts_v2() -> dict[str, Any]:
    return vignette_v2("trd-eligible")["facts"]


@pytest.fixture
def screen_v2(
    ruleset_v2: CompiledRuleSet, _eligible_facts_v2: dict[str, Any], today: date
) -> Screen:
    """Screen the version-2 `trd-eligible` patient (the version-2 questions answered, no flag)
    under version 2 with some facts changed; `None` removes a fact (not recorded)."""

    def run(**changes: Any) -> ScreeningResult:
        document = copy.deepcopy(_eligible_facts_v2)
        for name, value in changes.items():
            if value is None:
                document.pop(name, None)
            else:
                document[name] = value
        return ruleset_v2.screen(document, today=today)

    return run
