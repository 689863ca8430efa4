"""Every POST of the API needs an ``Idempotency-Key`` (``app.services.api.idempotency``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, request

from app.services.api import idempotency
from app.unit_of_work import keeps_writes_on_error
from app.web.api.blueprint import current_token, now
from app.web.api.problems import ApiProblem
from app.web.context import dbs


def idempotent(view: Callable[..., Response]) -> Callable[..., Response]:
    """Every POST needs an ``Idempotency-Key``: the same key with the same request gets the
    first answer again (``Idempotent-Replayed: true``); with another request, a 422."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Response:
        key = request.headers.get("Idempotency-Key")
        if not idempotency.well_formed(key):
            raise ApiProblem(
                400,
                "Give an Idempotency-Key header (1 to 128 printable characters, a UUID).",
                code="idempotency-key-missing",
            )
        assert key is not None
        digest = idempotency.request_hash(request.method, request.path, request.get_data())
        found = idempotency.claim(dbs(), current_token(), key, digest, now=now())
        if isinstance(found, idempotency.Stored):
            replay = Response(found.body, status=found.status, mimetype="application/json")
            if found.location:
                replay.headers["Location"] = found.location
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        response = view(*args, **kwargs)
        if response.status_code < 400 or keeps_writes_on_error():
            idempotency.fulfil(
                dbs(),
                found,
                response.status_code,
                response.get_data(),
                response.headers.get("Location"),
            )
        return response

    return wrapped
