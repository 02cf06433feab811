"""The clinical record inside the audit chain: events that write clinical content carry a digest
of it, and verification recomputes the digests of every signed screening and published rule
set from their rows.

The attacks are the database owner's: a signed screening's disposition rewritten, its flag or
review rows deleted, a published rule's logic edited, with the triggers off. Each is reported
naming the record and the event whose digest it no longer matches.
"""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from rules.digests import PublishedVersions, version_digest
from rules.models import RuleSet, RuleSetVersion
from rules.services import draft_start, rule_set_publish, rule_update
from screening.core.audit import audit_record, audit_verify
from screening.core.checkpoints import audit_checkpoint
from screening.core.models import AuditEvent
from screening.core.records import ATTEST_ACTION
from screening.digests import SignedScreenings, screening_digest
from screening.models import Screening
from screening.services import screening_amend
from tests.screening.conftest import as_database_owner
from tests.screening.review_helpers import overridden_pregnancy, run

pytestmark = pytest.mark.django_db
ON = date(2026, 11, 24)
NEW_BP_MESSAGE = "Blood pressure above 140/90 at intake: recheck before dosing and weigh the risk."


@pytest.fixture
def signed(clinician) -> Screening:
    """A pregnant patient's screening: the stop flag overridden, then signed."""
    return overridden_pregnancy(clinician, sign=True)


@pytest.fixture
def version_2(rule_admin) -> RuleSetVersion:
    """The next rule-set version (3, after the migrations publish 2), published through the
    services with one message reworded."""
    draft = draft_start(rule_set=RuleSet.objects.get(name="ketamine"), user=rule_admin)
    rule_update(
        rule=draft.rules.get(rule_id="REV-BP-ELEVATED"),
        user=rule_admin,
        values={"message": NEW_BP_MESSAGE},
    )
    return rule_set_publish(version=draft, user=rule_admin, change_note="Reworded.", today=ON)


def digest_events(screening: Screening) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(object_id=str(screening.uuid), detail__has_key="digest")
        .exclude(action__endswith=".view")
        .order_by("seq")
    )


def sign_event(screening: Screening) -> AuditEvent:
    return AuditEvent.objects.get(object_id=str(screening.uuid), action="screening.sign")


# --- digests in the chain ----------------------------------------------------------------------


def test_every_change_to_a_screening_records_the_digest_of_its_stored_rows(signed, clinician):
    events = digest_events(signed)
    assert [event.action for event in events] == [
        "screening.run",
        "flag.overridden",
        "screening.sign",
    ]
    stored = Screening.objects.get(pk=signed.pk)  # read back: jsonb, timestamps, rows
    assert events[-1].detail["digest"] == screening_digest(stored)
    assert SignedScreenings().digests([str(signed.uuid)]) == {
        str(signed.uuid): events[-1].detail["digest"]
    }
    # Each earlier digest was of the screening as it then was: all different.
    assert len({event.detail["digest"] for event in events}) == 3


def test_a_digest_taken_before_storing_matches_the_stored_rows(clinician):
    screening = run(clinician, systolic_bp=150, diastolic_bp=95)

    (event,) = digest_events(screening)
    assert event.detail["digest"] == screening_digest(Screening.objects.get(pk=screening.pk))


def test_an_amendment_records_the_signed_screenings_digest_again(signed, clinician):
    screening_amend(screening=signed, user=clinician, reason="Mistyped blood pressure")

    events = digest_events(signed)
    assert events[-1].action == "screening.amend"
    assert events[-1].detail["digest"] == sign_event(signed).detail["digest"]
    assert audit_verify().ok


def test_publishing_records_the_digest_of_the_versions_rules(version_2):
    event = AuditEvent.objects.get(action="rules.version_publish", object_id=str(version_2.uuid))

    assert event.detail["digest"] == version_digest(RuleSetVersion.objects.get(pk=version_2.pk))
    assert PublishedVersions().digests([str(version_2.uuid)]) == {
        str(version_2.uuid): event.detail["digest"]
    }


def test_intact_records_verify(signed, version_2, clinician):
    run(clinician)  # unsigned: not a finished record

    result = audit_verify()

    assert result.ok, result.findings
    assert result.records_checked == {
        "signed screening": 1,
        "published rule-set version": 1,
    }
    # Versions 1 and 2 were published by `migrate`, before any event: they wait for
    # audit_attest.
    assert result.records_uncovered["published rule-set version"] == 2
    assert "2 published rule-set versions have no event carrying a digest" in result.notes[-1]


def test_attesting_covers_the_records_that_predate_digests_once(signed):
    out = io.StringIO()
    call_command("audit_attest", stdout=out)
    call_command("audit_attest", stdout=io.StringIO())

    assert "2 published rule-set versions attested" in out.getvalue()
    assert AuditEvent.objects.filter(action=ATTEST_ACTION).count() == 2
    result = audit_verify()
    assert result.ok
    assert result.records_uncovered == {"signed screening": 0, "published rule-set version": 0}


# --- the database keeps a signed screening's flags --------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE screening_screeningflag SET review_kind = '' WHERE screening_id = %s",
        "DELETE FROM screening_screeningflag WHERE screening_id = %s",
        "INSERT INTO screening_screeningflag (screening_id, rule_id, severity, run_at, "
        "review_kind) VALUES (%s, 'STOP-MADE-UP', 'stop', now(), '')",
        "UPDATE screening_flagreview SET reason = 'rewritten' WHERE screening_id = %s",
        "DELETE FROM screening_flagreview WHERE screening_id = %s",
    ],
)
def test_the_database_refuses_to_change_a_signed_screenings_flags_and_reviews(signed, sql):
    with (
        pytest.raises(IntegrityError, match="cannot change"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [signed.pk])

    assert audit_verify().ok


def test_an_unsigned_screenings_flags_stay_free(clinician):
    screening = run(clinician, pregnancy_status="pregnant")

    assert screening.fired_flags.update(review_kind="") == 1


# --- the attacks, as the database owner --------------------------------------------------------


@pytest.fixture
def checkpointed(anchors, signed, version_2):
    """The signed screening and version 2, with a checkpoint in the outside file."""
    audit_checkpoint()
    return signed, version_2


def test_a_signed_screenings_disposition_rewritten_is_detected(checkpointed):
    signed, _ = checkpointed
    with as_database_owner() as cursor:
        cursor.execute(
            "UPDATE screening_screening SET disposition = 'eligible', "
            "result = jsonb_set(result, '{disposition}', '\"eligible\"') WHERE id = %s",
            [signed.pk],
        )

    result = audit_verify()

    assert not result.ok
    event = sign_event(signed)
    assert (result.first_broken_seq, result.first_broken_id) == (event.seq, event.pk)
    assert result.reason == (
        f"signed screening {signed.uuid} no longer matches the digest recorded by event seq "
        f"{event.seq} (screening.sign): its rows were changed after that event"
    )


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE screening_screening SET stale_rules_reason = 'quietly added' WHERE id = %s",
        'UPDATE screening_screening SET incomplete_reasons = \'{"cssrs": "x"}\' WHERE id = %s',
        "UPDATE screening_flagreview SET carried_from_id = id WHERE screening_id = %s",
    ],
    ids=["stale-rules-reason", "incomplete-reasons", "carried-from"],
)
def test_the_reasons_given_at_signing_and_carried_reviews_are_in_the_digest(checkpointed, sql):
    signed, _ = checkpointed
    with as_database_owner() as cursor:
        cursor.execute(sql, [signed.pk])

    result = audit_verify()

    assert not result.ok
    assert result.first_broken_seq == sign_event(signed).seq


@pytest.mark.parametrize("table", ["screening_screeningflag", "screening_flagreview"])
def test_a_signed_screenings_flag_or_review_deleted_is_detected(checkpointed, table):
    signed, _ = checkpointed
    with as_database_owner() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE screening_id = %s", [signed.pk])  # noqa: S608

    result = audit_verify()

    assert not result.ok
    assert result.first_broken_seq == sign_event(signed).seq
    assert f"signed screening {signed.uuid} no longer matches" in result.reason


def test_a_signed_screening_made_unsigned_again_is_detected(checkpointed):
    signed, _ = checkpointed
    with as_database_owner() as cursor:
        cursor.execute(
            "UPDATE screening_screening SET status = 'unsigned', signed_by_id = NULL, "
            "signed_at = NULL WHERE id = %s",
            [signed.pk],
        )

    result = audit_verify()

    assert f"signed screening {signed.uuid} no longer matches" in result.reason


def test_a_signed_screening_deleted_is_detected(checkpointed):
    signed, _ = checkpointed
    with as_database_owner() as cursor:
        for table in ("screening_screeningflag", "screening_flagreview"):
            cursor.execute(f"DELETE FROM {table} WHERE screening_id = %s", [signed.pk])  # noqa: S608
        cursor.execute("DELETE FROM screening_screening WHERE id = %s", [signed.pk])

    result = audit_verify()

    assert f"signed screening {signed.uuid} is gone" in result.reason


def test_a_rewrite_vouched_for_by_a_new_event_still_fails_the_signatures_digest(
    checkpointed, clinician
):
    # The owner edits the screening, then appends (properly chained, head moved forward) a
    # sign event carrying the new digest: the first signature's digest still disagrees.
    signed, _ = checkpointed
    original = sign_event(signed)
    with as_database_owner() as cursor:
        cursor.execute(
            "UPDATE screening_screening SET disposition = 'eligible' WHERE id = %s", [signed.pk]
        )
    forged = screening_digest(Screening.objects.get(pk=signed.pk))
    audit_record(actor=clinician, action="screening.sign", target=signed, detail={"digest": forged})

    result = audit_verify()

    assert (result.first_broken_seq, result.first_broken_id) == (original.seq, original.pk)
    assert f"the digest recorded by event seq {original.seq} (screening.sign)" in result.reason


def test_a_published_rules_logic_edited_is_detected(checkpointed):
    _, version_2 = checkpointed
    with as_database_owner() as cursor:
        cursor.execute(
            "UPDATE rules_rule SET logic = 'false' WHERE version_id = %s "
            "AND rule_id = 'STOP-PREGNANCY'",
            [version_2.pk],
        )

    result = audit_verify()

    assert not result.ok
    event = AuditEvent.objects.get(action="rules.version_publish", object_id=str(version_2.uuid))
    assert (result.first_broken_seq, result.first_broken_id) == (event.seq, event.pk)
    assert result.reason == (
        f"published rule-set version {version_2.uuid} no longer matches the digest recorded by "
        f"event seq {event.seq} (rules.version_publish): its rows were changed after that event"
    )


def test_an_attested_rule_set_edited_is_detected(anchors):
    call_command("audit_attest", stdout=io.StringIO())
    audit_checkpoint()
    version_1 = RuleSetVersion.objects.get(number=1)
    with as_database_owner() as cursor:
        cursor.execute(
            "UPDATE rules_rule SET logic = 'false' WHERE version_id = %s "
            "AND rule_id = 'STOP-PREGNANCY'",
            [version_1.pk],
        )

    result = audit_verify()

    assert f"published rule-set version {version_1.uuid} no longer matches" in result.reason
    assert f"({ATTEST_ACTION})" in result.reason


def test_every_record_that_no_longer_matches_is_reported(checkpointed, clinician):
    signed, version_2 = checkpointed
    other = overridden_pregnancy(clinician, sign=True)
    with as_database_owner() as cursor:
        for screening in (signed, other):
            cursor.execute(
                "UPDATE screening_screening SET urgent = NOT urgent WHERE id = %s", [screening.pk]
            )
        cursor.execute(
            "UPDATE rules_rulesetversion SET change_note = 'nothing to see' WHERE id = %s",
            [version_2.pk],
        )
    out = io.StringIO()

    with pytest.raises(Exception, match="audit trail broken") as failure:
        call_command("verify_audit", stdout=out)

    message = str(failure.value)
    for uuid in (signed.uuid, other.uuid, version_2.uuid):
        assert str(uuid) in message
    assert json.dumps(message)  # one readable message, no traceback
