"""Who may reach what: every page and every API operation against an explicit table of roles.

A URL pattern or API operation without a row below fails `test_every_*_has_a_row`, so a new
view cannot ship without someone deciding who may use it. Outcomes are what is implemented:
reviewers change nothing, clinicians never reach rule administration or reviewers' pages, and
rule admins never read patient data. A superuser holds every permission, so passes every door
any role passes (API tokens stay personal, even to a superuser).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from rules.models import ImpactPreview, RuleSet
from rules.services import draft_start, impact_preview_start
from screening.api.api import api as screening_api
from screening.api.services import api_token_create
from screening.ehr.cds import SERVICES
from screening.services import screening_run
from tests.factories import make_intake, make_patient
from tests.rules.conftest import VIGNETTES

pytestmark = pytest.mark.django_db

OK = "allowed"  # 2xx, or a redirect that is not to the login page
LOGIN = "login redirect"
NOT_FOUND = 404  # the object exists but is not this user's (API tokens are personal)

ROLES = (
    "anonymous",
    "clinician",
    "other_clinician",
    "reviewer",
    "rule_admin",
    "user_admin",
    "superuser",
)


def expect(
    anonymous, clinician, other_clinician, reviewer, rule_admin, superuser=None, *, user_admin=None
) -> dict[str, Any]:
    """One row. The superuser's outcome, unless given, is the most any role gets: allowed
    wherever one role is, otherwise stopped by what stops everyone (the method, signing out).
    The user administrator's, unless given, is what holding no clinical permission gets: what
    the reviewer and the rule admin both get (their roles share no permission), else 403."""
    values = (anonymous, clinician, other_clinician, reviewer, rule_admin)
    if user_admin is None:
        user_admin = reviewer if reviewer == rule_admin else 403
    if superuser is None:
        superuser = OK if OK in (*values, user_admin) else 405 if 405 in values else rule_admin
    return dict(
        zip(
            ROLES,
            (*values, user_admin, superuser),
            strict=True,
        )
    )


PUBLIC = expect(OK, OK, OK, OK, OK)
SIGNED_IN = expect(LOGIN, OK, OK, OK, OK)
CLINICIANS = expect(LOGIN, OK, OK, 403, 403)
READERS = expect(LOGIN, OK, OK, OK, 403)
REVIEWERS = expect(LOGIN, 403, 403, OK, 403)
RULE_ADMINS = expect(LOGIN, 403, 403, 403, OK)
NO_FACTOR = expect(LOGIN, 404, 404, 404, 404)
USER_ADMINS = expect(LOGIN, 403, 403, 403, 403, user_admin=OK)
POST_ONLY = expect(LOGIN, 405, 405, 405, 405)

#: URL name → method → expected outcome per role. POSTs carry `POST_DATA` or nothing: the check
#: is whether the role gets past the door, not whether the form is valid.
PAGES: dict[str, dict[str, dict[str, Any]]] = {
    "login": {"GET": PUBLIC},
    # Signing out lands on the login page, whoever asks.
    "logout": {
        "GET": expect(405, 405, 405, 405, 405),
        "POST": expect(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN),
    },
    "home": {"GET": SIGNED_IN},
    "favicon": {"GET": PUBLIC, "POST": expect(405, 405, 405, 405, 405)},
    # allauth's names for signing in and out (its own views and templates reverse them).
    "account_login": {"GET": PUBLIC},
    "account_logout": {"GET": SIGNED_IN, "POST": expect(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN)},
    "account_inactive": {"GET": PUBLIC},
    "account_reauthenticate": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "account_change_password": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    # Forgotten passwords: anyone may ask, and the answer never says whether the address exists.
    "account_reset_password": {"GET": PUBLIC, "POST": PUBLIC},
    "account_reset_password_done": {"GET": PUBLIC},
    "account_reset_password_from_key": {"GET": PUBLIC, "POST": PUBLIC},
    "account_reset_password_from_key_done": {"GET": PUBLIC},
    # Second factors: each person manages their own; the code page is for a sign-in under way.
    "mfa_index": {"GET": SIGNED_IN},
    "mfa_authenticate": {
        "GET": expect(LOGIN, OK, OK, OK, OK),
        "POST": expect(LOGIN, OK, OK, OK, OK),
    },
    "mfa_reauthenticate": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "mfa_activate_totp": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    # Nothing to turn off or show (404) until the person has set up that factor.
    "mfa_deactivate_totp": {"GET": NO_FACTOR, "POST": NO_FACTOR},
    "mfa_view_recovery_codes": {"GET": NO_FACTOR},
    "mfa_generate_recovery_codes": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "mfa_download_recovery_codes": {"GET": NO_FACTOR},
    "mfa_list_webauthn": {"GET": SIGNED_IN},
    "mfa_add_webauthn": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "mfa_reauthenticate_webauthn": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "mfa_remove_webauthn": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "mfa_edit_webauthn": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    # User administration: the user administrator only (and a superuser).
    "accounts:user_list": {"GET": USER_ADMINS},
    "accounts:user_invite": {"GET": USER_ADMINS, "POST": USER_ADMINS},
    "accounts:user_detail": {"GET": USER_ADMINS},
    "accounts:user_roles": {"GET": POST_ONLY, "POST": USER_ADMINS},
    "accounts:user_deactivate": {"GET": POST_ONLY, "POST": USER_ADMINS},
    "accounts:user_reactivate": {"GET": POST_ONLY, "POST": USER_ADMINS},
    "accounts:user_mfa_reset": {"GET": POST_ONLY, "POST": USER_ADMINS},
    # An invitation link is for someone not yet signed in; a wrong or used one is 410 Gone.
    "accounts:invitation": {
        "GET": expect(410, 410, 410, 410, 410),
        "POST": expect(410, 410, 410, 410, 410),
    },
    # Single sign-on (OpenID Connect), checked with it configured against the suite's identity
    # provider: anyone may start a sign-in (the POST goes on to the provider); a callback with
    # no sign-in of this browser's under way is refused in words.
    "openid_connect_login": {"GET": PUBLIC, "POST": PUBLIC},
    "openid_connect_callback": {
        "GET": expect(403, 403, 403, 403, 403),
        "POST": expect(403, 403, 403, 403, 403),
    },
    # Each person's own signed-in sessions.
    # (a POST names the session to end; naming none is 404)
    "usersessions_list": {"GET": SIGNED_IN, "POST": NO_FACTOR},
    "api_tokens:list": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "api_tokens:revoke": {
        "GET": expect(LOGIN, 405, 405, 405, 405),
        "POST": expect(LOGIN, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    },
    "api:openapi-json": {"GET": PUBLIC},
    "api:openapi-view": {"GET": PUBLIC},
    # patients and intakes
    "patients:list": {"GET": READERS, "POST": READERS},
    "patients:register": {"GET": CLINICIANS, "POST": CLINICIANS},
    "patients:detail": {"GET": READERS, "POST": expect(LOGIN, 405, 405, 405, 405)},
    "patients:intake_new": {"GET": expect(LOGIN, 405, 405, 405, 405), "POST": CLINICIANS},
    "patients:intake_edit": {"GET": READERS, "POST": CLINICIANS},
    "ehr:intake_from_ehr": {"GET": CLINICIANS, "POST": CLINICIANS},
    # CDS Hooks: discovery is public; hooks and feedback need the EHR's signed JWT, whoever is
    # signed in to the app (tests/e2e/test_cds_client.py signs real ones)
    "ehr:cds_discovery": {"GET": PUBLIC, "POST": expect(405, 405, 405, 405, 405)},
    "ehr:cds_service": {
        "GET": expect(405, 405, 405, 405, 405),
        "POST": expect(401, 401, 401, 401, 401),
    },
    "ehr:cds_feedback": {
        "GET": expect(405, 405, 405, 405, 405),
        "POST": expect(401, 401, 401, 401, 401),
    },
    # screenings
    "screening:detail": {"GET": READERS},
    # the PDF for the chart: whoever may read the screening (its download is audited)
    "screening:pdf": {"GET": READERS, "POST": expect(LOGIN, 405, 405, 405, 405)},
    # the clinician's worklist (GET filters: no patient data in them)
    "screening:worklist": {"GET": CLINICIANS, "POST": expect(LOGIN, 405, 405, 405, 405)},
    "screening:acknowledge": {"GET": expect(LOGIN, 405, 405, 405, 405), "POST": CLINICIANS},
    "screening:acknowledge_several": {
        "GET": expect(LOGIN, 405, 405, 405, 405),
        "POST": CLINICIANS,
    },
    "screening:override": {"GET": expect(LOGIN, 405, 405, 405, 405), "POST": CLINICIANS},
    "screening:sign": {"GET": expect(LOGIN, 405, 405, 405, 405), "POST": CLINICIANS},
    "screening:amend": {"GET": expect(LOGIN, 405, 405, 405, 405), "POST": CLINICIANS},
    "screening:rerun": {"GET": expect(LOGIN, 405, 405, 405, 405), "POST": CLINICIANS},
    "patients:intake_autosave": {
        # Answers in JSON for the page's script: 401, not a redirect, once signed out.
        "GET": expect(405, 405, 405, 405, 405),
        "POST": expect(401, OK, OK, 403, 403),
    },
    "session_keepalive": {
        "GET": expect(405, 405, 405, 405, 405),
        "POST": expect(401, OK, OK, OK, OK),
    },
    # reviewers' pages: read-only, GET only (the list takes a patient search by POST, which
    # changes nothing but the reviewer's session, so the MRN stays out of URLs)
    "screening:list": {"GET": REVIEWERS, "POST": REVIEWERS},
    "screening:export_csv": {"GET": REVIEWERS, "POST": expect(LOGIN, 405, 405, 405, 405)},
    "screening:audit": {"GET": REVIEWERS, "POST": expect(LOGIN, 405, 405, 405, 405)},
    "screening:audit_verify": {"GET": REVIEWERS, "POST": expect(LOGIN, 405, 405, 405, 405)},
    "screening:analytics": {"GET": REVIEWERS, "POST": expect(LOGIN, 405, 405, 405, 405)},
    "screening:review": {"GET": REVIEWERS, "POST": expect(LOGIN, 405, 405, 405, 405)},
    "screening:reevaluate": {"GET": REVIEWERS, "POST": expect(LOGIN, 405, 405, 405, 405)},
    "screening:export_json": {"GET": REVIEWERS, "POST": expect(LOGIN, 405, 405, 405, 405)},
    "screening:as_test_case": {"GET": RULE_ADMINS, "POST": RULE_ADMINS},
    "screening:as_test_case_find": {"GET": RULE_ADMINS, "POST": expect(LOGIN, 405, 405, 405, 405)},
    # rule administration
    "rules:list": {"GET": RULE_ADMINS, "POST": expect(LOGIN, 403, 403, 403, 405)},
    "rules:draft_start": {"GET": expect(LOGIN, 403, 403, 403, 405), "POST": RULE_ADMINS},
    "rules:compare": {"GET": RULE_ADMINS},
    "rules:case_list": {"GET": RULE_ADMINS},
    "rules:case_add": {"GET": RULE_ADMINS, "POST": RULE_ADMINS},
    "rules:case_edit": {"GET": RULE_ADMINS, "POST": RULE_ADMINS},
    "rules:version": {"GET": RULE_ADMINS},
    "rules:draft_discard": {"GET": RULE_ADMINS, "POST": RULE_ADMINS},
    "rules:rule_add": {"GET": RULE_ADMINS, "POST": RULE_ADMINS},
    "rules:rule_edit": {"GET": RULE_ADMINS, "POST": RULE_ADMINS},
    "rules:rule_retire": {"GET": RULE_ADMINS, "POST": RULE_ADMINS},
    "rules:rule_try": {"GET": expect(LOGIN, 403, 403, 403, 405), "POST": RULE_ADMINS},
    "rules:case_results": {"GET": RULE_ADMINS},
    "rules:case_accept": {"GET": RULE_ADMINS, "POST": RULE_ADMINS},
    "rules:impact_start": {"GET": expect(LOGIN, 403, 403, 403, 405), "POST": RULE_ADMINS},
    "rules:publish": {"GET": RULE_ADMINS, "POST": RULE_ADMINS},
    "rules:submit": {"GET": RULE_ADMINS, "POST": RULE_ADMINS},
    "rules:approval": {"GET": RULE_ADMINS, "POST": RULE_ADMINS},
    "rules:restore": {"GET": expect(LOGIN, 403, 403, 403, 405), "POST": RULE_ADMINS},
    "rules:impact": {"GET": RULE_ADMINS},
    "rules:impact_progress": {"GET": RULE_ADMINS},
    "rules:impact_example": {"GET": RULE_ADMINS, "POST": expect(LOGIN, 403, 403, 403, 405)},
}

API_CLINICIANS = expect(401, OK, OK, 403, 403)
API_READERS = expect(401, OK, OK, OK, 403)

#: `METHOD /api/v1/path` → expected outcome per role (bearer tokens; no token for anonymous).
API: dict[str, dict[str, Any]] = {
    # Every clinical role may try the rules; the user administrator holds no clinical role.
    "POST /api/v1/screenings/evaluate": expect(401, OK, OK, OK, OK, user_admin=403),
    "GET /api/v1/screenings": API_READERS,
    "GET /api/v1/screenings/{screening_uuid}": API_READERS,
    "GET /api/v1/screenings/{screening_uuid}/fhir": API_READERS,
    # The intake form as a FHIR Questionnaire: whoever may read intakes.
    "GET /api/v1/fhir/Questionnaire/ketamine-intake": API_READERS,
    "POST /api/v1/screenings/{screening_uuid}/flags/{rule_id}/acknowledge": API_CLINICIANS,
    "POST /api/v1/screenings/{screening_uuid}/flags/{rule_id}/override": API_CLINICIANS,
    "POST /api/v1/screenings/{screening_uuid}/sign": API_CLINICIANS,
    "POST /api/v1/patients": API_CLINICIANS,
    "POST /api/v1/patients/search": API_READERS,
    "GET /api/v1/patients/{patient_uuid}": API_READERS,
    "POST /api/v1/patients/{patient_uuid}/intakes": API_CLINICIANS,
    "GET /api/v1/intakes/{intake_uuid}": API_READERS,
    "PUT /api/v1/intakes/{intake_uuid}": API_CLINICIANS,
    "POST /api/v1/intakes/{intake_uuid}/screenings": API_CLINICIANS,
    "POST /api/v1/intakes/from-fhir": API_CLINICIANS,
}


# --- enumerating what exists ---------------------------------------------------------------------


def _walk(patterns, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str]]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route.startswith(("admin/", "static/")):
                continue
            ns = pattern.namespace or ""
            yield from _walk(
                pattern.url_patterns, route, f"{namespace}:{ns}".strip(":") if ns else namespace
            )
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace else str(pattern.name)
            yield name, route


def url_names() -> dict[str, str]:
    """Every named page (API operations are enumerated from the OpenAPI document instead)."""
    found = {}
    for name, route in _walk(get_resolver().url_patterns):
        if name.startswith("api:") and name not in ("api:openapi-json", "api:openapi-view"):
            continue
        found[name] = route
    return found


def api_operations() -> set[str]:
    schema = screening_api.get_openapi_schema()
    return {
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    }


def test_every_page_has_a_row():
    missing = sorted(set(url_names()) - set(PAGES))
    assert not missing, f"URL patterns with no row in the authorization table: {missing}"
    stale = sorted(set(PAGES) - set(url_names()))
    assert not stale, f"Rows for URL names that no longer exist: {stale}"


def test_every_api_operation_has_a_row():
    missing = sorted(api_operations() - set(API))
    assert not missing, f"API operations with no row in the authorization table: {missing}"
    stale = sorted(set(API) - api_operations())
    assert not stale, f"Rows for API operations that no longer exist: {stale}"


# --- the objects the URLs point at ---------------------------------------------------------------


class World:
    """Builds, on first use, the objects a URL needs, owned by the clinician / rule admin."""

    def __init__(self, people: dict[str, Any]) -> None:
        self.people = people

    @cached_property
    def patient(self):
        return make_patient(created_by=self.people["clinician"])

    @cached_property
    def intake(self):
        return make_intake(patient=self.patient, by=self.people["clinician"])

    @cached_property
    def screening(self):
        """Pregnant (a stop flag) with raised blood pressure (a review flag)."""
        clinician = self.people["clinician"]
        patient = make_patient(created_by=clinician)
        intake = make_intake(
            patient=patient,
            by=clinician,
            pregnancy_status="pregnant",
            systolic_bp=150,
            diastolic_bp=95,
        )
        return screening_run(intake=intake, user=clinician)

    @cached_property
    def clean_screening(self):
        return screening_run(intake=self.intake, user=self.people["clinician"])

    @cached_property
    def rule_set(self):
        return RuleSet.objects.get(name="ketamine")

    @cached_property
    def draft(self):
        return draft_start(rule_set=self.rule_set, user=self.people["rule_admin"])

    @cached_property
    def case(self):
        return self.rule_set.test_cases.get(name="pregnant")

    @cached_property
    def preview(self):
        return impact_preview_start(draft=self.draft, user=self.people["rule_admin"])

    @cached_property
    def preview_with_example(self):
        """The preview with one example as `rules.impact` keeps it (facts without dates)."""
        ImpactPreview.objects.filter(pk=self.preview.pk).update(
            examples=[
                {
                    "screening": "9f0c6a51-32a4-4c1e-8d0b-6f2f1f3b7c11",
                    "screening_date": "2026-11-24",
                    "old_disposition": "eligible",
                    "new_disposition": "review_required",
                    "flags_added": ["REV-OLDER-ADULT"],
                    "flags_removed": [],
                    "new_questions": [],
                    "facts": {"age_years": 42, "diagnoses": ["mdd"]},
                }
            ]
        )
        return self.preview

    @cached_property
    def token(self):
        return api_token_create(user=self.people["clinician"], name="matrix")[0]

    @cached_property
    def flag(self) -> str:
        return "REV-BP-ELEVATED"


#: URL name → the reverse() arguments, from the world.
ARGS: dict[str, Callable[[World], list[Any]]] = {
    "api_tokens:revoke": lambda w: [w.token.uuid],
    "account_reset_password_from_key": lambda w: ["1", "set-password"],
    "mfa_remove_webauthn": lambda w: [1],
    "accounts:user_detail": lambda w: [w.people["other_clinician"].pk],
    "accounts:user_roles": lambda w: [w.people["other_clinician"].pk],
    "accounts:user_deactivate": lambda w: [w.people["other_clinician"].pk],
    "accounts:user_reactivate": lambda w: [w.people["other_clinician"].pk],
    "accounts:user_mfa_reset": lambda w: [w.people["other_clinician"].pk],
    "accounts:invitation": lambda w: ["not-a-valid-invitation"],
    "openid_connect_login": lambda w: ["sso"],
    "openid_connect_callback": lambda w: ["sso"],
    "mfa_edit_webauthn": lambda w: [1],
    "patients:detail": lambda w: [w.patient.uuid],
    "patients:intake_new": lambda w: [w.patient.uuid],
    "ehr:intake_from_ehr": lambda w: [w.patient.uuid],
    "ehr:cds_service": lambda w: ["ketamine-screening"],
    "ehr:cds_feedback": lambda w: ["ketamine-screening"],
    "patients:intake_edit": lambda w: [w.intake.uuid],
    "patients:intake_autosave": lambda w: [w.intake.uuid],
    "screening:detail": lambda w: [w.screening.uuid],
    "screening:pdf": lambda w: [w.screening.uuid],
    "screening:acknowledge": lambda w: [w.screening.uuid, w.flag],
    "screening:acknowledge_several": lambda w: [w.screening.uuid],
    "screening:override": lambda w: [w.screening.uuid, "STOP-PREGNANCY"],
    "screening:sign": lambda w: [w.screening.uuid],
    "screening:amend": lambda w: [w.screening.uuid],
    "screening:rerun": lambda w: [w.screening.uuid],
    "screening:review": lambda w: [w.screening.uuid],
    "screening:reevaluate": lambda w: [w.screening.uuid],
    "screening:export_json": lambda w: [w.screening.uuid],
    "screening:as_test_case": lambda w: [w.screening.uuid],
    "rules:draft_start": lambda w: [w.rule_set.uuid],
    "rules:compare": lambda w: [w.rule_set.uuid],
    "rules:case_list": lambda w: [w.rule_set.uuid],
    "rules:case_add": lambda w: [w.rule_set.uuid],
    "rules:case_edit": lambda w: [w.case.uuid],
    "rules:version": lambda w: [w.draft.uuid],
    "rules:draft_discard": lambda w: [w.draft.uuid],
    "rules:rule_add": lambda w: [w.draft.uuid],
    "rules:rule_edit": lambda w: [w.draft.uuid, "REV-BP-ELEVATED"],
    "rules:rule_retire": lambda w: [w.draft.uuid, "REV-BP-ELEVATED"],
    "rules:rule_try": lambda w: [w.draft.uuid, "REV-BP-ELEVATED"],
    "rules:case_results": lambda w: [w.draft.uuid],
    "rules:case_accept": lambda w: [w.draft.uuid, w.case.uuid],
    "rules:impact_start": lambda w: [w.draft.uuid],
    "rules:publish": lambda w: [w.draft.uuid],
    "rules:submit": lambda w: [w.draft.uuid],
    "rules:approval": lambda w: [w.draft.uuid],
    "rules:restore": lambda w: [w.rule_set.versions.get(number=1).uuid],
    "rules:impact": lambda w: [w.preview.uuid],
    "rules:impact_progress": lambda w: [w.preview.uuid],
    "rules:impact_example": lambda w: [w.preview_with_example.uuid, 1],
}


#: Form data for POSTs whose view answers an invalid form with 400.
POST_DATA: dict[str, dict[str, str]] = {
    "screening:list": {"q": "MRN0042"},
    "ehr:intake_from_ehr": {"bundle_text": '{"resourceType": "Bundle", "type": "collection"}'},
    "screening:amend": {"reason": "Blood pressure was mistyped"},
    "patients:intake_autosave": {"version": "1", "phq9_total": "19"},
    "screening:acknowledge": {"reason": "Rechecked: 128/82"},
    "screening:acknowledge_several": {"rule_ids": "REV-BP-ELEVATED", "reason": "Rechecked"},
    "screening:override": {"reason_code": "specialist_approval", "reason": "MDT approved"},
}


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Five people per case: hash their passwords cheaply."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def people(
    clinician, other_clinician, reviewer, rule_admin, user_admin, superuser
) -> dict[str, Any]:
    return {
        "anonymous": None,
        "clinician": clinician,
        "other_clinician": other_clinician,
        "reviewer": reviewer,
        "rule_admin": rule_admin,
        "user_admin": user_admin,
        "superuser": superuser,
    }


def outcome(response) -> Any:
    if response.status_code in (301, 302, 303):
        return LOGIN if response["Location"].startswith(reverse("login")) else OK
    if 200 <= response.status_code < 300:
        return OK
    return response.status_code


# --- the pages -----------------------------------------------------------------------------------

PAGE_CASES = [
    pytest.param(name, method, role, id=f"{name}-{method}-{role}")
    for name, methods in PAGES.items()
    for method, roles in methods.items()
    for role in ROLES
]


@pytest.mark.parametrize(("name", "method", "role"), PAGE_CASES)
def test_page_access(name, method, role, people, request, settings):
    if name.startswith("openid_connect_"):
        request.getfixturevalue("oidc_provider").configure(settings)
    world = World(people)
    url = reverse(name, args=ARGS.get(name, lambda w: [])(world))
    client = Client()
    if people[role] is not None:
        client.force_login(people[role])
    response = getattr(client, method.lower())(
        url, POST_DATA.get(name, {}) if method == "POST" else {}
    )
    assert outcome(response) == PAGES[name][method][role], (
        f"{role} {method} {url}: {response.status_code} {response.get('Location', '')}"
    )


@pytest.mark.parametrize("service_id", sorted(SERVICES))
@pytest.mark.parametrize("role", ["anonymous", "clinician", "superuser"])
def test_every_cds_hook_and_its_feedback_need_the_ehrs_jwt(service_id, role, people):
    """The matrix's `ehr:cds_service` row names one service; every service the discovery
    lists (patient-view, order-sign, order-select) refuses the same way, whoever is signed in."""
    client = Client()
    if people[role] is not None:
        client.force_login(people[role])
    for name in ("ehr:cds_service", "ehr:cds_feedback"):
        url = reverse(name, args=[service_id])
        assert client.get(url).status_code == 405
        response = client.post(url, {"hook": SERVICES[service_id]["hook"]}, "application/json")
        assert response.status_code == 401, (name, response.content)


# --- the API -------------------------------------------------------------------------------------


def _api_call(world: World, operation: str) -> tuple[str, str, Any]:
    """The concrete path and a valid body for `operation`."""
    method, template = operation.split(" ", 1)
    body: Any = None
    screening = world.screening
    if (
        template.endswith("/sign")
        or template.endswith("/fhir")
        or template == ("/api/v1/screenings/{screening_uuid}")
    ):
        screening = world.clean_screening
    values = {
        "{screening_uuid}": lambda: str(screening.uuid),
        "{rule_id}": lambda: "STOP-PREGNANCY" if template.endswith("override") else world.flag,
        "{patient_uuid}": lambda: str(world.patient.uuid),
        "{intake_uuid}": lambda: str(world.intake.uuid),
    }
    path = template
    for placeholder, value in values.items():
        if placeholder in path:
            path = path.replace(placeholder, value())
    if template.endswith("/evaluate"):
        body = json.loads((VIGNETTES / "trd-eligible.json").read_text())["facts"]
    elif template.endswith("/acknowledge"):
        body = {"reason": "Rechecked: 128/82"}
    elif template.endswith("/override"):
        body = {"reason_code": "specialist_approval", "reason": "MDT approved"}
    elif operation == "POST /api/v1/patients":
        body = {
            "mrn": f"MX{id(world)}"[:32],
            "family_name": "Matrix",
            "given_names": "Alex",
            "date_of_birth": "1984-03-01",
            "sex_at_birth": "female",
        }
    elif template.endswith("/from-fhir"):
        body = {
            "patient": str(world.patient.uuid),
            "bundle": {"resourceType": "Bundle", "type": "collection"},
        }
    elif method == "PUT":
        body = {"version": world.intake.version, "answers": {"phq9_total": 19}}
    elif template == "/api/v1/patients/search":
        body = {"mrn": world.patient.mrn}
    elif method == "POST":
        body = {}
    return method, path, body


API_CASES = [
    pytest.param(operation, role, id=f"{operation}-{role}") for operation in API for role in ROLES
]


@pytest.mark.parametrize(("operation", "role"), API_CASES)
def test_api_access(operation, role, people):
    world = World(people)
    method, path, body = _api_call(world, operation)
    headers = {}
    if people[role] is not None:
        _row, token = api_token_create(user=people[role], name="matrix")
        headers["Authorization"] = f"Bearer {token}"
    client = Client()
    if body is None:
        response = getattr(client, method.lower())(path, headers=headers)
    else:
        response = getattr(client, method.lower())(
            path, data=json.dumps(body), content_type="application/json", headers=headers
        )
    assert outcome(response) == API[operation][role], (
        f"{role} {method} {path}: {response.status_code} {response.content[:300]!r}"
    )
