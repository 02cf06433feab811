"""The readable audit trail, issue 19: a sentence per event kind, objects looked up and linked,
field lists summarised with the intake's question labels, actors by name, a generic sentence
for kinds not known yet, the raw code beside each, and the filters by kind and object."""

import re

import pytest
from django.urls import reverse

from rules.engine import IntakeFacts
from screening.core.audit import audit_record
from screening.core.models import AuditEvent
from screening.prose import fact_label
from screening.review.audit_prose import EVENT_KINDS, SENTENCES, audit_lines, person
from screening.review.selectors import rule_titles
from tests.screening.review_helpers import overridden_pregnancy, run

pytestmark = pytest.mark.django_db
AUDIT = reverse("screening:audit")


def sentence_of(event: AuditEvent, titles=None) -> str:
    event = AuditEvent.objects.select_related("actor").get(pk=event.pk)
    return str(audit_lines([event], rule_titles=titles or rule_titles())[0].sentence)


def text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


@pytest.fixture
def named_clinician(clinician):
    clinician.first_name, clinician.last_name = "Ada", "Okafor"
    clinician.save()
    return clinician


# --- one sentence per kind ----------------------------------------------------------------------


def test_an_override_reads_as_a_sentence_with_the_rule_title_the_patient_and_the_reason(
    named_clinician,
):
    screening = overridden_pregnancy(named_clinician)
    event = AuditEvent.objects.get(action="flag.overridden")

    html = sentence_of(event)

    title = rule_titles()["STOP-PREGNANCY"]
    assert text(html) == (
        f"Ada Okafor overrode STOP-PREGNANCY ({title}) on the screening of patient "
        f"{screening.patient.mrn}: Specialist or MDT approval documented: reason “Obstetric MDT "
        "reviewed and approved”."
    )
    assert (
        f'<a href="{reverse("screening:review", args=[screening.uuid])}">the screening</a>' in html
    )


def test_a_run_names_the_version_disposition_and_flags_and_links_the_version(named_clinician):
    screening = run(named_clinician, pregnancy_status="pregnant")
    version = screening.ruleset_version
    html = sentence_of(AuditEvent.objects.get(action="screening.run"))
    assert text(html).startswith(
        f"Ada Okafor ran the screening of patient {screening.patient.mrn} under rule set "
        f"{version.rule_set.name}, version {version.number}: contraindicated"
    )
    assert "Flags fired: STOP-PREGNANCY (" in text(html)
    assert f"?version={version.rule_set.name}-{version.number}" in html


def test_an_intake_save_summarises_the_answers_with_the_questions_labels(named_clinician):
    intake = run(named_clinician, phq9_total=19).intake
    recorded = sorted(name for name in IntakeFacts.model_fields if not name.startswith("cssrs"))[
        :12
    ]
    event = audit_record(
        actor=named_clinician,
        action="intake.save",
        target=intake,
        detail={"version": 3, "recorded": recorded, "trials": 0},
    )

    words = text(sentence_of(event))

    assert words.startswith(
        f"Ada Okafor saved the intake of patient {intake.patient.mrn} (version 3): 12 answers "
        "recorded: "
    )
    assert fact_label(sorted(recorded)[0]) in words
    assert f"and {len(recorded) - 6} more" in words
    assert "[" not in words
    assert "'" not in words


def sample_events(screening, reviewer):
    """An event of every kind this module writes a sentence for, shaped as its service
    records it."""
    intake = screening.intake
    patient = screening.patient
    ruleset = {"name": "ketamine", "version": 1}
    version = {"rule_set": "ketamine", "version": None}
    return {
        "screening.run": (
            screening,
            {
                "intake": str(intake.uuid),
                "ruleset": ruleset,
                "disposition": "eligible",
                "urgent": False,
                "flags": [],
                "carried_forward": [],
                "carried_from": None,
            },
        ),
        "screening.list": (None, {"page": "api", "filters": {}, "shown": ["a", "b"]}),
        "screening.sign": (
            screening,
            {
                "disposition": "eligible",
                "reviews": [],
                "stale_rules": {"version": 1, "published": 2, "reason": "Checked"},
                "incomplete_reasons": {"phq9_total": "Refused"},
            },
        ),
        "screening.amend": (screening, {"new_intake": str(intake.uuid), "reason": "Typo"}),
        "flag.acknowledged": (
            screening,
            {
                "rule": "REV-BP-ELEVATED",
                "severity": "review",
                "reason_code": "",
                "reason": "Rechecked",
                "revised": True,
            },
        ),
        "flag.overridden": (
            screening,
            {
                "rule": "STOP-PREGNANCY",
                "severity": "stop",
                "reason_code": "specialist_approval",
                "reason": "MDT",
                "revised": False,
            },
        ),
        "export.csv": (
            None,
            {
                "filters": {
                    "disposition": "eligible",
                    "patient": True,
                    "descending": True,
                    "urgent": None,
                }
            },
        ),
        "export.json": (screening, {}),
        "export.pdf": (screening, {"status": "signed", "bytes": 100}),
        "patient.register": (patient, {}),
        "intake.create": (intake, {"patient": str(patient.uuid), "copied_from": str(intake.uuid)}),
        "intake.save": (intake, {"version": 2, "recorded": ["phq9_total"], "trials": 2}),
        "intake.prefill_from_fhir": (
            intake,
            {"facts": ["age_years"], "not_used": 3, "unmapped": []},
        ),
        "intake.prefill_confirm": (intake, {}),
        "auth.login": (reviewer, {"ip": "10.0.0.9"}),
        "auth.logout": (reviewer, {"ip": "10.0.0.9"}),
        "auth.login_failed": (
            reviewer,
            {"username": "someone", "known_account": True, "ip": "10.0.0.9"},
        ),
        "auth.login_failed_summary": (
            reviewer,
            {"ip": "10.0.0.9", "reason": "wrong password", "failures": 12},
        ),
        "auth.user_create": (reviewer, {"username": "newbie", "is_active": True}),
        "auth.user_change": (
            reviewer,
            {"username": "newbie", "changed": ["is_active"], "now": {"is_active": False}},
        ),
        "auth.user_invite": (reviewer, {"username": "newbie", "roles": ["reviewer"]}),
        "auth.invitation_accept": (reviewer, {"username": "newbie"}),
        "auth.user_roles_change": (reviewer, {"username": "newbie", "added": ["reviewer"]}),
        "auth.user_permissions_change": (
            reviewer,
            {"username": "newbie", "removed": ["core.view_auditevent"]},
        ),
        "auth.mfa_add": (reviewer, {"username": "newbie", "factor": "totp"}),
        "auth.mfa_remove": (reviewer, {"username": "newbie", "factor": "totp"}),
        "auth.mfa_recovery_codes_replace": (
            reviewer,
            {"username": "newbie", "factor": "recovery_codes"},
        ),
        "auth.mfa_reset": (reviewer, {"username": "newbie", "removed": ["totp"]}),
        "api_token.create": (None, {"name": "EHR", "prefix": "kts_ab", "expires_at": None}),
        "api_token.revoke": (None, {"name": "EHR", "prefix": "kts_ab", "reason": "deactivated"}),
        "cds.call": (None, {"client": "epic", "hook": "patient-view", "cards": ["warning"]}),
        "cds.refused": (None, {"why": "bad signature"}),
        "cds.feedback": (None, {"client": "epic", "stored": 2}),
        "rules.draft_start": (None, {**version, "based_on": 1, "rules": 44}),
        "rules.draft_discard": (None, {**version}),
        "rules.rule_add": (None, {**version, "rule": "NEW-RULE", "text": {}}),
        "rules.rule_update": (
            None,
            {**version, "rule": "STOP-PREGNANCY", "changes": {"title": {"old": "a", "new": "b"}}},
        ),
        "rules.rule_retire": (None, {**version, "rule": "STOP-PREGNANCY", "text": {}}),
        "rules.case_create": (
            None,
            {"rule_set": "ketamine", "case": "pregnant", "description": "", "facts": {}},
        ),
        "rules.case_update": (
            None,
            {"rule_set": "ketamine", "case": "pregnant", "changes": {"facts": {}}},
        ),
        "rules.case_expectation_update": (
            None,
            {"rule_set": "ketamine", "case": "pregnant", "draft": "x", "reason": "New rule"},
        ),
        "rules.draft_submit": (
            None,
            {**version, "change_note": "Tighter BP", "test_cases_passed": 12},
        ),
        "rules.draft_approve": (
            None,
            {**version, "note": "Looks right", "submitted_by": "ruth", "test_cases_passed": 12},
        ),
        "rules.draft_return": (None, {**version, "comment": "Cite the source"}),
        "rules.version_schedule": (
            None,
            {**version, "change_note": "", "publish_after": "2026-12-08T06:00:00+00:00"},
        ),
        "rules.version_schedule_refused": (
            None,
            {**version, "reason": "cases fail", "problems": ["x"]},
        ),
        "rules.version_publish": (
            None,
            {
                "rule_set": "ketamine",
                "version": 2,
                "change_note": "Tighter BP",
                "replaces": 1,
                "rules": 44,
                "test_cases_passed": 12,
            },
        ),
        "rules.version_retire": (None, {"rule_set": "ketamine", "version": 1, "replaced_by": 2}),
    }


def test_every_known_kind_has_its_own_sentence_without_reprs(reviewer, clinician):
    screening = run(clinician)
    samples = sample_events(screening, reviewer)
    assert set(SENTENCES) <= set(samples) | {"audit.attest"}
    events = []
    for action, (target, detail) in samples.items():
        if action.startswith("cds."):
            events.append(
                audit_record(
                    actor=None,
                    action=action,
                    object_type="cds.service",
                    object_id="ketamine-screening",
                    detail=detail,
                )
            )
        else:
            events.append(
                audit_record(
                    actor=clinician,
                    action=action,
                    target=target,
                    object_type="" if target else "screening.screening",
                    detail=detail,
                )
            )
    for event in events:
        words = text(sentence_of(event))
        assert event.action in EVENT_KINDS
        assert " — " not in words, (event.action, words)  # not the generic sentence
        assert not re.search(r"None|\[|\{|'", words), (event.action, words)
        assert words.endswith("."), (event.action, words)


def test_a_kind_not_known_yet_reads_as_a_generic_sentence_with_its_detail_summarised(clinician):
    fields = [f"field_{n}" for n in range(40)]
    event = audit_record(
        actor=clinician,
        action="future.thing_done",
        detail={"fields": fields, "copied_from": None, "done": True, "digest": "ab" * 32},
    )
    words = text(sentence_of(event))
    assert words.startswith(f"{person(clinician)} — future: thing done — ")
    assert "fields: 40 (field_0, field_1, field_2, field_3, field_4, field_5 and 34 more)" in words
    assert "copied from: none" in words
    assert "done: yes" in words
    assert "digest" not in words


def test_what_people_typed_and_admins_titled_is_escaped(clinician):
    screening = run(clinician, pregnancy_status="pregnant")
    event = audit_record(
        actor=clinician,
        action="flag.overridden",
        target=screening,
        detail={"rule": "STOP-PREGNANCY", "reason_code": "x", "reason": "<b>bold</b>"},
    )
    html = sentence_of(event, titles={"STOP-PREGNANCY": "<script>alert(1)</script>"})
    assert "<script>" not in html
    assert "<b>" not in html
    assert "&lt;script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


# --- the pages ----------------------------------------------------------------------------------


def test_the_audit_log_shows_sentences_names_and_the_raw_code(client, reviewer, named_clinician):
    screening = overridden_pregnancy(named_clinician)
    client.force_login(reviewer)
    html = client.get(AUDIT, {"action": "flag.overridden"}).content.decode()
    assert "Ada Okafor overrode <code>STOP-PREGNANCY</code>" in html
    assert "<code>flag.overridden</code>" in html
    assert f'href="{reverse("screening:review", args=[screening.uuid])}"' in html


def test_the_reviewers_trail_reads_as_sentences(client, reviewer, named_clinician):
    screening = overridden_pregnancy(named_clinician, sign=True)
    client.force_login(reviewer)
    html = client.get(reverse("screening:review", args=[screening.uuid])).content.decode()
    trail = html[html.index('id="trail"') :]
    assert "Ada Okafor overrode <code>STOP-PREGNANCY</code>" in trail
    assert "Ada Okafor signed" in text(trail)
    assert "opened the screening of patient" in text(trail)
    assert "Ada Okafor ran the screening" in text(trail)
    assert "copied_from: None" not in trail


def test_the_audit_log_filters_by_kind_family_and_object(client, reviewer, clinician):
    overridden = overridden_pregnancy(clinician)
    other = run(clinician)
    audit_record(actor=clinician, action="intake.save", target=other.intake, detail={})
    client.force_login(reviewer)

    def actions(**params):
        html = client.get(AUDIT, params).content.decode()
        return set(re.findall(r'data-action="([a-z_.]+)"', html))

    assert actions(action="flag.overridden") == {"flag.overridden"}
    assert actions(action="screening.") == {"screening.run"}
    assert actions(object_type="patients.intake") == {"intake.save"}
    about_other = actions(object_type="screening.screening", object_id=str(other.uuid))
    assert about_other == {"screening.run"}
    assert "flag.overridden" in actions(object_id=str(overridden.uuid))
    # A kind newer than the picker's list can still be asked for by its code.
    audit_record(actor=None, action="future.thing", detail={})
    assert actions(action="future.thing") == {"future.thing"}
    assert client.get(AUDIT, {"action": "not a code"}).status_code == 200
    assert actions(action="not a code") == set()
