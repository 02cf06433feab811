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

_DATA = Path(__file__).resolve().parent / "data"

#: The default rule set's versions as data files: migration rules/0003 publishes version 1,
#: rules/0009 publishes version 2 after it (the latest is the one in force after `migrate`).
DEFAULT_RULES_FILES: dict[int, Path] = {
    1: _DATA / "ketamine-v1.toml",
    2: _DATA / "ketamine-v2.toml",
}
#: The version `migrate` leaves published.
DEFAULT_VERSION = max(DEFAULT_RULES_FILES)


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
            "language": version.language,
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


@lru_cache(maxsize=4)
def compiled_default_file(number: int = DEFAULT_VERSION) -> CompiledRuleSet:
    """Version `number` of the default rule set compiled from its data file, for a database not
    yet migrated (`KeyError` when no data file holds that version)."""
    path = DEFAULT_RULES_FILES[number]
    return compile_ruleset(RuleSetSpec.model_validate(tomllib.loads(path.read_text("utf-8"))))
