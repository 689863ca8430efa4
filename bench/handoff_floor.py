"""The floor of ``bench/handoff_load.py``: a tiny Flask application, outside Relais, that
accepts a hand-off with the same writes as Relais, in raw SQL, in one transaction.

Served by gunicorn beside Relais, with the same settings (``gunicorn.conf.py``: 4 workers):

    gunicorn -c gunicorn.conf.py --chdir bench "handoff_floor:create_floor()"

It reads Relais's configuration once (``create_app``: the development keys of the instance
folder, the database URL) for three things only: the key that signs the session cookie, the
audit key, and the database. Each request then does what no accept can do without:

* the session cookie check: the signed cookie decoded, the account and its open session read
  in one query (as ``app.services.security.sessions.signed_in`` does);
* ``POST /floor/accept/<id>``: in one transaction, the hand-off moved from ``sent`` to
  ``accepted`` if the account's structure receives it, its transition row, the person's
  pathway state moved by that event (``app.services.pathways.state.note_event``: the day and
  structure of their latest event, which the lists read), the receiving structure's follow-up
  (unless one is open), the audit events chained as Relais chains them - the transition, and
  the follow-up's start when one was opened (the chain's head locked and read in one
  statement, moved once, the rows with their MACs inserted in one statement: ``audit verify``
  accepts them) -, the sender's mail in the outbox (whose trigger wakes the mail worker, as
  for Relais: the "wake-ups by trigger" revision);
* ``POST /floor/one-update/<id>``: one UPDATE of the hand-off's row (the reference figure of
  a bare endpoint).

One psycopg connection per worker (a sync worker serves one request at a time), no ORM, no
form, no template.
"""

from __future__ import annotations

import hashlib
import json
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from flask import Flask, abort, request
from flask.sessions import SecureCookieSessionInterface

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from app.services.security.audit import audit_key  # noqa: E402
from app.services.security.audit_mac import row_mac  # noqa: E402

PARIS = ZoneInfo("Europe/Paris")

SIGNED_IN = """
SELECT users.id, users.structure_id, users.active, users.session_version, user_sessions.ended_at
FROM users JOIN user_sessions ON user_sessions.user_id = users.id
WHERE user_sessions.token_hash = %s AND users.id = %s
"""
ACCEPT = """
UPDATE handoffs SET status = 'accepted', answered_at = %(now)s, answered_on = %(day)s,
    version = version + 1
WHERE id = %(id)s AND status = 'sent' AND to_structure_id = %(structure)s
RETURNING beneficiary_id, from_user_id
"""
TRANSITION = """
INSERT INTO handoff_transitions (id, handoff_id, event, from_status, to_status, actor_id,
    actor_structure_id, at, effective_on)
VALUES (%(row)s, %(id)s, 'accept', 'sent', 'accepted', %(user)s, %(structure)s, %(now)s, %(day)s)
"""
FOLLOW_UP = """
INSERT INTO follow_ups (id, beneficiary_id, structure_id, referent_id, started_on, created_at)
SELECT %(row)s, %(person)s, %(structure)s, %(user)s, %(day)s, %(now)s
WHERE NOT EXISTS (SELECT 1 FROM follow_ups WHERE beneficiary_id = %(person)s
    AND structure_id = %(structure)s AND ended_on IS NULL)
RETURNING id
"""
# The person's pathway state (app.services.pathways.state.note_event): the transition is an
# event of the day done by the receiving structure.
NOTE_EVENT = """
UPDATE beneficiaries SET
    last_event_on = CASE WHEN last_event_on < %(day)s THEN %(day)s ELSE last_event_on END,
    last_event_structure_id = CASE
        WHEN last_event_on < %(day)s THEN %(structure)s
        WHEN last_event_on = %(day)s THEN CASE
            WHEN last_event_structure_id IS NULL THEN %(structure)s
            WHEN %(structure)s < last_event_structure_id THEN %(structure)s
            ELSE last_event_structure_id END
        ELSE last_event_structure_id END
WHERE id = %(person)s
"""
OUTBOX = """
INSERT INTO mail_outbox (id, created_at, kind, handoff_id, to_address, locale, attempts)
SELECT %(row)s, %(now)s, 'handoff_accepted', %(id)s, email, COALESCE(locale, 'fr'), 0
FROM users
WHERE id = %(sender)s
"""
HEAD = "SELECT seq, mac FROM audit_chain_head WHERE id = 1 FOR UPDATE"
MOVE_HEAD = "UPDATE audit_chain_head SET seq = %s, mac = %s WHERE id = 1 AND seq = %s"
AUDIT_COLUMNS = """
INSERT INTO audit_events (seq, mac, at, actor_id, actor_structure_id, action, subject_type,
    subject_id, beneficiary_id, purpose, data)
VALUES """
AUDIT_ROW = "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"


def _database_url(app_url: str) -> str:
    """The SQLAlchemy URL of Relais as a libpq one (``postgresql+psycopg://`` → ``postgresql://``)."""
    scheme, _sep, rest = app_url.partition("://")
    if not scheme.startswith("postgresql"):
        raise SystemExit("the floor runs on PostgreSQL only")
    return f"postgresql://{rest}"


def create_floor() -> Flask:
    relais = create_app()
    floor = Flask("handoff_floor")
    floor.config["SECRET_KEY"] = relais.config["SECRET_KEY"]
    floor.config["SESSION_COOKIE_NAME"] = relais.config["SESSION_COOKIE_NAME"]
    url = _database_url(relais.config.get("DATABASE_URL") or "")
    key = audit_key()
    cookies = SecureCookieSessionInterface()
    state: dict[str, psycopg.Connection[Any]] = {}

    def connection() -> psycopg.Connection[Any]:
        # Opened in the worker at its first request (never in the master before the fork).
        if "db" not in state or state["db"].closed:
            state["db"] = psycopg.connect(url)
        return state["db"]

    def signed_in(db: psycopg.Connection[Any]) -> tuple[int, int]:
        """The account and structure of the session cookie, or 403."""
        serializer = cookies.get_signing_serializer(floor)
        raw = request.cookies.get(floor.config["SESSION_COOKIE_NAME"])
        if serializer is None or raw is None:
            abort(403)
        try:
            values = serializer.loads(raw)
        except Exception:  # noqa: BLE001 - any bad cookie is a refusal
            abort(403)
        user_id, _sep, version = str(values.get("_user_id", "")).partition(":")
        token = values.get("sid")
        if not user_id.isdigit() or not version.isdigit() or not isinstance(token, str):
            abort(403)
        digest = hashlib.sha256(token.encode()).hexdigest()
        found = db.execute(SIGNED_IN, (digest, int(user_id))).fetchone()
        if found is None or not found[2] or found[3] != int(version) or found[4] is not None:
            abort(403)
        return int(found[0]), int(found[1])

    @floor.post("/floor/accept/<handoff_id>")
    def accept(handoff_id: str) -> tuple[str, int]:
        db = connection()
        with db.transaction():
            user, structure = signed_in(db)
            _accept(db, key, uuid.UUID(handoff_id), user, structure)
        return "", 204

    @floor.post("/floor/one-update/<handoff_id>")
    def one_update(handoff_id: str) -> tuple[str, int]:
        db = connection()
        with db.transaction():
            signed_in(db)
            db.execute("UPDATE handoffs SET version = version WHERE id = %s", (handoff_id,))
        return "", 204

    return floor


def _accept(
    db: psycopg.Connection[Any], key: bytes, handoff_id: uuid.UUID, user: int, structure: int
) -> None:
    now = datetime.now(UTC)
    day = datetime.now(PARIS).date()
    values = {"id": handoff_id, "user": user, "structure": structure, "now": now, "day": day}
    moved = db.execute(ACCEPT, values).fetchone()
    if moved is None:
        abort(409)  # not pending, or not addressed to this structure
    person, sender = moved
    db.execute(TRANSITION, {**values, "row": uuid.uuid4()})
    db.execute(NOTE_EVENT, {**values, "person": person})
    opened = db.execute(FOLLOW_UP, {**values, "row": uuid.uuid4(), "person": person}).fetchone()
    events = [_event(user, structure, "handoff:transition", "handoffs", handoff_id, person)]
    events[0]["data"] = {"event": "accept", "status": "accepted"}
    if opened is not None:  # the receiver's follow-up opened: audited, as Relais does
        events.append(_event(user, structure, "follow_up:start", "follow_ups", opened[0], person))
    _audit(db, key, events, now)
    if sender is not None:
        db.execute(OUTBOX, {**values, "row": uuid.uuid4(), "sender": sender})


def _event(
    user: int, structure: int, action: str, table: str, subject: uuid.UUID, person: uuid.UUID
) -> dict[str, Any]:
    return {
        "actor_id": user,
        "actor_structure_id": structure,
        "action": action,
        "subject_type": table,
        "subject_id": str(subject),
        "beneficiary_id": person,
        "purpose": None,
        "data": {},
    }


def _audit(
    db: psycopg.Connection[Any], key: bytes, events: list[dict[str, Any]], now: datetime
) -> None:
    """The events chained after the head, the way Relais appends to its chain: the head's row
    locked and read in one statement, moved once, the rows inserted in one statement."""
    head = db.execute(HEAD).fetchone()
    assert head is not None, "the audit chain has no head"
    seq, mac, values = int(head[0]), bytes(head[1]), []
    for event in events:
        row = {**event, "at": now}
        seq += 1
        mac = row_mac(key, seq, mac, row)
        values += [seq, mac, now, row["actor_id"], row["actor_structure_id"], row["action"]]
        values += [row["subject_type"], row["subject_id"], row["beneficiary_id"], None]
        values.append(json.dumps(row["data"]))
    db.execute(MOVE_HEAD, (seq, mac, head[0]))
    db.execute(AUDIT_COLUMNS + ", ".join([AUDIT_ROW] * len(events)), values)
