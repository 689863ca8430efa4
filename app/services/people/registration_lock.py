"""The lock a registration takes before its duplicate check, held until the transaction ends.

Without it two identical registrations sent at the same moment both look for duplicates,
both find none, and both register the person. With it the second waits for the first to
commit, then finds the person it registered ("possible duplicate").

* PostgreSQL: ``pg_advisory_xact_lock`` on a key derived from each blind index of the
  identity (name and birth date, e-mail, phone), taken in a fixed order so that two
  registrations never wait for each other in a circle. Registrations that share no index do
  not wait for each other. They first take one key *shared*, which an import takes
  *exclusively*: an import - thousands of people - waits for the registrations under way and
  holds them back until it commits, without taking thousands of locks.
* SQLite: the database's write lock, taken by an early write that changes nothing; it is held
  until the transaction ends, so registrations (and imports) run one after the other.

Locks are released by the commit or the rollback, never by hand. Take them before anything
in the transaction writes an audit event (the audit chain's lock comes after this one).
"""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.crypto.blind_index import BlindIndexer, name_birth_key, normalise_email
from app.services.people.identity import Identity

# The key every registration takes shared and every import exclusively ("RELAISRG").
REGISTRATIONS_KEY = int.from_bytes(b"RELAISRG", "big")
# An early write that changes nothing: it takes SQLite's write lock for the transaction.
_SQLITE_WRITE_LOCK = text("UPDATE beneficiaries SET pseudonym = pseudonym WHERE 1 = 0")


def identity_indexes(indexer: BlindIndexer, identity: Identity) -> list[tuple[str, int]]:
    """The duplicate-detection blind indexes of a cleaned identity, as (index name, value)."""
    found = []
    if identity.birth_date:
        key = name_birth_key(identity.last_name, identity.first_name, identity.birth_date)
        found.append(("name_birth", indexer.compute("name_birth", key)))
    if identity.email:
        found.append(("email", indexer.compute("email", normalise_email(identity.email))))
    if identity.phone:
        found.append(("phone", indexer.compute("phone", identity.phone)))
    return found


def lock_key(index: str, value: int, version: int) -> int:
    """The advisory-lock key (a signed 64-bit integer) of one blind-index value."""
    digest = hashlib.sha256(f"relais-registration|v{version}|{index}|{value}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_registration(session: Session, indexer: BlindIndexer, identity: Identity) -> None:
    """Lock the blind indexes of ``identity`` until the transaction ends (see the module)."""
    indexes = identity_indexes(indexer, identity)
    if not indexes:
        return  # nothing to look duplicates up by: nothing to serialise
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(_SQLITE_WRITE_LOCK)
        return
    connection.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": REGISTRATIONS_KEY})
    for key in sorted({lock_key(name, value, indexer.version) for name, value in indexes}):
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def lock_every_registration(session: Session) -> None:
    """Hold every registration back until the transaction ends (an import's lookup and
    writing: many people at once)."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(_SQLITE_WRITE_LOCK)
        return
    connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": REGISTRATIONS_KEY})
