"""Idempotency keys of the API's POST requests (the ``Idempotency-Key`` header).

The key is claimed in the request's transaction, before the use case runs, and the answer is
written to it afterwards: the key and what the request did commit together, or neither does
(a refused request - status 400 and above - rolls back with its key, and may be sent again).
A second request with the same key and the same request gets the first answer again, nothing
being done twice; with another request (another body or path), ``KeyReused``. Two requests
with the same key at the same moment are kept apart by the primary key: on PostgreSQL the
second insert waits for the first transaction, then finds its answer; on SQLite writers take
turns. Keys are kept ``KEEP`` (24 hours), then deleted by the next POST of any token.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import ApiIdempotencyKey, ApiToken
from app.services.errors import N_, InvalidInput

KEEP = timedelta(hours=24)
KEY_SHAPE = re.compile(r"[\x21-\x7e]{1,128}")  # printable ASCII, no space


class KeyReused(InvalidInput):
    """The key was used for another request (a 422 problem)."""

    code = "idempotency_key_reused"


@dataclass(frozen=True)
class Stored:
    """The answer given the first time, to send again."""

    status: int
    body: bytes
    location: str | None


def request_hash(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def well_formed(key: str | None) -> bool:
    return key is not None and KEY_SHAPE.fullmatch(key) is not None


def purge(session: Session, *, now: datetime) -> int:
    """Delete the keys older than ``KEEP``; how many."""
    result = session.execute(
        delete(ApiIdempotencyKey).where(ApiIdempotencyKey.created_at < now - KEEP)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _check(row: ApiIdempotencyKey, digest: str) -> Stored | None:
    if row.request_hash != digest:
        raise KeyReused(
            N_("This Idempotency-Key was used for another request: use a new key."),
            field="Idempotency-Key",
        )
    if row.status is None or row.response is None:
        return None  # this transaction's own claim (cannot be seen from another)
    return Stored(row.status, row.response, row.location)


def claim(
    session: Session, token: ApiToken, key: str, digest: str, *, now: datetime
) -> ApiIdempotencyKey | Stored:
    """The answer stored under ``key`` (``Stored``), or the key claimed for this request
    (the row to ``fulfil``). ``KeyReused`` when the key was used for another request."""
    if not well_formed(key):
        raise InvalidInput(N_("The Idempotency-Key header is missing or malformed."))
    purge(session, now=now)
    found = session.get(ApiIdempotencyKey, (token.id, key), populate_existing=True)
    if found is not None and found.created_at >= now - KEEP:
        return _check(found, digest) or found
    if found is not None:
        session.delete(found)
        session.flush()
    row = ApiIdempotencyKey(token_id=token.id, key=key, request_hash=digest, created_at=now)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        # The same key sent at the same moment committed first: its answer.
        other = session.scalar(
            select(ApiIdempotencyKey)
            .where(ApiIdempotencyKey.token_id == token.id, ApiIdempotencyKey.key == key)
            .execution_options(populate_existing=True)
        )
        if other is None:
            raise
        stored = _check(other, digest)
        if stored is None:
            raise
        return stored
    return row


def fulfil(
    session: Session, row: ApiIdempotencyKey, status: int, body: bytes, location: str | None
) -> None:
    """Keep the answer given to the request that claimed ``row``."""
    row.status, row.response, row.location = status, body, location
    session.flush()
