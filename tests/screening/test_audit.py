"""The audit trail: chaining, auth events, append-only enforcement, tamper detection and
concurrent writers, all against PostgreSQL."""

import contextlib
import datetime
import decimal
import itertools
import json
import threading
import uuid
from collections.abc import Iterator

import pytest
from django.contrib import admin
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import F, ProtectedError
from django.test import RequestFactory

from screening.core.audit import audit_record, audit_verify, event_hash
from screening.core.models import GENESIS_HASH, AuditChainHead, AuditEvent

TABLE = AuditEvent._meta.db_table
TRIGGER = "screening_auditevent_append_only"


# The chain's events are counted from the first: creating the fixtures' people is not one.
pytestmark = pytest.mark.usefixtures("account_changes_unaudited")


@pytest.fixture
def five_events(clinician) -> list[AuditEvent]:
    events = [audit_record(actor=None, action="system.start", detail={"note": "boot"})]
    for n in range(2, 6):
        events.append(
            audit_record(
                actor=clinician,
                action="screening.run",
                object_type="screening.screening",
                object_id=str(uuid.uuid4()),
                detail={"n": n, "outcome": "eligible"},
            )
        )
    return events


@contextlib.contextmanager
def trigger_disabled() -> Iterator[None]:
    """Let a test tamper with audit rows the way someone with table-owner rights could."""
    with connection.cursor() as cursor:
        # ALTER TABLE refuses to run while deferred foreign-key checks are queued.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER {TRIGGER}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER {TRIGGER}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def forged_event(**fields) -> AuditEvent:
    """An event written straight to the table, hashed correctly for its own content."""
    event = AuditEvent(
        occurred_at=datetime.datetime.now(datetime.UTC),
        actor_repr="mallory",
        action="screening.sign",
        detail={"forged": True},
        **fields,
    )
    event.hash = event_hash(event)
    event.save(force_insert=True)
    return event


def assert_broken_at(seq: int, event_id: int | None, reason_fragment: str) -> None:
    result = audit_verify()
    assert not result.ok
    assert (result.first_broken_seq, result.first_broken_id) == (seq, event_id)
    assert reason_fragment in result.reason
    row = "row missing" if event_id is None else f"id {event_id}"
    with pytest.raises(CommandError, match=rf"at event seq {seq} \({row}\)"):
        call_command("verify_audit")


# --- writing -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_event_links_to_the_hash_of_the_one_before(five_events):
    stored = list(AuditEvent.objects.order_by("seq"))

    assert [event.seq for event in stored] == [1, 2, 3, 4, 5]
    assert stored[0].prev_hash == GENESIS_HASH
    for previous, event in itertools.pairwise(stored):
        assert event.prev_hash == previous.hash
    assert all(event_hash(event) == event.hash for event in stored)
    head = AuditChainHead.objects.get()
    assert (head.last_seq, head.last_hash) == (5, stored[-1].hash)


@pytest.mark.django_db
def test_event_snapshots_actor_and_object(clinician):
    event = audit_record(
        actor=clinician, action="screening.run", object_type="screening.screening", object_id=42
    )

    event.refresh_from_db()
    assert (event.actor, event.actor_repr, event.object_id) == (clinician, "casey", "42")
    assert event.detail == {}


@pytest.mark.django_db
def test_detail_reads_back_from_jsonb_exactly_as_it_was_hashed():
    moment = datetime.datetime(2025, 3, 4, 5, 6, 7, 891011, tzinfo=datetime.UTC)
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    detail = {
        "zeta": 1,
        "alpha": {"when": moment, "day": datetime.date(2025, 3, 4), "id": ident},
        "dose_mg_per_kg": decimal.Decimal("0.50"),
        "ratio": 0.1,
        "big": 1e16,
        "negative_zero": -0.0,
        "names": ("Zoë", "名前"),
    }

    event = audit_record(actor=None, action="system.check", detail=detail)
    stored = AuditEvent.objects.get(pk=event.pk)

    assert stored.detail["alpha"] == {
        "when": "2025-03-04T05:06:07.891011+00:00",
        "day": "2025-03-04",
        "id": str(ident),
    }
    assert stored.detail["dose_mg_per_kg"] == "0.50"
    assert stored.detail["names"] == ["Zoë", "名前"]
    assert event_hash(stored) == stored.hash == event.hash
    assert audit_verify().ok


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("detail", "error"),
    [
        ({"thing": object()}, TypeError),
        ({"ratio": float("nan")}, TypeError),
        ({1: "non-string key"}, TypeError),
    ],
)
def test_detail_that_is_not_json_is_refused_before_anything_is_written(detail, error):
    with pytest.raises(error):
        audit_record(actor=None, action="system.check", detail=detail)

    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "action", ["", "login", "Auth.Login", "auth.", "auth login", "a." + "b" * 70]
)
def test_action_must_be_a_short_dotted_code(action):
    with pytest.raises(ValueError, match="dotted code"):
        audit_record(actor=None, action=action)


@pytest.mark.django_db
def test_event_in_a_rolled_back_transaction_leaves_no_trace():
    first = audit_record(actor=None, action="system.start")

    def change_that_fails() -> None:
        with transaction.atomic():
            audit_record(actor=None, action="screening.run", detail={"doomed": True})
            raise RuntimeError("the change failed, so its event must go too")

    with pytest.raises(RuntimeError, match="the change failed"):
        change_that_fails()

    assert list(AuditEvent.objects.values_list("seq", flat=True)) == [1]
    head = AuditChainHead.objects.get()
    assert (head.last_seq, head.last_hash) == (1, first.hash)
    assert audit_record(actor=None, action="system.stop").seq == 2
    assert audit_verify().ok


@pytest.mark.django_db
def test_a_user_with_audit_events_cannot_be_deleted(clinician):
    audit_record(actor=clinician, action="screening.run")

    with pytest.raises(ProtectedError):
        clinician.delete()


# --- logins --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_login_is_recorded(client, clinician, password):
    assert client.login(
        request=RequestFactory().post("/login/"), username="casey", password=password
    )

    event = AuditEvent.objects.get(action="auth.login")
    assert (event.actor, event.actor_repr) == (clinician, "casey")
    assert (event.object_type, event.object_id) == ("auth.user", str(clinician.pk))


@pytest.mark.django_db
def test_logout_is_recorded(client, clinician, password):
    client.login(request=RequestFactory().post("/login/"), username="casey", password=password)

    client.logout()

    event = AuditEvent.objects.get(action="auth.logout")
    assert (event.actor, event.actor_repr) == (clinician, "casey")
    assert audit_verify().events_checked == 2


@pytest.mark.django_db
def test_logout_without_a_session_is_not_an_event(client):
    client.logout()

    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_failed_login_records_the_account_but_never_the_password(client, clinician):
    attempt = "Wrong-Password-7f3a"

    assert not client.login(
        request=RequestFactory().post("/login/"), username="casey", password=attempt
    )

    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.actor is None
    assert (event.object_type, event.object_id) == ("auth.user", str(clinician.pk))
    assert event.detail["username"] == "casey"
    assert event.detail["known_account"] is True
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT row_to_json(t)::text FROM {TABLE} t")  # noqa: S608
        (raw_row,) = cursor.fetchone()
    assert "casey" in raw_row
    assert attempt.lower() not in raw_row.lower()


@pytest.mark.django_db
def test_failed_login_with_an_unknown_username_stores_nothing_that_was_typed(client, password):
    # A password typed into the username box is the classic way secrets reach logs.
    assert not client.login(
        request=RequestFactory().post("/login/"), username=password, password="anything"
    )

    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.detail["username"] is None
    assert event.detail["known_account"] is False
    assert (event.object_type, event.object_id) == ("", "")
    assert password not in json.dumps(
        list(AuditEvent.objects.values("actor_repr", "object_id", "detail"))
    )


@pytest.mark.django_db
def test_failed_login_from_a_request_records_the_client_address(clinician):
    request = RequestFactory().post("/login/", REMOTE_ADDR="203.0.113.7")

    assert authenticate(request, username="casey", password="wrong") is None

    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.detail["ip"] == "203.0.113.7"


# --- append-only ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sql",
    [
        f"UPDATE {TABLE} SET detail = '{{}}'::jsonb",  # noqa: S608
        f"UPDATE {TABLE} SET actor_repr = 'someone else' WHERE seq = 3",  # noqa: S608
        f"DELETE FROM {TABLE} WHERE seq = 5",  # noqa: S608
        f"DELETE FROM {TABLE}",  # noqa: S608
    ],
)
def test_database_refuses_to_change_or_delete_audit_rows(five_events, sql):
    with (
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)

    assert list(AuditEvent.objects.order_by("seq")) == five_events
    assert audit_verify().ok


@pytest.mark.django_db
def test_orm_update_is_refused_too(five_events):
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(seq=1).update(action="system.stop")


# --- verification --------------------------------------------------------------------------


@pytest.mark.django_db
def test_verify_audit_reports_an_intact_chain(five_events, capsys):
    call_command("verify_audit", "--chunk-size", "2")

    assert "audit trail intact: 5 events" in capsys.readouterr().out


@pytest.mark.django_db
def test_verify_audit_accepts_an_empty_trail(capsys):
    call_command("verify_audit")

    assert "audit trail intact: 0 events" in capsys.readouterr().out


@pytest.mark.django_db
def test_changed_detail_is_detected_at_that_event(five_events):
    with trigger_disabled():
        AuditEvent.objects.filter(seq=3).update(detail={"n": 3, "outcome": "ineligible"})

    assert_broken_at(3, five_events[2].pk, "the row was changed")


@pytest.mark.django_db
def test_changed_and_rehashed_event_is_detected_at_the_next_event(five_events):
    victim = AuditEvent.objects.get(seq=3)
    victim.detail = {"n": 3, "outcome": "ineligible"}
    with trigger_disabled():
        AuditEvent.objects.filter(pk=victim.pk).update(
            detail=victim.detail, hash=event_hash(victim)
        )

    assert_broken_at(4, five_events[3].pk, "prev_hash does not match the hash of event 3")


@pytest.mark.django_db
def test_deleted_middle_event_is_detected_at_the_gap(five_events):
    with trigger_disabled():
        AuditEvent.objects.filter(seq=3).delete()

    assert_broken_at(4, five_events[3].pk, "event 3 was deleted")


@pytest.mark.django_db
def test_deleted_last_event_is_detected_through_the_chain_head(five_events):
    with trigger_disabled():
        AuditEvent.objects.filter(seq=5).delete()

    assert_broken_at(5, None, "events after seq 4 were deleted")


@pytest.mark.django_db
def test_event_spliced_into_the_middle_is_detected(five_events):
    with trigger_disabled():
        # Make room at seq 3 in two steps so the unique seq index never sees a duplicate.
        AuditEvent.objects.filter(seq__gte=3).update(seq=F("seq") + 1000)
        AuditEvent.objects.filter(seq__gte=1000).update(seq=F("seq") - 999)
    forged_event(seq=3, prev_hash=five_events[1].hash)

    # The forgery itself is well formed; the event it displaced no longer hashes as seq 4.
    assert_broken_at(4, five_events[2].pk, "the row was changed")


@pytest.mark.django_db
def test_event_appended_with_a_forged_link_is_detected(five_events):
    forged = forged_event(seq=6, prev_hash=five_events[3].hash)

    assert_broken_at(6, forged.pk, "prev_hash does not match the hash of event 5")


@pytest.mark.django_db
def test_event_appended_behind_the_writers_back_is_detected_through_the_chain_head(five_events):
    forged = forged_event(seq=6, prev_hash=five_events[4].hash)

    assert_broken_at(6, forged.pk, "without going through audit_record")


@pytest.mark.django_db
def test_event_with_a_skipped_seq_is_detected(five_events):
    forged = forged_event(seq=7, prev_hash=five_events[4].hash)

    assert_broken_at(7, forged.pk, "expected seq 6 but found seq 7")


# --- permissions and admin -----------------------------------------------------------------


@pytest.mark.django_db
def test_reviewers_may_view_the_audit_trail_and_clinicians_may_not(reviewer, clinician):
    assert reviewer.has_perm("core.view_auditevent")
    assert not clinician.has_perm("core.view_auditevent")


@pytest.mark.django_db
def test_admin_offers_no_way_to_add_change_or_delete_events(admin_user, five_events):
    model_admin = admin.site._registry[AuditEvent]
    request = RequestFactory().get("/admin/screening/auditevent/")
    request.user = admin_user

    assert model_admin.has_view_permission(request, five_events[0])
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, five_events[0])
    assert not model_admin.has_delete_permission(request, five_events[0])


# --- concurrency ---------------------------------------------------------------------------

WRITERS = 8
EVENTS_PER_WRITER = 15


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_writers_build_one_unforked_chain(django_user_model, capsys):
    actor = django_user_model.objects.create_user(username="writer", password="unused-in-test")
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            start.wait()
            for n in range(EVENTS_PER_WRITER):
                audit_record(actor=actor, action="system.check", detail={"writer": writer, "n": n})
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    total = WRITERS * EVENTS_PER_WRITER
    events = list(AuditEvent.objects.order_by("seq").values_list("seq", "prev_hash", "hash"))
    assert [seq for seq, _, _ in events] == list(range(1, total + 1))
    assert [prev for _, prev, _ in events] == [GENESIS_HASH] + [h for _, _, h in events[:-1]]
    assert AuditChainHead.objects.get().last_seq == total
    # Outside a transaction, verification runs in its own read-only snapshot.
    assert audit_verify().ok
    call_command("verify_audit")
    assert f"audit trail intact: {total} events" in capsys.readouterr().out
