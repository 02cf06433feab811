"""The audit trail as sentences a reviewer reads: "Dr A overrode STOP-PREGNANCY (Pregnancy) on
the screening of patient MRN0042: Specialist or MDT approval documented: reason …".

Only how events are shown: what is stored (and hashed into the chain) is untouched. Events name
their objects by UUID and their details hold no patient identifiers, so the objects are looked up
here, a page of events at a time (one query per kind of object), and linked: a screening to the
reviewer's record, an intake to its form, a patient to their page, a published rule-set version
to the screenings run under it. Each event kind has a sentence; a kind this module does not know
(a future one) reads as a generic sentence with its detail summarised, never as a Python repr.

Every value goes through `format_html`, so text an admin or a clinician typed (rule titles,
reasons) is escaped.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from patients.models import Intake, Patient
from screening.core.models import AuditEvent
from screening.labels import disposition_label
from screening.models import FlagReview, Screening
from screening.prose import fact_label

#: How many names a summarised list shows before "and N more".
LIST_SHOWN = 6

#: The event kinds a reviewer can filter by, as the picker names them.
EVENT_KINDS: dict[str, str] = {
    "screening.run": "Screening run",
    "screening.view": "Screening opened",
    "screening.list": "Screenings listed (API)",
    "screening.sign": "Screening signed",
    "screening.amend": "Amendment started",
    "flag.acknowledged": "Flag acknowledged",
    "flag.overridden": "Flag overridden",
    "export.csv": "List downloaded (CSV)",
    "export.json": "Screening downloaded (JSON)",
    "export.pdf": "Screening downloaded (PDF)",
    "patient.register": "Patient registered",
    "patient.view": "Patient opened",
    "intake.create": "Intake started",
    "intake.save": "Intake saved",
    "intake.view": "Intake opened",
    "intake.prefill_from_fhir": "Intake filled from the EHR",
    "intake.prefill_confirm": "EHR answers confirmed",
    "auth.login": "Signed in",
    "auth.logout": "Signed out",
    "auth.login_failed": "Sign-in failed",
    "auth.login_failed_summary": "Failed sign-ins summarised",
    "auth.user_create": "Account created",
    "auth.user_change": "Account changed",
    "auth.user_invite": "Person invited",
    "auth.invitation_accept": "Invitation accepted",
    "auth.user_roles_change": "Roles changed",
    "auth.user_permissions_change": "Permissions changed",
    "auth.mfa_add": "Second factor added",
    "auth.mfa_remove": "Second factor removed",
    "auth.mfa_recovery_codes_replace": "Recovery codes replaced",
    "auth.mfa_reset": "Second factors reset",
    "api_token.create": "API token created",
    "api_token.revoke": "API token revoked",
    "cds.call": "CDS Hooks call",
    "cds.refused": "CDS Hooks call refused",
    "cds.feedback": "CDS Hooks feedback",
    "rules.draft_start": "Rule-set draft started",
    "rules.draft_discard": "Rule-set draft discarded",
    "rules.rule_add": "Rule added",
    "rules.rule_update": "Rule changed",
    "rules.rule_retire": "Rule retired",
    "rules.case_create": "Test case created",
    "rules.case_update": "Test case changed",
    "rules.case_expectation_update": "Test case expectation changed",
    "rules.draft_submit": "Draft submitted for approval",
    "rules.draft_approve": "Draft approved",
    "rules.draft_return": "Draft returned",
    "rules.version_schedule": "Publication scheduled",
    "rules.version_schedule_refused": "Scheduled publication refused",
    "rules.version_publish": "Rule-set version published",
    "rules.version_retire": "Rule-set version retired",
    "audit.attest": "Record digest attested",
}

#: Families of kinds, for filtering by a prefix.
EVENT_FAMILIES: dict[str, str] = {
    "screening.": "Any screening event",
    "flag.": "Any flag review",
    "export.": "Any download",
    "patient.": "Any patient event",
    "intake.": "Any intake event",
    "auth.": "Any sign-in or account event",
    "api_token.": "Any API token event",
    "cds.": "Any CDS Hooks event",
    "rules.": "Any rule-set event",
}

#: Objects events name, as the object filter offers them.
OBJECT_TYPES: dict[str, str] = {
    "screening.screening": "Screening",
    "patients.intake": "Intake",
    "patients.patient": "Patient",
    "auth.user": "Account",
    "rules.rulesetversion": "Rule-set version",
    "rules.ruletestcase": "Rule test case",
    "cds.service": "CDS Hooks service",
}

#: Where a `*.view` or `screening.list` event's page was.
PAGE_WORDS = {
    "result": "on the result page",
    "review": "on the reviewer's record",
    "reevaluate": "to re-evaluate it",
    "intake": "on the intake form",
    "api": "through the API",
    "fhir": "as a FHIR document",
    "patient": "on the patient's page",
}


@dataclass(frozen=True)
class EventLine:
    """One event as a page shows it: who (their name), the sentence, and the event itself (for
    its seq, time and raw action code)."""

    event: AuditEvent
    actor: str
    sentence: SafeString


@dataclass
class _Objects:
    """The objects a page of events names, looked up once."""

    screenings: dict[str, Screening] = field(default_factory=dict)
    intakes: dict[str, Intake] = field(default_factory=dict)
    patients: dict[str, Patient] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    rule_titles: Mapping[str, str] = field(default_factory=dict)

    def screening(self, uuid: str) -> SafeString:
        found = self.screenings.get(uuid)
        if found is None:
            return format_html("a screening (<code>{}</code>)", uuid)
        return format_html(
            '<a href="{}">the screening</a> of patient {}',
            reverse("screening:review", args=[found.uuid]),
            found.patient.mrn,
        )

    def intake(self, uuid: str) -> SafeString:
        found = self.intakes.get(uuid)
        if found is None:
            return format_html("an intake (<code>{}</code>)", uuid)
        return format_html(
            '<a href="{}">the intake</a> of patient {}',
            reverse("patients:intake_edit", args=[found.uuid]),
            found.patient.mrn,
        )

    def patient(self, uuid: str) -> SafeString:
        found = self.patients.get(uuid)
        if found is None:
            return format_html("a patient (<code>{}</code>)", uuid)
        return format_html(
            'patient <a href="{}">{}</a>', reverse("patients:detail", args=[found.uuid]), found.mrn
        )

    def user(self, pk: str, fallback: str = "") -> str:
        found = self.users.get(pk)
        return person(found) if found is not None else (fallback or "an account")

    def rule(self, rule_id: str) -> SafeString:
        title = self.rule_titles.get(rule_id)
        if title:
            return format_html("<code>{}</code> ({})", rule_id, title)
        return format_html("<code>{}</code>", rule_id)

    def rules(self, rule_ids: Iterable[str]) -> SafeString:
        return _joined([self.rule(rule_id) for rule_id in rule_ids])


def person(user: User) -> str:
    """How a page names a person: their full name, else their username."""
    return user.get_full_name() or user.get_username()


def audit_lines(events: Iterable[AuditEvent], *, rule_titles: Mapping[str, str]) -> list[EventLine]:
    """`events` as sentences, their objects looked up together (a page's worth at a time)."""
    events = list(events)
    objects = _look_up(events)
    objects.rule_titles = rule_titles
    return [EventLine(event, _actor(event, objects), _sentence(event, objects)) for event in events]


def _look_up(events: list[AuditEvent]) -> _Objects:
    screening_ids: set[str] = set()
    intake_ids: set[str] = set()
    patient_ids: set[str] = set()
    user_ids: set[str] = set()
    for event in events:
        detail = event.detail if isinstance(event.detail, dict) else {}
        if event.object_type == "screening.screening" and event.object_id:
            screening_ids.add(event.object_id)
        elif event.object_type == "patients.intake" and event.object_id:
            intake_ids.add(event.object_id)
        elif event.object_type == "patients.patient" and event.object_id:
            patient_ids.add(event.object_id)
        elif event.object_type == "auth.user" and event.object_id:
            user_ids.add(event.object_id)
        for key in ("intake", "new_intake", "copied_from"):
            if isinstance(detail.get(key), str):
                intake_ids.add(detail[key])
        if isinstance(detail.get("patient"), str):
            patient_ids.add(detail["patient"])
        if event.actor_id is not None:
            user_ids.add(str(event.actor_id))
    return _Objects(
        screenings=_by_uuid(Screening.objects.select_related("patient"), screening_ids),
        intakes=_by_uuid(Intake.objects.select_related("patient"), intake_ids),
        patients=_by_uuid(Patient.objects.all(), patient_ids),
        users={
            str(user.pk): user
            for user in User.objects.filter(pk__in=[i for i in user_ids if i.isdigit()])
        },
    )


def _by_uuid(rows: Any, uuids: set[str]) -> dict[str, Any]:
    valid = [text for text in uuids if _is_uuid(text)]
    return {str(row.uuid): row for row in rows.filter(uuid__in=valid)} if valid else {}


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _actor(event: AuditEvent, objects: _Objects) -> str:
    if event.actor_id is not None:
        return objects.user(str(event.actor_id), event.actor_repr)
    if event.actor_repr:
        return event.actor_repr
    if event.action.startswith("cds."):
        return "The EHR"
    return "The system"


# --- the sentences -------------------------------------------------------------------------------

Sentence = Callable[[str, AuditEvent, dict[str, Any], _Objects], SafeString]


def _sentence(event: AuditEvent, objects: _Objects) -> SafeString:
    detail = event.detail if isinstance(event.detail, dict) else {}
    actor = _actor(event, objects)
    write = SENTENCES.get(event.action)
    if write is None and event.action.endswith(".view"):
        write = _viewed
    try:
        if write is not None:
            return write(actor, event, detail, objects)
    except (KeyError, TypeError, ValueError, AttributeError):
        pass  # a detail shaped as this module did not expect: say it plainly below
    return _generic(actor, event, detail, objects)


def _object(event: AuditEvent, objects: _Objects) -> SafeString:
    """The event's object as a phrase, linked where the reviewer may open it."""
    kind, key = event.object_type, event.object_id
    if kind == "screening.screening" and key:
        return objects.screening(key)
    if kind == "screening.screening":
        return mark_safe("the list of screenings")
    if kind == "patients.intake":
        return objects.intake(key)
    if kind == "patients.patient":
        return objects.patient(key)
    if kind == "auth.user":
        return format_html("the account of {}", objects.user(key))
    named = OBJECT_TYPES.get(kind, kind or "nothing in particular").lower()
    return format_html("{} <code>{}</code>", named, key) if key else format_html("{}", named)


def _version(detail: Mapping[str, Any]) -> SafeString:
    """The rule-set version a detail names: linked to the screenings run under it once it has
    a number (published), "the draft" before."""
    rule_set, number = detail.get("rule_set", ""), detail.get("version")
    if isinstance(detail.get("ruleset"), dict):
        rule_set, number = detail["ruleset"].get("name", ""), detail["ruleset"].get("version")
    if number is None:
        return format_html("the draft of rule set {}", rule_set)
    url = reverse("screening:list") + "?" + urlencode({"version": f"{rule_set}-{number}"})
    return format_html('<a href="{}">rule set {}, version {}</a>', url, rule_set, number)


def _reason(detail: Mapping[str, Any], key: str = "reason") -> SafeString:
    text = str(detail.get(key) or "").strip()
    return format_html(": reason “{}”", text) if text else mark_safe("")


def _when(iso: str) -> str:
    """A stored ISO timestamp as the pages show times, in the clinic's time zone."""
    try:
        moment = datetime.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return date_format(timezone.localtime(moment), "j M Y, H:i")


def _note(text: Any) -> SafeString:
    text = str(text or "").strip()
    return format_html(": change note “{}”", text) if text else mark_safe("")


def _joined(parts: list[SafeString] | list[str], *, limit: int = LIST_SHOWN) -> SafeString:
    shown = format_html_join(", ", "{}", ((part,) for part in parts[:limit]))
    if len(parts) > limit:
        return format_html("{} and {} more", shown, len(parts) - limit)
    return shown


def _answers(names: list[str], verb: str) -> SafeString:
    """ "12 answers recorded: Systolic blood pressure, PHQ-9 total, … and 6 more"."""
    if not names:
        return format_html("no answer {}", verb)
    plural = "answer" if len(names) == 1 else "answers"
    return format_html("{} {} {}: {}", len(names), plural, verb, _joined(names_as_labels(names)))


def names_as_labels(names: Iterable[str]) -> list[str]:
    """Stored fact names as the intake asks them."""
    return [fact_label(name) for name in names]


def _ran(actor: str, event: AuditEvent, detail: dict[str, Any], objects: _Objects) -> SafeString:
    disposition = disposition_label(str(detail.get("disposition", ""))).text.lower()
    flags = list(detail.get("flags") or [])
    fired = format_html(" Flags fired: {}.", objects.rules(flags)) if flags else " No flag fired."
    carried = list(detail.get("carried_forward") or [])
    carried_text = (
        format_html(" Reviews carried forward from the run before: {}.", objects.rules(carried))
        if carried
        else ""
    )
    return format_html(
        "{} ran {} under {}: {}{}.{}{}",
        actor,
        _object(event, objects),
        _version(detail),
        disposition,
        ", urgent" if detail.get("urgent") else "",
        fired,
        carried_text,
    )


def _viewed(actor: str, event: AuditEvent, detail: dict[str, Any], objects: _Objects) -> SafeString:
    page = str(detail.get("page", ""))
    where = PAGE_WORDS.get(page, f"({page})" if page else "")
    return format_html("{} opened {} {}.", actor, _object(event, objects), where)


def _listed(actor: str, event: AuditEvent, detail: dict[str, Any], objects: _Objects) -> SafeString:
    shown = len(detail.get("shown") or [])
    where = PAGE_WORDS.get(str(detail.get("page", "")), "")
    return format_html(
        "{} listed {} screening{} {}.", actor, shown, "" if shown == 1 else "s", where
    )


def _signed(actor: str, event: AuditEvent, detail: dict[str, Any], objects: _Objects) -> SafeString:
    disposition = disposition_label(str(detail.get("disposition", ""))).text.lower()
    reviews = len(detail.get("reviews") or [])
    extra: list[SafeString] = []
    stale = detail.get("stale_rules")
    if isinstance(stale, dict):
        extra.append(
            format_html(
                " Signed under version {} while version {} was published{}.",
                stale.get("version"),
                stale.get("published") or "none",
                _reason(stale),
            )
        )
    missing = detail.get("incomplete_reasons")
    if isinstance(missing, dict) and missing:
        extra.append(
            format_html(
                " Information missing, with the reasons given: {}.",
                format_html_join(
                    "; ", "{}: “{}”", ((fact_label(k), v) for k, v in missing.items())
                ),
            )
        )
    return format_html(
        "{} signed {}: {}, with {} flag review{}.{}",
        actor,
        _object(event, objects),
        disposition,
        reviews,
        "" if reviews == 1 else "s",
        format_html_join("", "{}", ((part,) for part in extra)),
    )


def _amended(
    actor: str, event: AuditEvent, detail: dict[str, Any], objects: _Objects
) -> SafeString:
    return format_html(
        "{} started an amendment of {} as {}{}.",
        actor,
        _object(event, objects),
        objects.intake(str(detail.get("new_intake", ""))),
        _reason(detail),
    )


def _flag_reviewed(verb: str) -> Sentence:
    def write(
        actor: str, event: AuditEvent, detail: dict[str, Any], objects: _Objects
    ) -> SafeString:
        code = str(detail.get("reason_code") or "")
        coded = (
            format_html(": {}", FlagReview.OverrideReason(code).label)
            if code in FlagReview.OverrideReason.values
            else (format_html(": {}", code) if code else "")
        )
        return format_html(
            "{} {} {} on {}{}{}{}",
            actor,
            verb,
            objects.rule(str(detail.get("rule", ""))),
            _object(event, objects),
            coded,
            _reason(detail),
            " (replacing an earlier review)." if detail.get("revised") else ".",
        )

    return write


def _exported(kind: str) -> Sentence:
    def write(
        actor: str, event: AuditEvent, detail: dict[str, Any], objects: _Objects
    ) -> SafeString:
        filters = detail.get("filters")
        if isinstance(filters, dict):
            used = [
                FILTER_WORDS.get(str(name), str(name))
                for name, value in filters.items()
                if value not in (None, "", False) and name != "descending"
            ]
            narrowed = format_html(", filtered by {}", ", ".join(used)) if used else ", unfiltered"
            return format_html(
                "{} downloaded the list of screenings as {}{}.", actor, kind, narrowed
            )
        return format_html("{} downloaded {} as {}.", actor, _object(event, objects), kind)

    return write


FILTER_WORDS = {
    "date_from": "run from",
    "date_to": "run to",
    "clinician_id": "clinician",
    "disposition": "disposition",
    "urgent": "urgency",
    "rule_id": "rule fired",
    "overridden_stop": "overridden stop flag",
    "version_id": "rule-set version",
    "signed": "signed or not",
    "patient": "a patient search",
}


def _intake_started(
    actor: str, event: AuditEvent, detail: dict[str, Any], objects: _Objects
) -> SafeString:
    copied = detail.get("copied_from")
    source = format_html(", a copy of {}", objects.intake(copied)) if copied else ""
    return format_html("{} started {}{}.", actor, _object(event, objects), source)


def _intake_saved(
    actor: str, event: AuditEvent, detail: dict[str, Any], objects: _Objects
) -> SafeString:
    trials = int(detail.get("trials") or 0)
    return format_html(
        "{} saved {} (version {}): {}{}.",
        actor,
        _object(event, objects),
        detail.get("version"),
        _answers(list(detail.get("recorded") or []), "recorded"),
        format_html("; {} antidepressant trial{}", trials, "" if trials == 1 else "s")
        if trials
        else "",
    )


def _prefilled(
    actor: str, event: AuditEvent, detail: dict[str, Any], objects: _Objects
) -> SafeString:
    return format_html(
        "{} filled {} from an EHR record: {}; {} item{} of the record not used.",
        actor,
        _object(event, objects),
        _answers(list(detail.get("facts") or []), "filled in"),
        detail.get("not_used", 0),
        "" if detail.get("not_used") == 1 else "s",
    )


def _simple(text: str) -> Sentence:
    """A sentence of the actor, `text` and the object: "{actor} registered {object}."."""

    def write(
        actor: str, event: AuditEvent, detail: dict[str, Any], objects: _Objects
    ) -> SafeString:
        return format_html(text, actor=actor, object=_object(event, objects))

    return write


def _account(text: str) -> Sentence:
    """A sentence about an account, named by the username the detail holds."""

    def write(
        actor: str, event: AuditEvent, detail: dict[str, Any], objects: _Objects
    ) -> SafeString:
        username = detail.get("username") or objects.user(event.object_id)
        values = {k: _listed_value(v) for k, v in detail.items() if k != "username"}
        return format_html(text, actor=actor, username=username, **values)

    return write


def _listed_value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "none"
    if value is None:
        return "none"
    return str(value)


def _sign_in(
    actor: str, event: AuditEvent, detail: dict[str, Any], objects: _Objects
) -> SafeString:
    verb = "signed in" if event.action == "auth.login" else "signed out"
    return format_html("{} {}{}.", actor, verb, _from_ip(detail))


def _from_ip(detail: Mapping[str, Any]) -> SafeString:
    ip = detail.get("ip")
    return format_html(" from {}", ip) if ip else mark_safe("")


def _login_failed(
    actor: str, event: AuditEvent, detail: dict[str, Any], objects: _Objects
) -> SafeString:
    who = detail.get("username") or "an unknown account"
    return format_html("A sign-in as {} failed{}.", who, _from_ip(detail))


def _logins_failed(
    actor: str, event: AuditEvent, detail: dict[str, Any], objects: _Objects
) -> SafeString:
    who = (
        format_html(" as {}", objects.user(event.object_id))
        if event.object_type == "auth.user"
        else ""
    )
    return format_html(
        "{} sign-ins failed{}{} ({}).",
        detail.get("failures", "Several"),
        who,
        _from_ip(detail),
        detail.get("reason") or "no reason given",
    )


def _roles_changed(what: str) -> Sentence:
    def write(
        actor: str, event: AuditEvent, detail: dict[str, Any], objects: _Objects
    ) -> SafeString:
        changes = [
            format_html("{} {}", verb, _listed_value(detail[verb]))
            for verb in ("added", "removed")
            if verb in detail
        ]
        return format_html(
            "{} changed the {} of {}: {}.",
            actor,
            what,
            detail.get("username") or objects.user(event.object_id),
            _joined(changes),
        )

    return write


def _user_changed(
    actor: str, event: AuditEvent, detail: dict[str, Any], objects: _Objects
) -> SafeString:
    return format_html(
        "{} changed the account {}: {}.",
        actor,
        detail.get("username", ""),
        _joined([str(name).replace("_", " ") for name in detail.get("changed") or []]),
    )


def _token(verb: str) -> Sentence:
    def write(
        actor: str, event: AuditEvent, detail: dict[str, Any], objects: _Objects
    ) -> SafeString:
        reason = detail.get("reason")
        return format_html(
            "{} {} the API token “{}” ({}…){}.",
            actor,
            verb,
            detail.get("name", ""),
            detail.get("prefix", ""),
            format_html(" because {}", str(reason).replace("_", " ")) if reason else "",
        )

    return write


def _cds_call(
    actor: str, event: AuditEvent, detail: dict[str, Any], objects: _Objects
) -> SafeString:
    cards = list(detail.get("cards") or [])
    return format_html(
        "The EHR ({}) called the CDS Hooks service <code>{}</code> on {}: {} card{} returned.",
        detail.get("client") or "unnamed client",
        event.object_id,
        detail.get("hook") or "a hook",
        len(cards),
        "" if len(cards) == 1 else "s",
    )


def _rules_event(text: str) -> Sentence:
    """A sentence about a rule-set version; `{version}` is the version phrase, `{rule}` the rule,
    other names the detail's values."""

    def write(
        actor: str, event: AuditEvent, detail: dict[str, Any], objects: _Objects
    ) -> SafeString:
        values: dict[str, Any] = {k: _listed_value(v) for k, v in detail.items()}
        changes = detail.get("changes")
        values.update(
            actor=actor,
            version=_version(detail),
            rule=objects.rule(str(detail["rule"])) if "rule" in detail else "",
            changed=(
                format_html(" ({} changed)", ", ".join(str(name) for name in changes))
                if isinstance(changes, dict) and changes
                else ""
            ),
            change_note=_note(detail.get("change_note")),
        )
        if isinstance(detail.get("publish_after"), str):
            values["publish_after"] = _when(detail["publish_after"])
        return format_html(text, **values)

    return write


def _generic(
    actor: str, event: AuditEvent, detail: dict[str, Any], objects: _Objects
) -> SafeString:
    """An event kind without a sentence of its own: who, which kind, on what, and its detail
    summarised (lists counted and shortened, nothing as a Python repr)."""
    kind = EVENT_KINDS.get(event.action, event.action.replace("_", " ").replace(".", ": "))
    summary = detail_summary(detail)
    return format_html(
        "{} — {} — {}{}",
        actor,
        kind,
        _object(event, objects),
        format_html(". {}", summary) if summary else "",
    )


def detail_summary(detail: Mapping[str, Any]) -> SafeString:
    """An event's detail as "key: value" phrases: lists counted and shortened, none for None,
    yes/no for booleans; digests left out (the chain verification is where they are read)."""
    parts = [
        format_html("{}: {}", key.replace("_", " "), _value(value))
        for key, value in detail.items()
        if key != "digest"
    ]
    return format_html_join("; ", "{}", ((part,) for part in parts))


def _value(value: Any) -> SafeString:
    if value is None:
        return mark_safe("none")
    if isinstance(value, bool):
        return format_html("{}", "yes" if value else "no")
    if isinstance(value, list):
        if not value:
            return mark_safe("none")
        return format_html("{} ({})", len(value), _joined([str(item) for item in value]))
    if isinstance(value, dict):
        return format_html("{}", detail_summary(value)) if value else mark_safe("none")
    return format_html("{}", value)


SENTENCES: dict[str, Sentence] = {
    "screening.run": _ran,
    "screening.list": _listed,
    "screening.sign": _signed,
    "screening.amend": _amended,
    "flag.overridden": _flag_reviewed("overrode"),
    "flag.acknowledged": _flag_reviewed("acknowledged"),
    "export.csv": _exported("CSV"),
    "export.json": _exported("JSON"),
    "export.pdf": _exported("a PDF"),
    "patient.register": _simple("{actor} registered {object}."),
    "intake.create": _intake_started,
    "intake.save": _intake_saved,
    "intake.prefill_from_fhir": _prefilled,
    "intake.prefill_confirm": _simple(
        "{actor} confirmed the answers filled in from the EHR on {object}."
    ),
    "auth.login": _sign_in,
    "auth.logout": _sign_in,
    "auth.login_failed": _login_failed,
    "auth.login_failed_summary": _logins_failed,
    "auth.user_create": _account("{actor} created the account {username}."),
    "auth.user_change": _user_changed,
    "auth.user_invite": _account("{actor} invited {username} with the roles {roles}."),
    "auth.invitation_accept": _account("{username} accepted their invitation."),
    "auth.user_roles_change": _roles_changed("roles"),
    "auth.user_permissions_change": _roles_changed("permissions"),
    "auth.mfa_add": _account("{actor} added a second factor ({factor})."),
    "auth.mfa_remove": _account("{actor} removed a second factor ({factor})."),
    "auth.mfa_recovery_codes_replace": _account("{actor} replaced their recovery codes."),
    "auth.mfa_reset": _account(
        "{actor} reset the second factors of {username} (removed: {removed})."
    ),
    "api_token.create": _token("created"),
    "api_token.revoke": _token("revoked"),
    "cds.call": _cds_call,
    "cds.refused": _account("A CDS Hooks call was refused: {why}."),
    "cds.feedback": _account("The EHR ({client}) sent feedback on {stored} card(s)."),
    "rules.draft_start": _rules_event(
        "{actor} started {version} from version {based_on} ({rules} rules)."
    ),
    "rules.draft_discard": _rules_event("{actor} discarded {version}."),
    "rules.rule_add": _rules_event("{actor} added {rule} to {version}."),
    "rules.rule_update": _rules_event("{actor} changed {rule} in {version}{changed}."),
    "rules.rule_retire": _rules_event("{actor} retired {rule} from {version}."),
    "rules.case_create": _rules_event(
        "{actor} created the test case {case} of rule set {rule_set}."
    ),
    "rules.case_update": _rules_event(
        "{actor} changed the test case {case} of rule set {rule_set}{changed}."
    ),
    "rules.case_expectation_update": _rules_event(
        "{actor} changed what the test case {case} of rule set {rule_set} expects: “{reason}”."
    ),
    "rules.draft_submit": _rules_event(
        "{actor} submitted {version} for approval ({test_cases_passed} test cases pass){change_note}."
    ),
    "rules.draft_approve": _rules_event(
        "{actor} approved {version}, submitted by {submitted_by}: “{note}”."
    ),
    "rules.draft_return": _rules_event("{actor} returned {version}: “{comment}”."),
    "rules.version_schedule": _rules_event(
        "{actor} scheduled {version} to be published after {publish_after}{change_note}."
    ),
    "rules.version_schedule_refused": _rules_event(
        "The scheduled publication of {version} was refused: {reason}."
    ),
    "rules.version_publish": _rules_event(
        "{actor} published {version} ({rules} rules, {test_cases_passed} test cases pass; "
        "the version before: {replaces}){change_note}."
    ),
    "rules.version_retire": _rules_event(
        "{actor} retired {version}, replaced by version {replaced_by}."
    ),
}
