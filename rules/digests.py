"""Digests of a published rule-set version as stored: what its `rules.version_publish` event
records, and what verification recomputes from the rows (`screening.core.records`).

A version's digest covers its rule set, number, change note and every rule's position, ID and
text (`Rule.TEXT_FIELDS`, logic included). Its status is left out: retiring a version changes
nothing it says.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rules.models import Rule, RuleSetVersion
from screening.core.records import record_digest


def version_digest(version: RuleSetVersion) -> str:
    """The SHA-256 of `version`'s content, its rules read from the database."""
    return record_digest(_document(version, version.rules.all()))


def _document(version: RuleSetVersion, rules: Iterable[Rule]) -> dict[str, Any]:
    return {
        "uuid": version.uuid,
        "rule_set_id": version.rule_set_id,
        "number": version.number,
        "change_note": version.change_note,
        "rules": sorted(
            ({"rule_id": rule.rule_id, "position": rule.position, **rule.text()} for rule in rules),
            key=lambda rule: (rule["position"], rule["rule_id"]),
        ),
    }


class PublishedVersions:
    """Verification's view of rule sets (`AUDIT_RECORD_DIGESTS`): every published or retired
    version must still match the digest its publication recorded."""

    label = "published rule-set version"
    object_type = RuleSetVersion._meta.label_lower
    actions = ("rules.version_publish",)
    final_actions = ("rules.version_publish",)

    def in_scope(self) -> Iterable[str]:
        released = RuleSetVersion.objects.exclude(status=RuleSetVersion.Status.DRAFT)
        return (str(key) for key in released.order_by("pk").values_list("uuid", flat=True))

    def digests(self, object_ids: Sequence[str]) -> Mapping[str, str]:
        versions = RuleSetVersion.objects.filter(uuid__in=object_ids).prefetch_related("rules")
        return {
            str(version.uuid): record_digest(_document(version, version.rules.all()))
            for version in versions
        }
