"""The adapter from stored rule-set versions to the engine: build, compile, cache.

Published and retired versions never change, so their compiled form is cached per process by
version id; drafts are compiled fresh each time (they are being edited).
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from rules.engine import CompiledRuleSet, RuleSetSpec, compile_ruleset
from rules.models import RuleSetVersion

#: The default rule set, which migration rules/0003 publishes as version 1.
DEFAULT_RULES_FILE = Path(__file__).resolve().parent / "data" / "ketamine-v1.toml"


def version_spec(version: RuleSetVersion) -> RuleSetSpec:
    """The engine's specification of a stored version (drafts count as the next number)."""
    number = version.number
    if number is None:
        latest = version.rule_set.versions.exclude(number=None).order_by("-number").first()
        number = (latest.number if latest and latest.number else 0) + 1
    return RuleSetSpec.model_validate(
        {
            "name": version.rule_set.name,
            "version": number,
            "rules": [rule.as_spec() for rule in version.rules.order_by("position")],
        }
    )


def compiled_version(version: RuleSetVersion) -> CompiledRuleSet:
    """A compiled rule set for `version` (raises `RuleSetInvalid` for a broken draft)."""
    if version.is_draft:
        return compile_ruleset(version_spec(version))
    return _compiled_immutable(version.pk)


@lru_cache(maxsize=32)
def _compiled_immutable(version_pk: int) -> CompiledRuleSet:
    version = RuleSetVersion.objects.select_related("rule_set").get(pk=version_pk)
    return compile_ruleset(version_spec(version))


@lru_cache(maxsize=1)
def compiled_default_file() -> CompiledRuleSet:
    """The default rule set compiled from its data file, for a database not yet migrated."""
    return compile_ruleset(
        RuleSetSpec.model_validate(tomllib.loads(DEFAULT_RULES_FILE.read_text(encoding="utf-8")))
    )
