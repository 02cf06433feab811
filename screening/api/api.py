"""The NinjaAPI instance: authentication, error answers and URL wiring.

Every error is JSON in one shape, `{"code", "detail", "errors": [{"field", "message"}]}`
(`errors` empty when no field is to blame): 400 `malformed` for a body that is not JSON or is
nested too deeply, 401 `unauthorized` without valid credentials, 403 `forbidden` for a role that
may not do this, 404 `not_found` (a malformed UUID in the path too), 405 `not_allowed`, 409
`refused`, `conflict` or `locked` (the service error's code), 413 `too_large` for a body over
the limit, 415 `unsupported_media_type` for a body not sent as JSON, 422 `invalid` with the data
dictionary's error list (request bodies and parameters, NUL characters in any text, and input a
service checks itself, such as a blank reason), 503 `unavailable` with no published rule set or
when the database connection was lost (with Retry-After).
Errors raised outside the operations (no route, a wrong method) are made JSON by
`screening.core.limits.JsonErrorsMiddleware`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, URLResolver
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from rules.engine import FactsInvalid, IntakeFacts
from rules.selectors import RuleSetVersionNotFound
from screening.api.answers import NOT_ANSWERS
from screening.api.auth import AUTH
from screening.api.routers import fhir, intakes, patients, screenings
from screening.core.errors import InputInvalid, ServiceError
from screening.core.limits import (
    NUL_MESSAGE,
    STATUS_CODES,
    BodyRefused,
    error_body,
    json_body,
    nul_fields,
)


class ScreeningAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> Any:
        """Add the facts document's schema: the evaluate body is read raw (so the engine's own
        validation answers), so ninja cannot collect it."""
        schema = super().get_openapi_schema(**kwargs)
        facts = IntakeFacts.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(facts.pop("$defs", {}))
        components["IntakeFacts"] = facts
        # An intake's answers are the same document without the patient record's facts.
        answers = {
            **facts,
            "title": "IntakeAnswers",
            "properties": {
                name: field
                for name, field in facts["properties"].items()
                if name not in NOT_ANSWERS
            },
        }
        components["IntakeAnswers"] = answers
        # The server needs the version you read, in the body or as If-Match (which a client that
        # knows it may send instead): the body's field is documented as required, an integer.
        update = components.get("IntakeUpdate")
        if update is not None:
            update["properties"]["version"] = {
                "type": "integer",
                "description": update["properties"]["version"].get("description", ""),
            }
            update["required"] = ["version", *update.get("required", [])]
        for body in ("IntakeOut", "IntakeUpdate"):
            field = components.get(body, {}).get("properties", {}).get("answers")
            if field is not None:
                description = field.get("description", "")
                field.clear()
                field.update(
                    {"allOf": [{"$ref": "#/components/schemas/IntakeAnswers"}]},
                    description=description,
                )
        return schema


class BoundedJsonParser(Parser):
    """Request bodies: JSON only (415 otherwise), bounded depth (400), no NUL characters in any
    text (422 naming the field). The body's size is bounded before this (413, middleware)."""

    def parse_body(self, request: HttpRequest) -> Any:
        data = json_body(request)
        bad = nul_fields(data)
        if bad:
            raise InputInvalid({field: [NUL_MESSAGE] for field in bad})
        return data


api = ScreeningAPI(
    title="Ketamine screening API",
    version="1",
    description=(
        "Screen facts documents, manage patients and intakes, run, review and sign screenings, "
        "and export them as FHIR R4. Authenticate with a personal token "
        "(`Authorization: Bearer …`, from the API tokens page) or a signed-in browser session "
        "(send `X-CSRFToken` on unsafe methods). Calls act with the user's role."
    ),
    urls_namespace="api",
    auth=AUTH,
    # Deep links put a link inside each operation's expand button (axe: nested-interactive);
    # templates/ninja/swagger.html renders the page inside the site's layout.
    docs=Swagger(settings={"deepLinking": False}),
    parser=BoundedJsonParser(),
)


def _error(
    request: HttpRequest,
    status: int,
    code: str,
    detail: str,
    errors: list[dict[str, str]] | None = None,
) -> HttpResponse:
    return api.create_response(request, error_body(code, detail, errors), status=status)


def _problems(request: HttpRequest, problems: list[dict[str, str]]) -> HttpResponse:
    count = len(problems)
    detail = f"The input is invalid: {count} problem{'s' if count != 1 else ''}, by field."
    return _error(request, 422, "invalid", detail, problems)


def _refusal(request: HttpRequest, status: int, code: str, detail: str) -> HttpResponse:
    return _error(request, status, code, detail)


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    """`("body", "payload", "answers", "x")` → `answers.x`; `("query", "limit")` → `limit`."""
    parts = [str(part) for part in loc]
    if parts and parts[0] == "body":
        parts = parts[2:] if len(parts) > 2 else parts[1:]
    elif parts and parts[0] in ("query", "path", "header", "cookie", "form"):
        parts = parts[1:]
    return ".".join(parts) or "(body)"


@api.exception_handler(ValidationError)
def _invalid_request(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return _problems(
        request,
        [
            {"field": _field_name(error.get("loc", ())), "message": _message(error)}
            for error in exc.errors
        ],
    )


def _message(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        return "the request body is not valid JSON"
    message = str(error.get("msg", "is invalid"))
    return message.removeprefix("Value error, ")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """ninja answers a body it cannot parse with a bare 400: say why (the parser's reason)."""
    cause = exc.__cause__
    if isinstance(cause, BodyRefused):
        return _error(request, cause.status, STATUS_CODES[cause.status], cause.detail, cause.errors)
    if isinstance(cause, InputInvalid):
        return _problems(request, cause.as_list())
    if exc.status_code == 400:
        return _error(
            request,
            400,
            "malformed",
            "The request body is not valid JSON.",
            [{"field": "(body)", "message": "is not valid JSON"}],
        )
    code = STATUS_CODES.get(exc.status_code, "refused")
    return _refusal(request, exc.status_code, code, str(exc))


@api.exception_handler(BodyRefused)
def _body_refused(request: HttpRequest, exc: BodyRefused) -> HttpResponse:
    return _error(request, exc.status, STATUS_CODES[exc.status], exc.detail, exc.errors)


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _refusal(request, 401, "unauthorized", "Authenticate with a token or a session.")


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _refusal(request, 404, "not_found", "Not found.")


@api.exception_handler(FactsInvalid)
def _invalid_facts(request: HttpRequest, exc: FactsInvalid) -> HttpResponse:
    return _problems(request, exc.as_list())


@api.exception_handler(InputInvalid)
def _invalid_input(request: HttpRequest, exc: InputInvalid) -> HttpResponse:
    return _problems(request, exc.as_list())


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _refusal(request, 403, "forbidden", str(exc) or "Your role does not allow this.")


@api.exception_handler(ServiceError)
def _refused(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    """Conflicts, locks and refusals by the screening's current state (open flags, info flags)."""
    return _refusal(request, 409, exc.code, str(exc))


@api.exception_handler(RuleSetVersionNotFound)
def _no_rule_set(request: HttpRequest, exc: RuleSetVersionNotFound) -> HttpResponse:
    return _refusal(request, 503, "unavailable", str(exc))


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def _database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A lost database connection goes on to `DatabaseUnavailableMiddleware`, as a page's does:
    the operation is run once more on a new connection when nothing of it can have been stored,
    else the answer is 503 `unavailable` with Retry-After (screening.core.outage)."""
    raise exc


def _open_to_api_clients(
    patterns: list[URLPattern | URLResolver],
) -> list[URLPattern | URLResolver]:
    """Exempt the API from LoginRequiredMiddleware: API calls authenticate themselves and get a
    401 answer, never a redirect to the login page."""
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback = login_not_required(_plain(pattern.callback))
    return patterns


def _plain(view: Callable[..., Any]) -> Callable[..., Any]:
    """A function wrapper (bound methods take no attributes), keeping `csrf_exempt`, that
    refuses NUL characters in the query string and the path's parameters as field errors (no
    database column can store them) before any operation sees them."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        params = {key: request.GET.getlist(key) for key in request.GET}
        bad = nul_fields(params) + nul_fields(kwargs)
        if bad:
            fields = sorted({field.split("[")[0] for field in bad})
            return JsonResponse(
                error_body(
                    "invalid",
                    "The input is invalid: see errors.",
                    [{"field": field, "message": NUL_MESSAGE} for field in fields],
                ),
                status=422,
            )
        return view(request, *args, **kwargs)

    return wrapper


api.add_router("/screenings", screenings.router)
api.add_router("/patients", patients.router)
api.add_router("/intakes", intakes.router)
api.add_router("/fhir", fhir.router)


def urls() -> tuple[list[URLPattern | URLResolver], str, str]:
    patterns, app_name, namespace = api.urls
    return _open_to_api_clients(patterns), app_name, namespace
