"""Every change service stores all of its change or none of it, wherever the database fails.

A fault here is PostgreSQL failing one statement the way a cancelled query or a lost server
does. `Fault` makes the database fail statement k of a service (for transaction-control
statements, which Django sends itself, the error is raised before they are sent, as a dropped
connection would); `fails_at_every_statement` runs the service once for every k from its first
statement to its last (and checks that its last write is the audit write), checks after each
failure that the stored rows, the audit trail and its chain head are exactly as before and the
chain still verifies, and finally runs it with no fault to show that nothing was left locked or
half-done.

Each service runs both inside the test's transaction (its `transaction.atomic()` is then a
savepoint) and in autocommit mode, exactly as in production (`AUTOCOMMIT`). The page tests post
the forms behind the services with the fault on the last audit write.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import DatabaseError, OperationalError, connection, transaction
from django.test import Client
from django.urls import reverse

from patients.models import AntidepressantTrial, Intake, Patient
from rules.models import Rule, RuleSet, RuleSetVersion, RuleTestCase
from rules.selectors import published_version
from rules.services import rule_set_publish
from screening.core.audit import audit_verify
from screening.core.models import AuditChainHead, AuditEvent
from screening.models import FlagReview, Screening, ScreeningFlag
from screening.services import (
    flag_acknowledge,
    flag_override,
    intake_save,
    intake_submit,
    screening_amend,
    screening_run,
    screening_sign,
)
from tests.factories import ELIGIBLE_TRD, TWO_FAILED_TRIALS
from tests.patients.conftest import eligible_data
from tests.reliability.conftest import AUTOCOMMIT, IN_TEST_TRANSACTION, ON, REVIEW, STOP

MODES = [
    pytest.param("in-test-transaction", marks=IN_TEST_TRANSACTION, id="in-test-transaction"),
    pytest.param("autocommit", marks=AUTOCOMMIT, id="autocommit"),
]
#: Run a test in both modes; its `mode` argument names the one it runs in.
in_both_modes = pytest.mark.parametrize("mode", MODES)

#: What PostgreSQL answers when a statement is cancelled (statement_timeout, pg_cancel_backend).
# A statement that fails on a live connection (a data exception). Not a lost connection: that
# one (an OperationalError) the outage middleware answers by running the view again on a new
# connection (screening/core/outage.py, tests/reliability/test_database_faults.py).
FAULT_SQL = "DO $$ BEGIN RAISE EXCEPTION 'injected fault' USING ERRCODE = 'data_exception'; END $$"
TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
#: Everything a service here can write, compared row by row before and after a failure.
STORED = (
    Patient,
    Intake,
    AntidepressantTrial,
    Screening,
    ScreeningFlag,
    FlagReview,
    RuleSet,
    RuleSetVersion,
    Rule,
    RuleTestCase,
    AuditEvent,
    AuditChainHead,
)
#: In the statement that stores audit events and moves the chain head (audit._STORE_SQL).
AUDIT_WRITE = 'UPDATE "screening_auditchainhead"'
#: More statements than any service issues: a guard against a loop that never ends.
MAX_STATEMENTS = 200


class Fault:
    """An execute wrapper that sends every statement to PostgreSQL but makes the database fail
    one: the `at`-th, or the `nth` containing `text` (none when neither is given). `statements`
    lists what was sent (the failed one included) and `failed` is the statement that failed, if
    one did."""

    def __init__(self, *, at: int | None = None, text: str | None = None, nth: int = 1) -> None:
        self.at, self.text, self.nth = at, text, nth
        self.statements: list[str] = []
        self.failed: str | None = None
        self._matches = 0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context):
        self.statements.append(sql)
        if self.failed is None and self._is_target(sql):
            self.failed = sql
            if many or sql.startswith(TRANSACTION_CONTROL):
                raise OperationalError(f"injected fault before sending: {sql}")
            return execute(FAULT_SQL, None, many, context)
        return execute(sql, params, many, context)

    def _is_target(self, sql: str) -> bool:
        if self.at is not None:
            return len(self.statements) == self.at
        if self.text is None or self.text not in sql:
            return False
        self._matches += 1
        return self._matches == self.nth


def stored() -> dict[str, list[dict[str, Any]]]:
    """Every row a change service could write, by model, in primary-key order."""
    return {model._meta.label: list(model.objects.order_by("pk").values()) for model in STORED}


def normalised(sql: str) -> str:
    """`sql` without its savepoint name, which differs from run to run."""
    return re.sub(r'"s\d+_x\d+"', '"savepoint"', sql)


def fails_at_every_statement(service: Callable[..., Any], **arguments: Any) -> Any:
    """Call `service(**arguments)` failing at its 1st statement, then its 2nd, … to its last,
    asserting after each failure that nothing was stored; then call it with no fault and return
    its result.

    A rehearsal, rolled back, fills the caches first (a user's roles, compiled rule sets, related
    objects of the arguments), so every attempt issues the same statements as the clean run.
    """
    with transaction.atomic():
        service(**arguments)
        transaction.set_rollback(True)
    before = stored()
    failed: list[str] = []
    for at in itertools.count(1):
        assert at <= MAX_STATEMENTS, "the change never completed"
        fault = Fault(at=at)
        try:
            with connection.execute_wrapper(fault):
                result = service(**arguments)
        except DatabaseError:
            assert fault.failed is not None, "a database error that was not the injected fault"
            assert stored() == before, f"statement {at} failed and left a partial change"
            assert audit_verify().ok
            failed.append(normalised(fault.failed))
            continue
        assert fault.failed is None, f"statement {at} failed but the change reported success"
        clean = [normalised(sql) for sql in fault.statements]
        break
    assert failed == clean, "a fault did not land on every statement of the clean run"
    writes = [sql for sql in clean if sql.startswith(("INSERT", "UPDATE", "DELETE", "WITH"))]
    assert AUDIT_WRITE in writes[-1], "the audit write is the last write"
    assert audit_verify().ok
    return result


# --- the services --------------------------------------------------------------------------------


@in_both_modes
def test_a_failed_run_stores_no_screening_and_supersedes_nothing(mode, screening, clinician):
    new = fails_at_every_statement(screening_run, intake=screening.intake, user=clinician, on=ON)

    screening.refresh_from_db()
    assert screening.status == Screening.Status.SUPERSEDED
    assert new.status == Screening.Status.UNSIGNED
    assert ScreeningFlag.objects.filter(screening=new).count() == 2
    assert AuditEvent.objects.filter(action="screening.run").count() == 2


@in_both_modes
def test_a_failed_run_carries_no_review_forward_by_half(mode, ready_screening, clinician):
    new = fails_at_every_statement(
        screening_run, intake=ready_screening.intake, user=clinician, on=ON
    )

    carried = FlagReview.objects.filter(screening=new)
    assert {r.carried_from.screening_id for r in carried} == {ready_screening.pk}
    assert set(carried.values_list("rule_id", flat=True)) == {STOP, REVIEW}
    assert set(
        ScreeningFlag.objects.filter(screening=new).values_list("review_kind", flat=True)
    ) == {
        "overridden",
        "acknowledged",
    }


@in_both_modes
def test_a_failed_submit_saves_neither_the_answers_nor_a_screening(mode, intake, clinician):
    values = {**ELIGIBLE_TRD, "phq9_total": 23}

    new = fails_at_every_statement(
        intake_submit,
        intake=Intake.objects.get(pk=intake.pk),
        user=clinician,
        expected_version=intake.version,
        values=values,
        trials=TWO_FAILED_TRIALS[:1],
        on=ON,
    )

    saved = Intake.objects.get(pk=intake.pk)
    assert saved.version == intake.version + 1
    assert saved.phq9_total == 23
    assert saved.trials.count() == 1
    assert new.intake == saved
    assert new.facts["phq9_total"] == 23


@in_both_modes
def test_a_failed_intake_save_changes_no_answer_or_trial(mode, intake, clinician):
    fails_at_every_statement(
        intake_save,
        intake=Intake.objects.get(pk=intake.pk),
        user=clinician,
        expected_version=intake.version,
        values={**ELIGIBLE_TRD, "phq9_total": 5},
        trials=TWO_FAILED_TRIALS[1:],
    )

    saved = Intake.objects.get(pk=intake.pk)
    assert (saved.version, saved.phq9_total) == (intake.version + 1, 5)
    assert list(saved.trials.values_list("drug", flat=True)) == ["venlafaxine"]


@in_both_modes
def test_a_failed_acknowledgement_stores_no_review(mode, screening, clinician):
    review = fails_at_every_statement(
        flag_acknowledge,
        screening=screening,
        rule_id=REVIEW,
        user=clinician,
        reason="Rechecked: 128/82",
    )

    assert review.kind == FlagReview.Kind.ACKNOWLEDGED
    assert ScreeningFlag.objects.get(screening=screening, rule_id=REVIEW).review_kind == (
        FlagReview.Kind.ACKNOWLEDGED
    )


@in_both_modes
def test_a_failed_override_stores_no_review(mode, screening, clinician):
    review = fails_at_every_statement(
        flag_override,
        screening=screening,
        rule_id=STOP,
        user=clinician,
        reason_code=FlagReview.OverrideReason.SPECIALIST_APPROVAL,
        reason="Obstetric MDT reviewed",
    )

    assert review.kind == FlagReview.Kind.OVERRIDDEN
    assert AuditEvent.objects.filter(action="flag.overridden").count() == 1


@in_both_modes
def test_a_failed_signature_leaves_the_screening_and_intake_open(mode, ready_screening, clinician):
    signed = fails_at_every_statement(screening_sign, screening=ready_screening, user=clinician)

    assert signed.is_signed
    assert Intake.objects.get(pk=ready_screening.intake_id).status == Intake.Status.LOCKED


@in_both_modes
def test_a_failed_amendment_starts_no_draft(mode, signed_screening, clinician):
    draft = fails_at_every_statement(
        screening_amend, screening=signed_screening, user=clinician, reason="Mistyped answer"
    )

    assert Intake.objects.filter(amends=signed_screening).get() == draft
    assert draft.trials.count() == 2


@in_both_modes
def test_a_failed_publish_changes_no_version(mode, draft, rule_admin):
    published = fails_at_every_statement(
        rule_set_publish,
        version=draft,
        user=rule_admin,
        change_note="Reworded the blood pressure message.",
        today=ON,
    )

    assert published.number == 3
    assert published_version() == published
    assert RuleSetVersion.objects.get(number=2).status == RuleSetVersion.Status.RETIRED


# --- the pages -----------------------------------------------------------------------------------
#
# With the fault at the audit write, the last write of the service behind the page, the user
# gets Django's server-error answer (the static templates/500.html, which shows nothing of the
# request or the error), never a success message over a half-stored change; nothing of the
# change is stored, and posting the same form again then works.


def post_with_fault(user, url: str, data: dict[str, Any]):
    """POST `data` to `url` as `user` with the database failing the request's last audit write,
    and return the answer, after checking that nothing was stored and that the same POST then
    succeeds (a redirect).

    Which audit write is the last one (a page's service may be made of services that each
    audit) is counted in a rehearsal of the POST, rolled back.
    """
    client = Client(raise_request_exception=False)
    client.force_login(user)
    rehearsal = Fault()
    with transaction.atomic(), connection.execute_wrapper(rehearsal):
        client.post(url, data)
        transaction.set_rollback(True)
    audit_writes = sum(AUDIT_WRITE in sql for sql in rehearsal.statements)
    fault = Fault(text=AUDIT_WRITE, nth=audit_writes)
    before = stored()
    with connection.execute_wrapper(fault):
        response = client.post(url, data)
    assert fault.failed is not None, f"the page never reached the audit write: {response}"
    assert stored() == before
    assert audit_verify().ok
    assert client.post(url, data).status_code == 302
    return response


def assert_server_error_page(response, *private: str) -> None:
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in html
    for leak in ("injected fault", "Traceback", "screening_", "SELECT", "UPDATE", *private):
        assert leak not in html


@in_both_modes
def test_running_a_screening_from_the_intake_page_fails_whole(mode, intake, clinician):
    url = reverse("patients:intake_edit", args=[intake.uuid])
    data = eligible_data(intake, action="run", phq9_total=23)

    response = post_with_fault(clinician, url, data)

    assert_server_error_page(response, intake.patient.mrn, intake.patient.family_name)
    assert Screening.objects.get().facts["phq9_total"] == 23


def test_acknowledging_from_the_result_page_fails_whole(screening, clinician):
    url = reverse("screening:acknowledge", args=[screening.uuid, REVIEW])

    response = post_with_fault(clinician, url, {"reason": "Rechecked: 128/82"})

    assert_server_error_page(response, "Rechecked")
    assert FlagReview.objects.get().reason == "Rechecked: 128/82"


def test_signing_from_the_result_page_fails_whole(ready_screening, clinician):
    url = reverse("screening:sign", args=[ready_screening.uuid])

    response = post_with_fault(clinician, url, {})

    assert_server_error_page(response)
    assert Screening.objects.get(pk=ready_screening.pk).is_signed


def test_publishing_from_the_publish_page_fails_whole(draft, rule_admin):
    url = reverse("rules:publish", args=[draft.uuid])

    response = post_with_fault(rule_admin, url, {"change_note": "Reworded the BP message."})

    assert_server_error_page(response, "Reworded")
    assert published_version().number == 3
