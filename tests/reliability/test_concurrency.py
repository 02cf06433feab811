"""The same change made twice at once, from two real database connections.

`race` starts each change in its own thread (Django gives every thread its own connection) and
releases them together from a barrier. `SlowReads` then pauses each thread after it reads the
contested row, so both have read before either writes: where a service relies on a row lock
(SELECT … FOR UPDATE) the second reader waits for the first to commit, and where a lock is
missing both act on the same stale read, on every run rather than by bad luck. Exactly one change
wins; the other gets a refusal a person can read, and what is stored stays consistent: one
signature, one review per flag, an audit chain that verifies with contiguous seq.

These tests commit for real, so they are transactional and ask for the migrated data back
(`serialized_rollback`, see tests/conftest.py).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

from django.contrib.messages import get_messages
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from patients.models import Intake, IntakeAutosave
from patients.services import intake_autosave
from rules.models import RuleSetVersion
from rules.selectors import published_version
from rules.services import rule_set_publish
from screening.core.audit import audit_verify
from screening.core.errors import ConflictError, LockedError, ServiceError
from screening.core.models import AuditEvent
from screening.models import FlagReview, Screening
from screening.services import (
    NO_REVIEW,
    flag_acknowledge,
    intake_save,
    intake_submit,
    screening_amend,
    screening_run,
    screening_sign,
)
from tests.factories import ELIGIBLE_TRD, TWO_FAILED_TRIALS
from tests.patients.conftest import eligible_data
from tests.reliability.conftest import AUTOCOMMIT, ON, REVIEW

pytestmark = AUTOCOMMIT

#: Long enough that the other thread reads while this one waits, on any machine.
PAUSE = 0.2
SCREENING, INTAKE, REVIEWS = "screening_screening", "patients_intake", "screening_flagreview"
VERSION = "rules_rulesetversion"


class SlowReads:
    """An execute wrapper that pauses after every SELECT from one of `tables`."""

    def __init__(self, *tables: str) -> None:
        self.froms = tuple(f'FROM "{table}"' for table in tables)

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context):
        result = execute(sql, params, many, context)
        if sql.startswith("SELECT") and any(table in sql for table in self.froms):
            time.sleep(PAUSE)
        return result


def race(*changes: Callable[[], Any], slow: tuple[str, ...] = ()) -> list[Any]:
    """Run `changes` at once, one thread and connection each, reads of `slow` tables paused;
    return what each returned or raised, in order."""
    start = threading.Barrier(len(changes))
    outcomes: list[Any] = [None] * len(changes)

    def contend(index: int, change: Callable[[], Any]) -> None:
        try:
            with connection.execute_wrapper(SlowReads(*slow)):
                start.wait(timeout=10)
                outcomes[index] = change()
        except Exception as exc:  # the outcome under test, as much as a result is
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=contend, args=item) for item in enumerate(changes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a change never finished"
    return outcomes


def slowed(change: Callable[[], Any], *tables: str) -> Callable[[], Any]:
    """`change` with its reads of `tables` paused too: one side of a race held back longer."""

    def run() -> Any:
        with connection.execute_wrapper(SlowReads(*tables)):
            return change()

    return run


def one_wins(outcomes: list[Any], refusal: type[Exception]) -> tuple[Any, Exception]:
    """The winner's result and the loser's refusal, asserting there is exactly one of each."""
    refused = [o for o in outcomes if isinstance(o, Exception)]
    won = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(won) == 1, outcomes
    assert len(refused) == 1, outcomes
    assert isinstance(refused[0], refusal), repr(refused[0])
    return won[0], refused[0]


def assert_audit_chain_intact() -> None:
    verification = audit_verify()
    assert verification.ok, verification.reason
    seqs = list(AuditEvent.objects.values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


def signed_in(user) -> Client:
    """A browser session of `user`; a server error comes back as a 500, not an exception."""
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- signing -------------------------------------------------------------------------------------


def test_second_signer_gets_a_conflict_and_one_signature_is_stored(
    ready_screening, clinician, other_clinician
):
    outcomes = race(
        lambda: screening_sign(screening=ready_screening, user=clinician),
        lambda: screening_sign(screening=ready_screening, user=other_clinician),
        slow=(SCREENING,),
    )

    signed, refused = one_wins(outcomes, LockedError)
    assert str(refused) == "This screening is signed and locked."
    stored = Screening.objects.get(pk=ready_screening.pk)
    assert stored.is_signed
    assert stored.signed_by == signed.signed_by
    assert AuditEvent.objects.filter(action="screening.sign").count() == 1
    assert_audit_chain_intact()


def test_two_sessions_signing_at_once_show_the_loser_that_it_is_locked(
    ready_screening, clinician, other_clinician
):
    url = reverse("screening:sign", args=[ready_screening.uuid])
    sessions = [signed_in(clinician), signed_in(other_clinician)]

    responses = race(*(lambda s=s: s.post(url) for s in sessions), slow=(SCREENING,))

    assert [r.status_code for r in responses] == [302, 302]
    said = sorted(messages_of(r)[0] for r in responses)
    assert said == [
        "Not signed: This screening is signed and locked.",
        "Screening signed. It is now locked; amend it to change it.",
    ]
    assert AuditEvent.objects.filter(action="screening.sign").count() == 1
    assert_audit_chain_intact()


def test_signing_while_the_intake_is_run_again_refuses_one_and_never_deadlocks(
    ready_screening, clinician, other_clinician
):
    intake = ready_screening.intake
    outcomes = race(
        lambda: screening_sign(screening=ready_screening, user=clinician),
        lambda: screening_run(intake=intake, user=other_clinician, on=ON),
        slow=(SCREENING, INTAKE),
    )

    signed, rerun = outcomes
    assert isinstance(signed, ServiceError) != isinstance(rerun, ServiceError), outcomes
    stored = Screening.objects.get(pk=ready_screening.pk)
    if isinstance(rerun, LockedError):  # the signature came first and locked the intake
        assert stored.is_signed
        assert Screening.objects.filter(intake=intake).count() == 1
    else:  # the run came first and superseded the screening being signed
        assert isinstance(signed, ConflictError), repr(signed)
        assert stored.status == Screening.Status.SUPERSEDED
        assert Intake.objects.get(pk=intake.pk).status == Intake.Status.DRAFT
    assert_audit_chain_intact()


# --- flags ---------------------------------------------------------------------------------------


def test_two_acknowledgements_of_one_flag_store_one_review_and_refuse_the_other(
    screening, clinician, other_clinician
):
    def acknowledge(user, reason):
        return lambda: flag_acknowledge(
            screening=screening, rule_id=REVIEW, user=user, reason=reason, seen=NO_REVIEW
        )

    outcomes = race(
        acknowledge(clinician, "Rechecked: 128/82"),
        acknowledge(other_clinician, "Seen by GP"),
        slow=(SCREENING,),
    )

    review, refused = one_wins(outcomes, ConflictError)
    assert str(refused) == (
        f"“Elevated blood pressure” was acknowledged by {review.reviewed_by.username} after "
        "you opened this page. "
        "Your reason was not saved: read theirs, then revise it if you need to."
    )
    stored = FlagReview.objects.get(screening=screening, rule_id=REVIEW)
    assert (stored.reason, stored.reviewed_by) == (review.reason, review.reviewed_by)
    assert AuditEvent.objects.filter(action="flag.acknowledged").count() == 1
    assert_audit_chain_intact()


def test_two_sessions_acknowledging_one_flag_show_the_loser_the_other_review(
    screening, clinician, other_clinician
):
    url = reverse("screening:acknowledge", args=[screening.uuid, REVIEW])
    sessions = [signed_in(clinician), signed_in(other_clinician)]
    page = sessions[0].get(reverse("screening:detail", args=[screening.uuid])).content.decode()
    [seen] = re.findall(rf'name="seen" value="([^"]*)" id="id_{REVIEW}_seen"', page)

    responses = race(
        *(lambda s=s: s.post(url, {"reason": "Rechecked", "seen": seen}) for s in sessions),
        slow=(SCREENING,),
    )

    assert [r.status_code for r in responses] == [302, 302]
    said = sorted(messages_of(r)[0] for r in responses)
    # Messages name the flag by its title, never its rule ID.
    assert said[0].startswith("Not saved: “Elevated blood pressure” was acknowledged by ")
    assert said[1] == "“Elevated blood pressure” acknowledged."
    assert FlagReview.objects.filter(screening=screening).count() == 1
    assert_audit_chain_intact()


def test_a_review_revised_while_the_screening_is_signed_is_refused(
    ready_screening, clinician, other_clinician
):
    def revise():
        return flag_acknowledge(
            screening=ready_screening, rule_id=REVIEW, user=other_clinician, reason="Changed"
        )

    # Both read the screening together; the revision then dawdles over the flag's review, so
    # without a lock on the screening it would land after the signature had counted the reviews.
    outcomes = race(
        lambda: screening_sign(screening=ready_screening, user=clinician),
        slowed(revise, REVIEWS),
        slow=(SCREENING,),
    )

    signed, revised = outcomes
    stored = FlagReview.objects.get(screening=ready_screening, rule_id=REVIEW)
    if isinstance(revised, LockedError):  # signed first: the signature's reviews stand
        assert signed.is_signed
        assert stored.reason == "Rechecked"
    else:  # revised first: the signature covers the revision
        assert not isinstance(revised, Exception), repr(revised)
        assert not isinstance(signed, Exception), repr(signed)
        assert stored.reason == "Changed"
        sign_event = AuditEvent.objects.get(action="screening.sign")
        assert sign_event.seq > AuditEvent.objects.filter(action="flag.acknowledged").last().seq
    assert_audit_chain_intact()


# --- intakes -------------------------------------------------------------------------------------


def test_two_saves_of_one_intake_version_keep_the_first_and_refuse_the_second(
    intake, clinician, other_clinician
):
    opened = intake.version

    def save(user, phq9_total):
        copy = Intake.objects.get(pk=intake.pk)  # each session its own object, as in a request
        return lambda: intake_save(
            intake=copy,
            user=user,
            expected_version=opened,
            values={**ELIGIBLE_TRD, "phq9_total": phq9_total},
            trials=TWO_FAILED_TRIALS[: phq9_total % 2 + 1],
        )

    outcomes = race(save(clinician, 20), save(other_clinician, 21), slow=(INTAKE,))

    saved, refused = one_wins(outcomes, ConflictError)
    assert "Another clinician saved this intake after you opened it" in str(refused)
    stored = Intake.objects.get(pk=intake.pk)
    assert (stored.version, stored.phq9_total) == (opened + 1, saved.phq9_total)
    assert stored.trials.count() == saved.phq9_total % 2 + 1
    assert AuditEvent.objects.filter(action="intake.save").count() == 1
    assert_audit_chain_intact()


def test_two_sessions_saving_one_intake_version_show_the_loser_a_409_conflict(
    intake, clinician, other_clinician
):
    url = reverse("patients:intake_edit", args=[intake.uuid])
    posts = [
        (signed_in(clinician), eligible_data(intake, phq9_total=20)),
        (signed_in(other_clinician), eligible_data(intake, phq9_total=21)),
    ]

    responses = race(*(lambda c=c, d=d: c.post(url, d) for c, d in posts), slow=(INTAKE,))

    assert sorted(r.status_code for r in responses) == [302, 409]
    [loser] = [r for r in responses if r.status_code == 409]
    assert "Another clinician saved this intake after you opened it." in loser.content.decode()
    assert Intake.objects.get(pk=intake.pk).version == intake.version + 1
    assert_audit_chain_intact()


def test_two_runs_of_one_intake_leave_one_screening_awaiting_sign_off(
    intake, clinician, other_clinician
):
    outcomes = race(
        lambda: screening_run(intake=intake, user=clinician, on=ON),
        lambda: screening_run(intake=intake, user=other_clinician, on=ON),
        slow=(INTAKE,),
    )

    assert all(isinstance(o, Screening) for o in outcomes), outcomes
    statuses = sorted(Screening.objects.filter(intake=intake).values_list("status", flat=True))
    assert statuses == [Screening.Status.SUPERSEDED, Screening.Status.UNSIGNED]
    assert_audit_chain_intact()


def test_two_sessions_running_one_intake_version_screen_it_once(intake, clinician, other_clinician):
    url = reverse("patients:intake_edit", args=[intake.uuid])
    posts = [
        (signed_in(clinician), eligible_data(intake, action="run")),
        (signed_in(other_clinician), eligible_data(intake, action="run", phq9_total=21)),
    ]

    responses = race(*(lambda c=c, d=d: c.post(url, d) for c, d in posts), slow=(INTAKE,))

    assert sorted(r.status_code for r in responses) == [302, 409]
    [winner] = [r for r in responses if r.status_code == 302]
    [screening] = Screening.objects.filter(intake=intake)
    assert winner["Location"] == reverse("screening:detail", args=[screening.uuid])
    assert AuditEvent.objects.filter(action="screening.run").count() == 1
    assert_audit_chain_intact()


def test_an_autosave_racing_a_run_is_told_and_leaves_no_working_copy_behind(intake, clinician):
    opened = intake.version

    def submit():
        copy = Intake.objects.get(pk=intake.pk)
        return intake_submit(
            intake=copy,
            user=clinician,
            expected_version=opened,
            values={**ELIGIBLE_TRD, "phq9_total": 22},
            trials=TWO_FAILED_TRIALS,
            on=ON,
        )

    def autosave():
        return intake_autosave(
            intake=Intake.objects.get(pk=intake.pk),
            user=clinician,
            data={"phq9_total": ["23"], "version": [str(opened)]},
            base_version=opened,
        )

    # The run takes the intake's row first (its reads of the intake are quick, the autosave's
    # slowed), so the autosave waits for it and then finds the intake saved meanwhile.
    outcomes = race(submit, slowed(autosave, INTAKE))

    screening, refused = one_wins(outcomes, ConflictError)
    assert isinstance(screening, Screening)
    assert "saved by someone else" in str(refused)
    stored = Intake.objects.get(pk=intake.pk)
    assert (stored.version, stored.phq9_total) == (opened + 1, 22)
    assert not IntakeAutosave.objects.exists()
    assert_audit_chain_intact()


def test_two_submits_of_one_intake_version_screen_it_once_and_refuse_the_other(
    intake, clinician, other_clinician
):
    opened = intake.version

    def submit(user):
        copy = Intake.objects.get(pk=intake.pk)
        return lambda: intake_submit(
            intake=copy,
            user=user,
            expected_version=opened,
            values=ELIGIBLE_TRD,
            trials=TWO_FAILED_TRIALS,
            on=ON,
        )

    outcomes = race(submit(clinician), submit(other_clinician), slow=(INTAKE,))

    one_wins(outcomes, ConflictError)
    assert Screening.objects.filter(intake=intake).count() == 1
    assert_audit_chain_intact()


# --- amending ------------------------------------------------------------------------------------


def test_two_amendments_at_once_start_one_draft_and_refuse_the_other(
    signed_screening, clinician, other_clinician
):
    outcomes = race(
        lambda: screening_amend(screening=signed_screening, user=clinician, reason="a"),
        lambda: screening_amend(screening=signed_screening, user=other_clinician, reason="b"),
        slow=(SCREENING,),
    )

    draft, refused = one_wins(outcomes, ConflictError)
    assert "already in progress" in str(refused)
    assert list(Intake.objects.filter(amends=signed_screening)) == [draft]
    assert_audit_chain_intact()


def test_two_sessions_amending_at_once_send_the_loser_to_the_draft_in_progress(
    signed_screening, clinician, other_clinician
):
    url = reverse("screening:amend", args=[signed_screening.uuid])
    sessions = [signed_in(clinician), signed_in(other_clinician)]

    responses = race(
        *(lambda s=s: s.post(url, {"reason": "Mistyped"}) for s in sessions), slow=(SCREENING,)
    )

    [draft] = Intake.objects.filter(amends=signed_screening)
    locations = sorted(r["Location"] for r in responses)
    assert locations == sorted(
        [
            reverse("patients:intake_edit", args=[draft.uuid]),
            reverse("screening:detail", args=[signed_screening.uuid]),
        ]
    )
    [refused] = [r for r in responses if r["Location"].startswith("/screenings/")]
    [said] = messages_of(refused)
    assert said.startswith("Not amended: An amendment of this screening is already in progress")
    assert_audit_chain_intact()


# --- publishing ----------------------------------------------------------------------------------


def test_two_publishes_of_one_draft_publish_it_once(draft, rule_admin, django_user_model):
    other_admin = django_user_model.objects.get(pk=rule_admin.pk)
    outcomes = race(
        lambda: rule_set_publish(version=draft, user=rule_admin, change_note="First", today=ON),
        lambda: rule_set_publish(version=draft, user=other_admin, change_note="Second", today=ON),
        slow=(VERSION,),
    )

    published, refused = one_wins(outcomes, LockedError)
    assert "is published and never changes" in str(refused)
    assert published_version() == published
    numbers = RuleSetVersion.objects.order_by("number").values_list("number", "status")
    assert list(numbers) == [(1, "retired"), (2, "retired"), (3, "published")]
    assert AuditEvent.objects.filter(action="rules.version_publish").count() == 1
    assert_audit_chain_intact()


def test_two_sessions_publishing_one_draft_publish_it_once(draft, rule_admin):
    url = reverse("rules:publish", args=[draft.uuid])
    sessions = [signed_in(rule_admin), signed_in(rule_admin)]

    responses = race(
        *(
            lambda s=s, n=n: s.post(url, {"change_note": n})
            for s, n in zip(sessions, "AB", strict=True)
        ),
        slow=(VERSION,),
    )

    assert [r.status_code for r in responses] == [302, 302]
    said = sorted(messages_of(r)[0] for r in responses)
    assert said[0].startswith("Ketamine")
    assert "is published and never changes" in said[0]
    assert said[1].startswith("Version 3 published.")
    assert RuleSetVersion.objects.get(pk=draft.pk).number == 3
    assert_audit_chain_intact()
