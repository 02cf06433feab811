"""Reads of rule sets. Rule sets are clinical reference text: every role may read them."""

from __future__ import annotations

from rules.models import RuleSetVersion

DEFAULT_RULE_SET = "ketamine"


class RuleSetVersionNotFound(LookupError):
    """No version matches: the message says which, for the command line and pages."""


def published_version(rule_set: str = DEFAULT_RULE_SET) -> RuleSetVersion:
    """The version in force for `rule_set`."""
    version = (
        RuleSetVersion.objects.select_related("rule_set")
        .filter(rule_set__name=rule_set, status=RuleSetVersion.Status.PUBLISHED)
        .first()
    )
    if version is None:
        raise RuleSetVersionNotFound(f"rule set {rule_set!r} has no published version")
    return version


def numbered_version(number: int, rule_set: str = DEFAULT_RULE_SET) -> RuleSetVersion:
    """A published or retired version by its number."""
    version = (
        RuleSetVersion.objects.select_related("rule_set")
        .filter(rule_set__name=rule_set, number=number)
        .first()
    )
    if version is None:
        numbers = RuleSetVersion.objects.filter(rule_set__name=rule_set).exclude(number=None)
        known = ", ".join(
            str(n) for n in numbers.values_list("number", flat=True).order_by("number")
        )
        raise RuleSetVersionNotFound(
            f"rule set {rule_set!r} has no version {number} (versions: {known or 'none'})"
        )
    return version
