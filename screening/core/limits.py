"""Bounds on what one request may cost, and the one shape of JSON errors at the edge.

`RequestBodyLimitMiddleware` refuses a body larger than `REQUEST_MAX_BODY_BYTES` (by its
`Content-Length`, before anything reads it) with 413: JSON in the API's error shape on the JSON
paths (`JSON_PATH_PREFIXES`), a plain page saying what happened everywhere else. Django's own
`DATA_UPLOAD_MAX_MEMORY_SIZE` is set to the same number, so a form can never reach Django's
bare 400 (or its debug traceback) first.

`JsonErrorsMiddleware` makes every error answer on the JSON paths JSON in the one shape
(`error_body`); `json_body` reads a JSON request body with bounded depth, and `nul_fields` names
the fields whose text holds a NUL character (which PostgreSQL cannot store).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

#: The default largest request body: a full intake form is a few kilobytes.
DEFAULT_MAX_BODY_BYTES = 256 * 1024


def max_body_bytes() -> int:
    return int(getattr(settings, "REQUEST_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))


def wants_json(request: HttpRequest) -> bool:
    """Whether errors on this path are JSON (the API's paths), not pages."""
    prefixes: tuple[str, ...] = tuple(getattr(settings, "JSON_PATH_PREFIXES", ("/api/",)))
    return request.path_info.startswith(prefixes)


def error_body(
    code: str, detail: str, errors: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """The one shape of every JSON error: `{"code", "detail", "errors": [{"field", "message"}]}`."""
    return {"code": code, "detail": detail, "errors": errors or []}


class RequestBodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = max_body_bytes()
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads such a body as empty
        if length > limit:
            return too_large(request, limit)
        return self.get_response(request)


def too_large(request: HttpRequest, limit: int) -> HttpResponse:
    size = f"{limit // 1024} KB"
    if wants_json(request):
        return JsonResponse(
            error_body(
                "too_large",
                f"The request body is larger than {size}, the most this API accepts.",
            ),
            status=413,
        )
    page = render_to_string("413.html", {"size": size})
    return HttpResponse(page, status=413)


#: The machine code of an error answer, by HTTP status.
STATUS_CODES = {
    400: "malformed",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "not_allowed",
    409: "refused",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    500: "server_error",
    503: "unavailable",
}

_SENTENCES = {
    400: "The request could not be read.",
    401: "Authenticate with a token or a session.",
    403: "Your role does not allow this.",
    404: "Not found.",
    405: "This method is not allowed here.",
    413: "The request body is too large.",
    415: "Send the body as application/json.",
    422: "The input is invalid: see errors.",
    500: "The server could not finish this request; nothing was half-saved.",
}


class JsonErrorsMiddleware:
    """On the JSON paths, every error answer is JSON in the one shape, whoever produced it:
    Django's own 404 for a path that matches no route (a malformed UUID included), a 405, a
    CSRF 403, a 400 for a suspicious request, or the 500 page. Answers that already are JSON
    pass through unchanged. Outermost, so it sees every response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 400 or not wants_json(request):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        status = response.status_code
        answer = JsonResponse(
            error_body(
                STATUS_CODES.get(status, "refused" if status < 500 else "server_error"),
                _SENTENCES.get(status, response.reason_phrase or "Refused."),
            ),
            status=status,
        )
        if response.has_header("Allow"):
            answer["Allow"] = response["Allow"]
        return answer


# --- JSON request bodies ------------------------------------------------------------------------

#: The deepest nesting of a JSON body the API reads (its documents are 3 or 4 levels deep).
MAX_JSON_DEPTH = 32
NUL_MESSAGE = "must not contain NUL characters"


class BodyRefused(Exception):
    """A request body that cannot be read as JSON: `status` 400 (malformed, too deep) or 415
    (not sent as JSON); `errors` names the field where there is one."""

    def __init__(self, status: int, detail: str, errors: list[dict[str, str]] | None = None):
        self.status, self.detail, self.errors = status, detail, errors or []
        super().__init__(detail)


def json_body(request: HttpRequest) -> Any:
    """The request's JSON body, read within bounds: `BodyRefused` for a body not sent as
    `application/json` (415), not JSON or nested deeper than `MAX_JSON_DEPTH` (400)."""
    if not request.body:
        raise BodyRefused(
            400,
            "The request body is empty: send a JSON document.",
            [{"field": "(body)", "message": "is not valid JSON"}],
        )
    content_type = request.content_type or ""
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise BodyRefused(
            415, f"Send the body as application/json, not {content_type or 'untyped'}."
        )
    try:
        data = json.loads(request.body)
    except RecursionError:
        data, depth = None, MAX_JSON_DEPTH + 1
    except (ValueError, UnicodeDecodeError):
        raise BodyRefused(
            400,
            "The request body is not valid JSON.",
            [{"field": "(body)", "message": "is not valid JSON"}],
        ) from None
    else:
        depth = _depth(data)
    if depth > MAX_JSON_DEPTH:
        raise BodyRefused(
            400,
            f"The request body is nested deeper than {MAX_JSON_DEPTH} levels.",
            [{"field": "(body)", "message": f"is nested deeper than {MAX_JSON_DEPTH} levels"}],
        )
    return data


def _depth(data: Any) -> int:
    """How deeply `data` nests (1 for a scalar), without recursion; stops counting past the
    limit."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            break
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    return deepest


def nul_fields(data: Any, prefix: str = "") -> list[str]:
    """The fields of a parsed body (or a mapping of parameters) whose text, or key, holds a NUL
    character, which no database column can store: `["mrn", "answers.trials[0].drug"]`."""
    found: list[str] = []
    stack: list[tuple[str, Any]] = [(prefix, data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                found.append(path or "(body)")
        elif isinstance(value, dict):
            for key, item in value.items():
                name = f"{path}.{key}" if path else str(key)
                if "\x00" in str(key):
                    found.append(path or "(body)")
                    continue
                stack.append((name, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(value))
    return sorted(set(found))
