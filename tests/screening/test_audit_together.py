"""Events recorded together (`audit_together`): written in order at the end of the block, in one
go, and not at all when the block fails."""

import pytest
from django.db import transaction

from screening.core.audit import audit_record, audit_together, audit_verify
from screening.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_events_recorded_together_are_chained_in_order_when_the_block_ends():
    first = audit_record(actor=None, action="system.start")

    with transaction.atomic(), audit_together():
        saved = audit_record(actor=None, action="intake.save", detail={"n": 1})
        run = audit_record(actor=None, action="screening.run", detail={"n": 2})
        assert AuditEvent.objects.count() == 1  # held back until the block ends

    stored = list(AuditEvent.objects.order_by("seq"))
    assert [e.action for e in stored] == ["system.start", "intake.save", "screening.run"]
    assert (saved.seq, run.seq) == (2, 3)
    assert (saved.prev_hash, run.prev_hash) == (first.hash, saved.hash)
    assert audit_verify().ok


def test_a_block_that_fails_writes_none_of_its_events():
    audit_record(actor=None, action="system.start")

    def change_that_fails() -> None:
        with transaction.atomic(), audit_together():
            audit_record(actor=None, action="intake.save")
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        change_that_fails()

    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["system.start"]
    assert audit_record(actor=None, action="system.stop").seq == 2
    assert audit_verify().ok


def test_an_inner_block_leaves_the_writing_to_the_outer_one():
    with transaction.atomic(), audit_together():
        with audit_together():
            audit_record(actor=None, action="intake.save")
        assert not AuditEvent.objects.exists()
        audit_record(actor=None, action="screening.run")

    assert list(AuditEvent.objects.values_list("action", flat=True)) == [
        "intake.save",
        "screening.run",
    ]
    assert audit_verify().ok
