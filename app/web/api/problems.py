"""RFC 9457 problem details: every error of /api/v1 is ``application/problem+json``.

``type`` is a URI naming the kind of problem (``https://relais.invalid/problems/<code>``: a
name, not a page), ``title`` the short English summary of the kind, ``status`` the HTTP status,
``detail`` this occurrence's explanation, ``errors`` the fields at fault (``field``, ``message``)
for invalid input. Extension members: ``duplicates`` and ``elsewhere`` for a possible
duplicate. Nothing of the request's values is ever echoed.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request

from app.services.errors import ServiceError

PROBLEM_TYPE = "application/problem+json"
API_PREFIX = "/api/v1"
TYPE_BASE = "https://relais.invalid/problems/"

TITLES = {
    400: "Bad request",
    401: "Authentication needed",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
CODES = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "too-large",
    415: "unsupported-media-type",
    422: "unprocessable",
    429: "rate-limited",
    500: "server-error",
    503: "unavailable",
}


class ApiProblem(Exception):
    """Raised by the API's views and hooks: answered as a problem document."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        code: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or TITLES.get(status, "Error"))
        self.status, self.detail, self.code = status, detail, code
        self.errors, self.headers, self.extensions = errors, headers or {}, extensions


def wanted() -> bool:
    """Whether the request is one of the API's (its errors are problem documents)."""
    path = request.path
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    code: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> Response:
    status = status if status in TITLES else (500 if status >= 500 else 400)
    body: dict[str, Any] = {
        "type": TYPE_BASE + (code or CODES[status]),
        "title": TITLES[status],
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    body.update({name: value for name, value in extensions.items() if value is not None})
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_problem(problem: ApiProblem) -> Response:
    return problem_response(
        problem.status,
        problem.detail,
        code=problem.code,
        errors=problem.errors,
        headers=problem.headers,
        **problem.extensions,
    )


def service_message(exc: ServiceError) -> str:
    """The service's English message with its parameters (the API speaks English)."""
    return exc.message % exc.params if exc.params else exc.message


def from_service_error(exc: ServiceError, status: int) -> Response:
    errors = [{"field": exc.field, "message": service_message(exc)}] if exc.field else None
    return problem_response(
        status, service_message(exc), code=exc.code.replace("_", "-"), errors=errors
    )
