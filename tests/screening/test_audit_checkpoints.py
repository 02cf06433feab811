"""Signed checkpoints outside the database, and the attacks they exist for.

Every attack here is carried out as the database's owner would: straight SQL with the triggers
off, every hash recomputed with the project's own `event_hash`, the chain head moved to match.
The hash chain alone calls each of these trails intact; held against the checkpoint file and
the public key, each is reported as tampering, naming the first point where the database and
the checkpoints disagree.
"""

from __future__ import annotations

import io
import json
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from screening.core.audit import audit_record, audit_verify, event_hash
from screening.core.checkpoints import (
    CheckpointError,
    CheckpointSource,
    Statement,
    audit_checkpoint,
    generate_key_pair,
    public_keys,
    publish_checkpoints,
)
from screening.core.models import GENESIS_HASH, AuditChainHead, AuditCheckpoint, AuditEvent
from screening.core.tasks import (
    audit_checkpoint_after_events,
    audit_checkpoint_periodic,
    schedule_periodic_checkpoints,
)
from tests.screening.conftest import as_database_owner

# The chain's events are counted from the first: creating the fixtures' people is not one.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("account_changes_unaudited")]


def record(n: int) -> list[AuditEvent]:
    return [
        audit_record(actor=None, action="system.check", detail={"n": n, "of": "the trail"})
        for _ in range(n)
    ]


@pytest.fixture
def trail(anchors) -> list[AuditEvent]:
    """Nine events; checkpoints #1 at seq 4, #2 at seq 7 and #3 at seq 8; seq 9 not yet
    checkpointed."""
    events = record(4)
    audit_checkpoint()
    events += record(3)
    audit_checkpoint()
    events += record(1)
    audit_checkpoint()
    events += record(1)
    return events


def verify(anchors, *extra: str) -> tuple[str, str]:
    """`verify_audit` as an auditor runs it: the checkpoint file and the public key only.
    Returns its output and, when it fails, its error."""
    out = io.StringIO()
    keys = [arg for path in anchors.public_key_files() for arg in ("--public-key", str(path))]
    try:
        call_command(
            "verify_audit", "--checkpoints", str(anchors.checkpoints), *keys, *extra, stdout=out
        )
    except CommandError as exc:
        return out.getvalue(), str(exc)
    return out.getvalue(), ""


def rewrite_from(seq: int, **changes) -> None:
    """Change event `seq` and recompute every later hash with `event_hash`, moving the chain
    head to the new end: what the hash chain alone cannot tell from the real trail."""
    events = list(AuditEvent.objects.filter(seq__gte=seq).order_by("seq"))
    prev_hash = AuditEvent.objects.get(seq=seq - 1).hash if seq > 1 else GENESIS_HASH
    for field, value in changes.items():
        setattr(events[0], field, value)
    with as_database_owner() as cursor:
        for event in events:
            event.prev_hash = prev_hash
            event.hash = prev_hash = event_hash(event)
            cursor.execute(
                "UPDATE screening_auditevent SET detail = %s::jsonb, prev_hash = %s, hash = %s "
                "WHERE id = %s",
                [json.dumps(event.detail), event.prev_hash, event.hash, event.pk],
            )
        cursor.execute(
            "UPDATE screening_auditchainhead SET last_hash = %s WHERE id = 1", [prev_hash]
        )


# --- writing checkpoints -------------------------------------------------------------------------


def test_a_checkpoint_signs_the_chain_length_and_head_into_the_database_and_the_file(anchors):
    events = record(3)
    out = io.StringIO()

    call_command("audit_checkpoint", stdout=out)

    checkpoint = AuditCheckpoint.objects.get()
    assert (checkpoint.number, checkpoint.seq, checkpoint.head_hash) == (1, 3, events[-1].hash)
    assert checkpoint.prev_digest == GENESIS_HASH
    (line,) = anchors.lines()
    assert line["number"] == 1
    assert line["seq"] == 3
    assert line["head"] == events[-1].hash
    assert line["key"] == checkpoint.key_id
    assert line["sig"] == checkpoint.signature
    assert f"checkpoint #1: seq 3, head {events[-1].hash[:16]}" in out.getvalue()


def test_each_checkpoint_names_the_digest_of_the_one_before(anchors):
    record(1)
    first = audit_checkpoint()
    record(1)
    second = audit_checkpoint()

    lines = anchors.lines()
    statement = Statement(
        **{key: lines[0][key] for key in ("number", "seq", "head", "at", "key", "prev")}
    )
    assert second.prev_digest == statement.digest()
    assert [line["number"] for line in lines] == [first.number, second.number]


def test_no_checkpoint_without_a_signing_key(settings):
    settings.AUDIT_SIGNING_KEY = settings.AUDIT_SIGNING_KEY_FILE = ""

    with pytest.raises(CheckpointError, match="no audit signing key is configured"):
        audit_checkpoint()
    with pytest.raises(CommandError, match="audit_keygen"):
        call_command("audit_checkpoint")
    assert not AuditCheckpoint.objects.exists()


def test_the_key_can_come_from_an_environment_variable(anchors, settings):
    private_pem, _, key = generate_key_pair()
    settings.AUDIT_SIGNING_KEY_FILE = ""
    settings.AUDIT_SIGNING_KEY = private_pem.decode().replace("\n", "\\n")

    assert audit_checkpoint().key_id == key


def test_the_database_refuses_to_change_delete_or_truncate_checkpoints(anchors):
    record(2)
    audit_checkpoint()

    for sql in (
        "UPDATE screening_auditcheckpoint SET seq = 1",
        "DELETE FROM screening_auditcheckpoint",
        "TRUNCATE screening_auditcheckpoint",
    ):
        with (
            pytest.raises(IntegrityError, match=r"append-only|cannot be truncated"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert AuditCheckpoint.objects.count() == 1


@pytest.mark.parametrize("table", ["screening_auditevent", "screening_auditchainhead"])
def test_the_database_refuses_to_truncate_the_audit_tables(table):
    record(2)

    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE waits for no deferred check
    with (
        pytest.raises(IntegrityError, match="audit tables cannot be truncated"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"TRUNCATE {table} CASCADE")

    assert AuditEvent.objects.count() == 2


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE screening_auditchainhead SET last_seq = last_seq - 1",
        "UPDATE screening_auditchainhead SET last_hash = repeat('0', 64)",
        "UPDATE screening_auditchainhead SET last_seq = 0, last_hash = repeat('0', 64)",
        "DELETE FROM screening_auditchainhead",
    ],
)
def test_the_chain_head_only_moves_forward(sql):
    record(3)

    with (
        pytest.raises(IntegrityError, match="only moves forward"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)

    assert AuditChainHead.objects.get().last_seq == 3
    assert audit_verify().ok


def test_a_sink_that_missed_checkpoints_catches_up_in_order(anchors, settings):
    settings.AUDIT_CHECKPOINT_FILE = ""  # the sink is unreachable for two checkpoints
    record(1)
    audit_checkpoint()
    record(1)
    audit_checkpoint()
    settings.AUDIT_CHECKPOINT_FILE = str(anchors.checkpoints)

    record(1)
    audit_checkpoint()

    assert [line["number"] for line in anchors.lines()] == [1, 2, 3]
    assert publish_checkpoints() == 0
    assert verify(anchors)[1] == ""


def test_a_file_ahead_of_the_database_stops_checkpoints(anchors):
    record(1)
    audit_checkpoint()
    lines = anchors.checkpoints.read_text().splitlines()
    anchors.write_lines([*lines, lines[0].replace('"number":1', '"number":7')])

    with pytest.raises(CheckpointError, match="the database lost checkpoints"):
        publish_checkpoints()


# --- when checkpoints are written ---------------------------------------------------------------


def test_the_periodic_task_checkpoints_a_grown_chain_and_queues_its_next_run(anchors, settings):
    record(2)
    before = timezone.now()

    assert audit_checkpoint_periodic.call() == {"number": 1, "seq": 2}
    assert audit_checkpoint_periodic.call() is None  # nothing appended since: nothing signed

    waiting = DBTaskResult.objects.filter(
        task_path=audit_checkpoint_periodic.module_path, status=TaskResultStatus.READY
    )
    assert waiting.count() == 1  # never two waiting
    run_after = waiting.get().run_after
    assert before + settings.AUDIT_CHECKPOINT_INTERVAL <= run_after
    assert run_after <= timezone.now() + settings.AUDIT_CHECKPOINT_INTERVAL
    assert not schedule_periodic_checkpoints()


def test_every_n_events_a_checkpoint_is_queued_once_the_change_commits(
    anchors, settings, django_capture_on_commit_callbacks
):
    settings.AUDIT_CHECKPOINT_EVERY_EVENTS = 3
    queued = DBTaskResult.objects.filter(
        task_path=audit_checkpoint_after_events.module_path, status=TaskResultStatus.READY
    )

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        record(2)
    assert (len(callbacks), queued.count()) == (0, 0)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        record(5)  # crosses 3 and 6
    assert len(callbacks) == 2
    assert queued.count() == 1  # never two waiting
    assert DBTaskResult.objects.filter(task_path=audit_checkpoint_periodic.module_path).exists()

    assert audit_checkpoint_after_events.call() == {"number": 1, "seq": 7}


def test_nothing_is_queued_when_checkpoints_are_not_configured(
    settings, django_capture_on_commit_callbacks
):
    settings.AUDIT_SIGNING_KEY = settings.AUDIT_SIGNING_KEY_FILE = ""
    settings.AUDIT_CHECKPOINT_EVERY_EVENTS = 1

    with django_capture_on_commit_callbacks(execute=True):
        record(2)

    assert not DBTaskResult.objects.exists()


# --- an intact trail -------------------------------------------------------------------------------


def test_an_intact_trail_verifies_against_every_checkpoint(trail, anchors):
    result = audit_verify()

    assert result.ok, result.findings
    assert (result.events_checked, result.checkpoints_checked) == (9, 3)
    assert result.checkpoint_source == str(anchors.checkpoints)
    out, error = verify(anchors)
    assert error == ""
    assert "checkpoints: 3 trusted" in out
    assert "audit trail intact: 9 events" in out


def test_verification_needs_only_the_public_key(trail, anchors, settings):
    anchors.private_key.unlink()  # the auditor never holds it
    settings.AUDIT_SIGNING_KEY_FILE = ""
    settings.AUDIT_PUBLIC_KEYS = []
    settings.AUDIT_CHECKPOINT_FILE = ""

    out, error = verify(anchors)

    assert error == ""
    assert "checkpoints: 3 trusted" in out
    assert "audit trail intact: 9 events" in out


def test_without_the_public_key_no_checkpoint_is_trusted(trail, anchors, settings):
    settings.AUDIT_SIGNING_KEY_FILE = ""
    settings.AUDIT_PUBLIC_KEYS = []

    result = audit_verify()

    assert not result.ok
    assert result.checkpoints_checked == 0
    assert "not among the public keys given" in result.reason


def test_a_rotated_key_still_verifies_the_checkpoints_signed_before(trail, anchors):
    old_key = AuditCheckpoint.objects.get(number=1).key_id
    call_command("audit_keygen", "--rotate", stdout=io.StringIO())
    record(2)
    new = audit_checkpoint()

    assert new.key_id != old_key
    assert len(anchors.public_key_files()) == 2  # the old public key was kept
    assert {line["key"] for line in anchors.lines()} == {old_key, new.key_id}
    out, error = verify(anchors)
    assert error == ""
    assert "checkpoints: 4 trusted" in out
    # Without the old public key, the old checkpoints cannot be trusted.
    only_new = CheckpointSource(
        file=anchors.checkpoints,
        keys=public_keys([anchors.public_keys / f"{new.key_id}.pem"]),
    )
    result = audit_verify(checkpoints=only_new)
    assert not result.ok
    assert f"signed by key {old_key}, which is not among the public keys" in result.reason


def test_without_a_checkpoint_file_the_databases_own_checkpoints_are_used_and_it_says_so(
    trail, settings
):
    settings.AUDIT_CHECKPOINT_FILE = ""

    result = audit_verify()

    assert result.ok
    assert result.checkpoints_checked == 3
    assert "no checkpoint file is configured" in result.notes[0]


# --- the attacks ------------------------------------------------------------------------------------


def test_change_and_rehash_is_detected_at_the_first_event_no_checkpoint_confirms(trail, anchors):
    rewrite_from(5, detail={"n": 3, "of": "a different story"})

    result = audit_verify()
    assert (result.first_broken_seq, result.first_broken_id) == (5, trail[4].pk)
    assert "checkpoint #2" in result.reason
    assert "rewritten at seq 5 to 7" in result.reason
    assert result.events_checked == 4  # what checkpoint #1 still vouches for
    _, error = verify(anchors)
    assert f"audit trail broken at event seq 5 (id {trail[4].pk})" in error


def test_change_and_rehash_of_the_whole_trail_is_detected_at_its_first_event(trail, anchors):
    rewrite_from(1, detail={"n": 0, "of": "a different story"})

    result = audit_verify()

    assert result.first_broken_seq == 1
    assert "checkpoint #1" in result.reason
    assert "rewritten at seq 1 to 4" in result.reason


def test_deleting_the_tail_and_moving_the_head_back_is_detected(trail, anchors):
    with as_database_owner() as cursor:
        cursor.execute("DELETE FROM screening_auditevent WHERE seq >= 8")
        cursor.execute(
            "UPDATE screening_auditchainhead SET last_seq = 7, last_hash = %s WHERE id = 1",
            [trail[6].hash],
        )

    result = audit_verify()

    assert not result.ok
    assert (result.first_broken_seq, result.first_broken_id) == (8, None)
    assert "the trail ends at seq 7, but checkpoint #3" in result.reason
    assert "has 8 events: event 8 was deleted and the chain head moved back" in result.reason
    _, error = verify(anchors)
    assert "audit trail broken at event seq 8 (row missing)" in error


def test_truncating_the_trail_and_resetting_the_head_is_detected(trail, anchors):
    with as_database_owner() as cursor:
        cursor.execute("TRUNCATE screening_auditevent")
        cursor.execute(
            "UPDATE screening_auditchainhead SET last_seq = 0, last_hash = %s WHERE id = 1",
            [GENESIS_HASH],
        )

    result = audit_verify()

    assert (result.first_broken_seq, result.first_broken_id) == (1, None)
    assert "the trail is empty, but checkpoint #3" in result.reason
    assert "truncated" in result.reason
    _, error = verify(anchors)
    assert "audit trail broken at event seq 1 (row missing)" in error


def test_truncating_the_checkpoints_too_leaves_the_file_to_tell(trail, anchors):
    with as_database_owner() as cursor:
        cursor.execute("TRUNCATE screening_auditevent, screening_auditcheckpoint")
        cursor.execute("DELETE FROM screening_auditchainhead")

    result = audit_verify()

    assert result.first_broken_seq == 1
    assert "the trail is empty" in result.reason
    assert any(
        "the database only up to #0: the database's checkpoints were deleted" in f.message
        for f in result.findings
    )


def test_an_edited_checkpoint_line_is_detected_by_its_signature(trail, anchors):
    # The owner rewrites the trail and edits the file's checkpoint to match.
    rewrite_from(5, detail={"n": 3, "of": "a different story"})
    lines = anchors.checkpoints.read_text().splitlines()
    new_head = AuditEvent.objects.get(seq=7).hash
    lines[1] = re.sub(r'"head":"[0-9a-f]{64}"', f'"head":"{new_head}"', lines[1])
    anchors.write_lines(lines)

    result = audit_verify()

    assert not result.ok
    messages = [finding.message for finding in result.findings]
    assert "line 2 (checkpoint #2) has a bad signature" in " ".join(messages)
    # Checkpoint #3 still holds the real head at seq 8.
    assert result.first_broken_seq == 5
    assert "checkpoint #3" in result.reason


def test_a_deleted_checkpoint_line_is_detected_as_a_gap(trail, anchors):
    lines = anchors.checkpoints.read_text().splitlines()
    anchors.write_lines([lines[0], lines[2]])

    result = audit_verify()

    assert not result.ok
    assert result.reason.startswith("checkpoint #2 missing before line 2 (checkpoint #3)")
    _, error = verify(anchors)
    assert "audit trail broken: checkpoint #2 missing" in error


def test_a_deleted_last_checkpoint_line_is_detected_against_the_database(trail, anchors):
    lines = anchors.checkpoints.read_text().splitlines()
    anchors.write_lines(lines[:2])

    result = audit_verify()

    assert not result.ok
    assert "checkpoint #3 is in the database but not in" in result.reason


def test_a_checkpoint_forged_with_another_key_is_not_trusted(trail, anchors):
    lines = anchors.checkpoints.read_text().splitlines()
    forged = json.loads(lines[2])
    forged["key"] = "0123456789abcdef"
    anchors.write_lines([*lines[:2], json.dumps(forged)])

    result = audit_verify()

    assert not result.ok
    assert "line 3 (checkpoint #3) is signed by key 0123456789abcdef" in result.reason


def test_a_checkpoint_rewritten_in_the_database_is_detected_against_the_file(trail, anchors):
    with as_database_owner() as cursor:
        cursor.execute("UPDATE screening_auditcheckpoint SET seq = 3 WHERE number = 1")

    result = audit_verify()

    assert not result.ok
    assert "checkpoint #1 in the database differs from the file's" in result.reason


def test_the_reviewers_page_names_the_first_broken_point(client, reviewer, trail, anchors):
    rewrite_from(5, detail={"n": 3, "of": "a different story"})
    client.force_login(reviewer)

    html = client.get(reverse("screening:audit_verify")).content.decode()

    assert "Broken at event #5" in html
    assert "Checkpoint #2, signed" in html
