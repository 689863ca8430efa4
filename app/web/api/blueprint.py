"""The /api/v1 blueprint: token authentication, scopes from the authorisation matrix, rate
limits per token, problem details, and the SpecTree instance the OpenAPI document comes from.

Authentication is by ``Authorization: Bearer <token>`` only: a session cookie is never looked
at (``app.web._require_login`` lets the API's endpoints through to this blueprint's check,
which ignores the cookie), and CSRF does not apply (no cookie authenticates anything here).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from spectree import SecurityScheme, SpecTree
from spectree.models import SecureType, SecuritySchemeData
from werkzeug.exceptions import BadRequest

from app.domain.api import Scope
from app.extensions import csrf, db, limiter
from app.models import ApiToken, User
from app.services.api import tokens
from app.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.web import access
from app.web.api import problems
from app.web.api.problems import ApiProblem

log = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


def _request_problem(
    req: Any, resp: Any, error: Exception | None, instance: Any, adapter: Any
) -> None:
    """SpecTree's hook before the view: a request its model refuses is a 400 problem naming
    the fields (never their values)."""
    if error is None:
        return
    errors = []
    for item in getattr(error, "errors", lambda: [])():
        location = ".".join(str(part) for part in item.get("loc", ()))
        errors.append({"field": location or "body", "message": str(item.get("msg", "invalid"))})
    raise ApiProblem(400, "The request does not match the API's schema.", errors=errors)


class ResponseMismatch(RuntimeError):
    """An answer of the API does not match its own schema (a bug of Relais: a 500)."""


def _response_check(
    req: Any, resp: Any, error: Exception | None, instance: Any, adapter: Any
) -> None:
    if error is not None:
        raise ResponseMismatch(type(error).__name__)


spec = SpecTree(
    "flask",
    mode="strict",
    path="api/v1/spectree-unused",
    title="Relais API",
    version="1.0.0",
    description="The JSON API for partner systems: register people, read the people your "
    "structure follows, send and answer hand-offs, read the partner directory. "
    "See docs/api.md.",
    openapi_version="3.1.0",
    security_schemes=[
        SecurityScheme(
            name="token",
            data=SecuritySchemeData(
                type=SecureType.HTTP,
                scheme="bearer",
                description="An API token of your structure (relais_<prefix>_<secret>).",
            ),
        )
    ],
    security={"token": []},
    before=_request_problem,
    after=_response_check,
    validation_error_status=400,
)


def now() -> datetime:
    return datetime.now(UTC)


def current_token() -> ApiToken:
    found: ApiToken = g.api_token
    return found


def api_actor() -> User:
    """The token's service account: a caseworker of its structure."""
    found: User = g.api_token.user
    return found


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def rate_key() -> str:
    """Requests are counted per token (its digest: the token itself is never kept), or per
    client address without one."""
    presented = _bearer()
    if presented is None:
        return f"api-anonymous:{get_remote_address()}"
    return "api-token:" + hashlib.sha256(presented.encode()).hexdigest()[:32]


def _rate_limit() -> str:
    return str(current_app.config.get("API_RATE_LIMIT") or "")


limiter.limit(_rate_limit, key_func=rate_key, exempt_when=lambda: not _rate_limit(), scope="api")(
    bp
)


# The namespace of the failed authentications' counters (per client address).
FAILURE_NAMESPACE = "relais-api-auth-failure"


def _failure_limits() -> list[RateLimitItem]:
    text = str(current_app.config.get("API_AUTH_FAILURE_LIMIT") or "")
    return list(parse_many(text)) if text else []


def _count_failed_authentication() -> None:
    """Count a request without a valid token against its client address
    (``API_AUTH_FAILURE_LIMIT``, counted in ``RATELIMIT_STORAGE_URI``); beyond the limit, a 429
    with ``Retry-After`` instead of the 401. Only failures are counted and only failures are
    refused: a valid token from the same address is never turned away."""
    limits = _failure_limits()
    if not limits or not limiter.enabled:
        return
    strategy, address = limiter.limiter, get_remote_address()
    over = [item for item in limits if not strategy.hit(item, FAILURE_NAMESPACE, address)]
    if not over:
        return
    reset = max(strategy.get_window_stats(i, FAILURE_NAMESPACE, address).reset_time for i in over)
    wait = max(1, math.ceil(reset - time.time()))
    raise ApiProblem(
        429,
        f"Too many requests without a valid API token from this address: retry in {wait} seconds.",
        headers={"Retry-After": str(wait)},
    )


@bp.before_request
def _authenticate() -> None:
    rule = access.rule_of(request.endpoint)
    if rule is None:
        # An endpoint nobody classified is closed, as everywhere (deny by default).
        raise ApiProblem(404, "There is no such operation.")
    if rule.scope is None:
        return None  # the document and its page: public
    presented = _bearer()
    token = tokens.authenticate_token(db.session(), presented, now=now()) if presented else None
    if token is None:
        _count_failed_authentication()
        raise ApiProblem(
            401,
            "Give a valid API token: Authorization: Bearer <token>.",
            headers={"WWW-Authenticate": 'Bearer realm="relais"'},
        )
    if Scope(rule.scope) not in token.scope_set:
        raise ApiProblem(403, f"This token does not have the scope {rule.scope}.")
    g.api_token = token
    g.user = token.user
    return None


# A request's body at most: the largest one (a person with notes of 4,000 characters) is a few
# kilobytes; a larger body is refused before it is read (413).
MAX_BODY_BYTES = 64 * 1024


@bp.url_value_preprocessor
def _limit_body(_endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """Before anything reads the body (the check of control characters opens its stream)."""
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        request.max_content_length = MAX_BODY_BYTES


@bp.before_request
def _json_body() -> None:
    """A request's body is JSON, of a bounded size, read once here: the schema's check then
    reads it again from Flask's cache. A body in another type, or that is not JSON, is a 400
    rather than an empty body (an answer applied without its date and message); JSON nested
    deeper than the parser goes (``RecursionError``) is a 400, not a 500."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if not request.get_data(cache=True):
        return  # no body: the operations whose body is optional take none
    if not request.is_json:
        raise ApiProblem(400, "Send a JSON body (Content-Type: application/json).")
    try:
        request.get_json()
    except (BadRequest, RecursionError):
        raise ApiProblem(400, "The body is not valid JSON.") from None


@bp.errorhandler(ApiProblem)
def _problem(exc: ApiProblem) -> Response:
    return problems.from_problem(exc)


@bp.errorhandler(NotFound)
def _not_found(exc: NotFound) -> Response:
    return problems.from_service_error(exc, 404)


@bp.errorhandler(Forbidden)
def _forbidden(exc: Forbidden) -> Response:
    return problems.from_service_error(exc, 403)


@bp.errorhandler(InvalidInput)
def _invalid(exc: InvalidInput) -> Response:
    return problems.from_service_error(exc, 422)


@bp.errorhandler(Conflict)
def _conflict(exc: Conflict) -> Response:
    return problems.from_service_error(exc, 409)
