"""Every clinical vignette screens to exactly its expected outcome (the comparison of
/work/shared/tools/check-vignettes: disposition, urgent, indications, sorted flags, missing facts)."""

import pytest

from rules.engine import CompiledRuleSet
from tests.engine.data import TODAY, outcome, vignette, vignette_names


def test_all_fourteen_vignettes_are_there():
    assert len(vignette_names()) == 14


@pytest.mark.parametrize("name", vignette_names())
def test_vignette_matches_its_expected_outcome(ruleset: CompiledRuleSet, name: str):
    case = vignette(name)

    result = ruleset.screen(case["facts"], today=TODAY)

    assert outcome(result) == case["expected"]
