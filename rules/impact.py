"""Impact previews: what publishing a draft would change for the screenings already done.

Every past screening's stored facts are evaluated again under the draft and compared with the
result stored when it was run: its disposition, and the set of rule IDs that flagged. Nothing
about a past screening changes (its stored result is what it showed and keeps showing); the
preview only counts what would come out differently if the same facts were screened today.

The run streams screenings in batches, reading only what it compares, and writes its counters
after each batch, so memory stays flat and a page can show progress however many screenings
there are. The screenings come from a provider named in settings (`RULES_PAST_SCREENINGS`, a
dotted path to a `PastScreenings` class, the way `AUTH_PASSWORD_VALIDATORS` names classes): this
app stores rule sets and never imports the app that stores screenings.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from rules.engine import (
    CompiledRuleSet,
    Facts,
    FactsInvalid,
    RuleSetInvalid,
    ScreeningResult,
    validate_facts,
)
from rules.engine.facts import DATE_FIELDS
from rules.labels import disposition_words, status_words
from rules.loader import compiled_version
from rules.models import ImpactPreview, RuleSetVersion

logger = logging.getLogger(__name__)

#: Screenings read and compared per batch (and per progress update).
BATCH_SIZE = 1000
#: Changed screenings kept as examples on the preview.
EXAMPLES = 20
#: Of those that only need questions their version never asked, a few are kept apart.
NEW_QUESTION_EXAMPLES = 5


def rules_fingerprint(version: RuleSetVersion) -> str:
    """A digest of a version's rules as the engine reads them: equal digests, equal rules."""
    specs: Any = [rule.as_spec() for rule in version.rules.order_by("position")]
    if version.language != 1:  # level 1 digests stay as they were before levels existed
        specs = {"language": version.language, "rules": specs}
    canonical = json.dumps(specs, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def stored_document(facts: Mapping[str, Any]) -> dict[str, Any]:
    """A stored facts snapshot as an input document again.

    Snapshots keep `date_of_birth` together with the `age_years` it gave on the screening
    date (`Facts.as_document`); the engine takes one or the other, and the date of birth with
    the screening date gives the same age.
    """
    document = dict(facts)
    if "date_of_birth" in document:
        document.pop("age_years", None)
    return document


def deidentified_document(facts: Mapping[str, Any]) -> dict[str, Any]:
    """A snapshot as an example may keep it: without the dates of birth and screening, which
    with the age identify a patient; the age they gave stays (it is what the rules read)."""
    return {name: value for name, value in facts.items() if name not in DATE_FIELDS}


@dataclass(slots=True)
class Change:
    """How one past screening would come out under the draft.

    `new_questions` is set when that is the whole change: the screening becomes `incomplete`,
    its flags stay the same, and every fact it newly misses is one its own rule-set version
    never read (a question added since, such as version 2's five). Answering them is what it
    needs; the preview shows these apart so that they read as that, not as a clinical change.
    """

    screening: str
    screening_date: str
    old_disposition: str
    new_disposition: str
    flags_added: list[str]
    flags_removed: list[str]
    new_questions: list[str] = field(default_factory=list)
    #: The facts as screened again; an example keeps them without dates (`example_facts`).
    validated: Facts | None = None

    def example_facts(self) -> dict[str, Any]:
        """The facts as an example keeps them: built only for the few changes kept, since
        dumping them costs more than comparing."""
        if self.validated is None:
            return {}
        return deidentified_document(self.validated.as_document())

    @property
    def transition(self) -> str:
        """`"eligible>review_required"`: the key a preview counts disposition changes by."""
        return f"{self.old_disposition}>{self.new_disposition}"

    @property
    def disposition_changed(self) -> bool:
        return self.old_disposition != self.new_disposition

    @property
    def flags_changed(self) -> bool:
        return bool(self.flags_added or self.flags_removed)

    @property
    def needs_new_questions_only(self) -> bool:
        return bool(self.new_questions)


def screening_change(
    compiled: CompiledRuleSet,
    *,
    uuid: Any,
    screening_date: date,
    facts: Mapping[str, Any],
    disposition: str,
    flags: Iterable[Mapping[str, Any]],
    missing: Iterable[Mapping[str, Any]] = (),
    asked: frozenset[str] | None = None,
) -> Change | None:
    """The change for one stored screening (its facts, and its stored result's disposition,
    flags and missing facts), None when nothing compared differs. `asked` are the input facts
    the screening's own rule-set version read (`CompiledRuleSet.inputs`); without it no change
    is told apart as needing new questions only.

    Raises `FactsInvalid` when the stored facts no longer pass validation.
    """
    validated = validate_facts(stored_document(facts), today=screening_date)
    now = compiled.evaluate(validated)
    new_flags = {flag.rule for flag in now.flags}
    old_flags = {flag["rule"] for flag in flags}
    old_disposition = disposition
    if now.disposition == old_disposition and new_flags == old_flags:
        return None
    new_questions: list[str] = []
    if (
        asked is not None
        and now.disposition == "incomplete"
        and old_disposition != "incomplete"
        and new_flags == old_flags
    ):
        newly_missing = {item.fact for item in now.missing} - {item["fact"] for item in missing}
        if newly_missing and not newly_missing & asked:
            new_questions = sorted(newly_missing)
    return Change(
        screening=str(uuid),
        screening_date=screening_date.isoformat(),
        old_disposition=old_disposition,
        new_disposition=now.disposition,
        flags_added=sorted(new_flags - old_flags),
        flags_removed=sorted(old_flags - new_flags),
        new_questions=new_questions,
        validated=validated,
    )


@dataclass(slots=True)
class Tally:
    """Counters for one batch, added to the preview's in one UPDATE. `processed` counts every
    screening read, `unreadable` those whose stored facts no longer validate,
    `needs_new_questions` the changes that only need questions their version never asked (with
    the union of those questions); `transitions` counts disposition changes by
    `Change.transition`."""

    processed: int = 0
    changed_disposition: int = 0
    changed_flags: int = 0
    unreadable: int = 0
    needs_new_questions: int = 0
    new_questions: set[str] = field(default_factory=set)
    transitions: Counter[str] = field(default_factory=Counter)
    examples: list[dict[str, Any]] = field(default_factory=list)

    def count(self, change: Change | None, room: int, new_question_room: int = 0) -> None:
        self.processed += 1
        if change is None:
            return
        self.changed_disposition += change.disposition_changed
        if change.disposition_changed:
            self.transitions[change.transition] += 1
        self.changed_flags += change.flags_changed
        grouped = change.needs_new_questions_only
        if grouped:
            self.needs_new_questions += 1
            self.new_questions.update(change.new_questions)
        # `room` and `new_question_room`: examples of each kind still wanted for the preview.
        kept = sum(1 for example in self.examples if bool(example["new_questions"]) == grouped)
        if kept >= (new_question_room if grouped else room):
            return
        self.examples.append(
            {
                "screening": change.screening,
                "screening_date": change.screening_date,
                "old_disposition": change.old_disposition,
                "new_disposition": change.new_disposition,
                "flags_added": change.flags_added,
                "flags_removed": change.flags_removed,
                "new_questions": change.new_questions,
                "facts": change.example_facts(),
            }
        )


#: One past screening as a preview compares it: (uuid, screening date, stored facts, stored
#: disposition, stored flags as `[{"rule": ...}, ...]`, stored missing facts as
#: `[{"fact": ...}, ...]`, the primary key of the rule-set version it was screened under).
PastScreening = tuple[
    Any,
    date,
    Mapping[str, Any],
    str,
    Iterable[Mapping[str, Any]] | None,
    Iterable[Mapping[str, Any]] | None,
    int | None,
]


class PastScreenings(Protocol):
    """Where the screenings to compare come from (`settings.RULES_PAST_SCREENINGS`)."""

    def count(self) -> int:
        """How many screenings `batches` will yield, for the progress bar."""
        ...

    def batches(self, batch_size: int) -> Iterable[list[PastScreening]]:
        """Every past screening, `batch_size` at a time, each batch its own short query."""
        ...


class NoPastScreenings:
    """The provider when none is configured: there is nothing to compare."""

    def count(self) -> int:
        return 0

    def batches(self, batch_size: int) -> Iterable[list[PastScreening]]:
        return iter(())


def past_screenings() -> PastScreenings:
    """The configured provider of past screenings."""
    path = getattr(settings, "RULES_PAST_SCREENINGS", "")
    provider: PastScreenings = import_string(path)() if path else NoPastScreenings()
    return provider


def impact_preview_execute(*, preview_uuid: str, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Run a queued preview to the end, recording progress after every batch.

    A draft that does not compile ends the preview as failed, with the problems listed. Any
    other error also marks it failed (and is raised again, so the task backend records it).
    """
    preview = (
        ImpactPreview.objects.select_related("draft__rule_set").filter(uuid=preview_uuid).first()
    )
    if preview is None:  # the draft was discarded before a worker reached the preview
        return {"processed": 0}
    queryset = ImpactPreview.objects.filter(pk=preview.pk)
    source = past_screenings()
    queryset.update(
        status=ImpactPreview.Status.RUNNING,
        started_at=timezone.now(),
        total=source.count(),
        processed=0,
        changed_disposition=0,
        changed_flags=0,
        unreadable=0,
        needs_new_questions=0,
        new_questions=[],
        transitions={},
        examples=[],
        error="",
        fingerprint=rules_fingerprint(preview.draft),
    )
    try:
        compiled = compiled_version(preview.draft)
    except RuleSetInvalid as exc:
        problems = "; ".join(str(p) for p in exc.problems)
        queryset.update(
            status=ImpactPreview.Status.FAILED,
            finished_at=timezone.now(),
            error=f"The draft does not compile, so it cannot be previewed: {problems}",
        )
        return {"processed": 0}
    try:
        totals = _run(compiled, source, queryset, batch_size)
    except Exception as exc:
        logger.exception("impact preview %s failed", preview_uuid)
        queryset.update(
            status=ImpactPreview.Status.FAILED,
            finished_at=timezone.now(),
            error=f"The preview stopped with an error: {type(exc).__name__}.",
        )
        raise
    queryset.update(
        status=ImpactPreview.Status.DONE,
        finished_at=timezone.now(),
        total=totals["processed"],
    )
    return totals


class _Asked:
    """The input facts each rule-set version reads, worked out once per version in a run."""

    def __init__(self) -> None:
        self.known: dict[int, frozenset[str] | None] = {}

    def __call__(self, version_pk: int | None) -> frozenset[str] | None:
        if version_pk is None:
            return None
        if version_pk not in self.known:
            version = RuleSetVersion.objects.select_related("rule_set").filter(pk=version_pk)
            try:
                self.known[version_pk] = compiled_version(version.get()).inputs
            except (RuleSetVersion.DoesNotExist, RuleSetInvalid):
                self.known[version_pk] = None
        return self.known[version_pk]


def _run(
    compiled: CompiledRuleSet, source: PastScreenings, queryset: Any, batch_size: int
) -> dict[str, int]:
    totals = {
        "processed": 0,
        "unreadable": 0,
        "changed_disposition": 0,
        "changed_flags": 0,
        "needs_new_questions": 0,
    }
    examples: list[dict[str, Any]] = []
    new_questions: set[str] = set()
    transitions: Counter[str] = Counter()
    asked = _Asked()
    for rows in source.batches(batch_size):
        tally = Tally()
        for uuid, screening_date, facts, disposition, flags, missing, version_pk in rows:
            try:
                change = screening_change(
                    compiled,
                    uuid=uuid,
                    screening_date=screening_date,
                    facts=facts,
                    disposition=disposition,
                    flags=flags or (),
                    missing=missing or (),
                    asked=asked(version_pk),
                )
            except FactsInvalid:
                tally.processed += 1
                tally.unreadable += 1
                continue
            grouped = sum(1 for example in examples if example["new_questions"])
            tally.count(
                change,
                EXAMPLES - (len(examples) - grouped),
                NEW_QUESTION_EXAMPLES - grouped,
            )
        examples.extend(tally.examples)
        new_questions |= tally.new_questions
        transitions.update(tally.transitions)
        for name in totals:
            totals[name] += getattr(tally, name)
        queryset.update(
            processed=F("processed") + tally.processed,
            changed_disposition=F("changed_disposition") + tally.changed_disposition,
            changed_flags=F("changed_flags") + tally.changed_flags,
            unreadable=F("unreadable") + tally.unreadable,
            needs_new_questions=F("needs_new_questions") + tally.needs_new_questions,
            new_questions=sorted(new_questions),
            transitions=dict(transitions.most_common()),
            examples=examples,
        )
    return totals


# --- one example, opened by a rule admin -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result one version gives an example's facts (or why there is none)."""

    version: RuleSetVersion
    result: ScreeningResult | None
    error: str = ""


@dataclass(frozen=True, slots=True)
class Example:
    """One changed screening of a preview as a rule admin may see it: its facts without dates
    (no patient identity reaches `rules`) and the results of the version published now and of
    the draft. `number` counts from 1 in the order the preview kept the examples."""

    preview: ImpactPreview
    number: int
    stored: Mapping[str, Any]
    before: Outcome | None
    after: Outcome | None

    @property
    def facts(self) -> dict[str, Any]:
        return dict(self.stored.get("facts") or {})

    @property
    def screening_date(self) -> date:
        return date.fromisoformat(self.stored["screening_date"])

    def comparison(self, titles: Mapping[str, str] | None = None) -> list[Row]:
        """The two results part by part (disposition, urgent, each condition under its title in
        `titles`, flags, missing), each part marked when they differ; empty unless both
        versions gave a result."""
        if not (self.before and self.after and self.before.result and self.after.result):
            return []
        old, new = self.before.result, self.after.result
        rows = [
            Row(
                "Disposition",
                [disposition_words(old.disposition)],
                [disposition_words(new.disposition)],
            ),
            Row("Urgent", ["yes" if old.urgent else "no"], ["yes" if new.urgent else "no"]),
        ]
        statuses = {i.condition: i.status for i in new.indications}
        for indication in old.indications:
            rows.append(
                Row(
                    (titles or {}).get(indication.condition, indication.condition),
                    [status_words(indication.status)],
                    [status_words(statuses.get(indication.condition, ""))],
                )
            )
        rows.append(Row("Flags", _flag_lines(old), _flag_lines(new)))
        rows.append(
            Row("Missing facts", [m.fact for m in old.missing], [m.fact for m in new.missing])
        )
        return rows


@dataclass(frozen=True, slots=True)
class Row:
    """One part of two results: its label and each side's lines."""

    label: str
    before: list[str]
    after: list[str]

    @property
    def differs(self) -> bool:
        return sorted(self.before) != sorted(self.after)


def _flag_lines(result: ScreeningResult) -> list[str]:
    return [f"{flag.rule}: {flag.title} ({flag.severity})" for flag in result.flags]


def _outcome(version: RuleSetVersion, facts: Mapping[str, Any], today: date) -> Outcome:
    try:
        return Outcome(version, compiled_version(version).screen(dict(facts), today=today))
    except RuleSetInvalid as exc:
        return Outcome(version, None, f"The rules do not compile: {exc.problems[0]}")
    except FactsInvalid as exc:
        problems = "; ".join(f"{error.field} {error.message}" for error in exc.errors)
        return Outcome(version, None, f"The facts do not validate: {problems}")


def _published_alternative(draft: RuleSetVersion) -> RuleSetVersion | None:
    """What the draft is compared with: the version in force, or (once the preview's version
    is itself published) the version it was based on."""
    published = (
        RuleSetVersion.objects.select_related("rule_set")
        .filter(rule_set=draft.rule_set_id, status=RuleSetVersion.Status.PUBLISHED)
        .first()
    )
    if published is None or published.pk == draft.pk:
        return draft.based_on
    return published


def impact_example(preview: ImpactPreview, number: int) -> Example:
    """Example `number` (from 1) of `preview`, judged again by the published version and the
    draft. Raises `LookupError` when the preview kept no such example. A preview run before
    examples kept their facts gives no outcomes (`before` and `after` are None)."""
    examples = preview.examples or []
    if not 1 <= number <= len(examples):
        raise LookupError(f"the preview has no example {number}")
    stored = examples[number - 1]
    facts = stored.get("facts")
    if not facts:
        return Example(preview, number, stored, None, None)
    today = date.fromisoformat(stored["screening_date"])
    published = _published_alternative(preview.draft)
    return Example(
        preview,
        number,
        stored,
        _outcome(published, facts, today) if published is not None else None,
        _outcome(preview.draft, facts, today),
    )
