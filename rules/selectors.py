"""Reads of rule sets.

The published version is clinical reference text that every screening reads
(`published_version`, `numbered_version`). The administration pages (drafts, test cases, impact
previews, diffs) are for rule admins only: their selectors return nothing to anyone else, so no
view can forget the check.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import lru_cache

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.db.models import F, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from rules.models import ImpactPreview, Rule, RuleSet, RuleSetVersion, RuleTestCase
from rules.textdiff import Piece, side, word_diff
from screening.core.permissions import has_perm

DEFAULT_RULE_SET = "ketamine"


class RuleSetVersionNotFound(LookupError):
    """No version matches: the message says which, for the command line and pages."""


def published_version(rule_set: str = DEFAULT_RULE_SET) -> RuleSetVersion:
    """The version in force for `rule_set`.

    Every screening run asks, so asking is one indexed lookup of the version's id (raw SQL: the
    ORM would spend more building the query than PostgreSQL spends answering it); the version
    itself never changes while it is published, so it is read once per process. Publishing
    elsewhere is seen at once: the id comes from the database every time."""
    with connection.cursor() as cursor:
        cursor.execute(_PUBLISHED_ID_SQL, [rule_set, RuleSetVersion.Status.PUBLISHED.value])
        row = cursor.fetchone()
    if row is None:
        raise RuleSetVersionNotFound(f"rule set {rule_set!r} has no published version")
    # A copy per caller, so that nothing one request sets on it reaches another.
    return copy.copy(_version_with_rule_set(row[0]))


#: At most one row (constraint `rules_one_published_version`).
_PUBLISHED_ID_SQL = (
    'SELECT v."id" FROM "rules_rulesetversion" v JOIN "rules_ruleset" s ON s."id" = v."rule_set_id" '
    'WHERE s."name" = %s AND v."status" = %s'
)


@lru_cache(maxsize=32)
def _version_with_rule_set(version_pk: int) -> RuleSetVersion:
    return RuleSetVersion.objects.select_related("rule_set").get(pk=version_pk)


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


# --- rule administration (rule admins only) ----------------------------------------------------

User = AbstractBaseUser | AnonymousUser


def _admin(user: User) -> bool:
    return has_perm(user, RuleSet.ADMIN_PERMISSION)


def rule_sets_for(user: User) -> QuerySet[RuleSet]:
    """Rule sets with their versions (drafts first, then newest number first)."""
    if not _admin(user):
        return RuleSet.objects.none()
    versions = RuleSetVersion.objects.select_related("created_by", "published_by").order_by(
        F("number").desc(nulls_first=True), "-created_at"
    )
    return RuleSet.objects.prefetch_related(Prefetch("versions", queryset=versions))


def rule_set_for(user: User, rule_set_uuid: object) -> RuleSet:
    return get_object_or_404(rule_sets_for(user), uuid=rule_set_uuid)


def versions_for(user: User) -> QuerySet[RuleSetVersion]:
    if not _admin(user):
        return RuleSetVersion.objects.none()
    return RuleSetVersion.objects.select_related(
        "rule_set",
        "based_on",
        "created_by",
        "published_by",
        "submitted_by",
        "approved_by",
        "returned_by",
        "scheduled_by",
    )


def version_for(user: User, version_uuid: object) -> RuleSetVersion:
    return get_object_or_404(versions_for(user), uuid=version_uuid)


class NotADraft(LookupError):
    """The version asked for as a draft has been published (or retired) since: `version`."""

    def __init__(self, version: RuleSetVersion) -> None:
        self.version = version
        super().__init__(f"{version} is no longer a draft")


def draft_for(user: User, version_uuid: object) -> RuleSetVersion:
    """A draft by UUID. A version published since raises `NotADraft` (its pages send the
    rule admin to the version: a bookmarked draft URL never turns into a 404)."""
    version = get_object_or_404(versions_for(user), uuid=version_uuid)
    if not version.is_draft:
        raise NotADraft(version)
    return version


def rule_for(user: User, version: RuleSetVersion, rule_id: str) -> Rule:
    rules = (
        version.rules.select_related("version__rule_set") if _admin(user) else Rule.objects.none()
    )
    return get_object_or_404(rules, rule_id=rule_id)


def open_draft(rule_set: RuleSet) -> RuleSetVersion | None:
    return (
        rule_set.versions.select_related("created_by")
        .filter(status=RuleSetVersion.Status.DRAFT)
        .first()
    )


def rule_cases_for(user: User) -> QuerySet[RuleTestCase]:
    if not _admin(user):
        return RuleTestCase.objects.none()
    return RuleTestCase.objects.select_related("rule_set", "created_by", "updated_by")


def rule_cases_for_draft(draft: RuleSetVersion) -> QuerySet[RuleTestCase]:
    """The test cases of a draft's rule set, by name (the draft was read for a rule admin)."""
    return draft.rule_set.test_cases.order_by("name")


def rule_case_for(user: User, case_uuid: object) -> RuleTestCase:
    return get_object_or_404(rule_cases_for(user), uuid=case_uuid)


def condition_titles(rule_set: RuleSet) -> dict[str, str]:
    """Each condition's indication-rule title in the published version (`mdd` → "Major
    depressive disorder"), for labels; a condition without one reads as its code."""
    rules = Rule.objects.filter(
        version__rule_set=rule_set,
        version__status=RuleSetVersion.Status.PUBLISHED,
        kind=Rule.Kind.INDICATION,
    ).values_list("condition", "title")
    return dict(rules)


def impact_previews_for(user: User) -> QuerySet[ImpactPreview]:
    if not _admin(user):
        return ImpactPreview.objects.none()
    return ImpactPreview.objects.select_related("draft__rule_set", "requested_by")


def impact_preview_for(user: User, preview_uuid: object) -> ImpactPreview:
    return get_object_or_404(impact_previews_for(user), uuid=preview_uuid)


def latest_impact_preview(version: RuleSetVersion) -> ImpactPreview | None:
    return version.impact_previews.select_related("requested_by").order_by("-requested_at").first()


# --- comparing two versions ---------------------------------------------------------------------

#: Fields compared between versions, in the order the diff page shows them.
DIFF_FIELDS = (
    ("title", "Title"),
    ("message", "Message"),
    ("evidence", "Evidence note"),
    ("source", "Source"),
    ("severity", "Severity"),
    ("condition", "Condition"),
    ("diagnosis_logic", "Diagnosis test"),
    ("logic", "Logic"),
)


@dataclass(frozen=True, slots=True)
class FieldChange:
    name: str
    label: str
    old: str
    new: str

    @property
    def old_pieces(self) -> tuple[Piece, ...]:
        """The old text with its removed words marked (`rules.textdiff`)."""
        return side(word_diff(self.old, self.new), "removed")

    @property
    def new_pieces(self) -> tuple[Piece, ...]:
        """The new text with its added words marked."""
        return side(word_diff(self.old, self.new), "added")


@dataclass(frozen=True, slots=True)
class RuleChange:
    rule_id: str
    title: str
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True, slots=True)
class VersionDiff:
    old: RuleSetVersion
    new: RuleSetVersion
    added: tuple[Rule, ...]
    retired: tuple[Rule, ...]
    changed: tuple[RuleChange, ...]
    unchanged: int

    @property
    def language_changed(self) -> bool:
        """The versions read their rules with different rule language levels."""
        return self.old.language != self.new.language

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.retired or self.changed or self.language_changed)


def version_diff(old: RuleSetVersion, new: RuleSetVersion) -> VersionDiff:
    """Compare two versions of one rule set rule by rule (matched by rule ID)."""
    before = {rule.rule_id: rule for rule in old.rules.order_by("position")}
    after = {rule.rule_id: rule for rule in new.rules.order_by("position")}
    changed = []
    for rule_id, rule in after.items():
        earlier = before.get(rule_id)
        if earlier is None:
            continue
        fields = tuple(
            FieldChange(name, label, getattr(earlier, name), getattr(rule, name))
            for name, label in DIFF_FIELDS
            if getattr(earlier, name) != getattr(rule, name)
        )
        if fields:
            changed.append(RuleChange(rule_id, rule.title, fields))
    return VersionDiff(
        old=old,
        new=new,
        added=tuple(rule for rule_id, rule in after.items() if rule_id not in before),
        retired=tuple(rule for rule_id, rule in before.items() if rule_id not in after),
        changed=tuple(changed),
        unchanged=sum(1 for rule_id in after if rule_id in before) - len(changed),
    )


# --- a version's rule list ----------------------------------------------------------------------

#: The text a rule list search looks in (besides the rule ID and title).
SEARCHED_FIELDS = ("rule_id", "title", "message", "evidence", "source", "diagnosis_logic", "logic")


def changed_rule_ids(version: RuleSetVersion) -> frozenset[str]:
    """Rules added or changed in `version` since the version it was based on (empty when it
    was based on none)."""
    if version.based_on is None:
        return frozenset()
    diff = version_diff(version.based_on, version)
    return frozenset([rule.rule_id for rule in diff.added] + [c.rule_id for c in diff.changed])


def version_rules(
    version: RuleSetVersion,
    *,
    changed: frozenset[str],
    q: str = "",
    severity: str = "",
    changed_only: bool = False,
) -> list[Rule]:
    """The rules of `version` matching a search (rule ID, title or any text, ignoring case)
    and a severity, optionally only the `changed` ones; on a draft the changed rules come
    first, each group in the version's order."""
    rules = version.rules.order_by("position")
    if q:
        match = Q()
        for name in SEARCHED_FIELDS:
            match |= Q(**{f"{name}__icontains": q})
        rules = rules.filter(match)
    if severity:
        rules = rules.filter(severity=severity)
    found = [rule for rule in rules if not changed_only or rule.rule_id in changed]
    if version.is_draft:
        found.sort(key=lambda rule: rule.rule_id not in changed)  # stable: positions kept
    return found
