"""Data-key rotation: a person's data key replaced, and every field sealed with it re-encrypted.

For a suspected exposure of data keys (a leaked memory dump, a key unwrapped where it should
not have been): re-wrapping with another KEK (``keys rotate-kek``) does not help then, since
the data key itself is known. ``flask --app app keys rotate-data-keys`` runs:

1. ``request_rotation`` marks the keys to replace (``person_keys.rotation_requested``): one
   person (``--person``) or everyone (``--all``);
2. ``rotate_batch``, batch after batch, each committed by the caller: for each marked person,
   a new random data key; each of the person's ciphertexts (``SEALED_COLUMNS``) opened with
   the old key and sealed with the new one; the new key wrapped with the active KEK, the mark
   cleared; one audit event per person (``keys:rotate_data_key``: ids and counts only).

A batch is one transaction: a run stopped half-way leaves each person either entirely on
the old key or entirely on the new one, so everyone stays readable, and the marks left say
who is still to do - the same command without ``--all`` or ``--person`` finishes the run.

The batch's key rows are locked ``FOR UPDATE`` (PostgreSQL) before anything is read, and
every code path that seals a new value takes the key with ``Vault.sealing_key`` (``FOR
SHARE``): a value sealed during the rotation is either committed before the batch reads the
person's fields (and is re-encrypted) or sealed with the new key. SQLite has one writer at a
time. Blind indexes do not depend on the data key (the index key makes them): unchanged.

Nothing here returns or logs a key, a ciphertext or a value: counts and ids only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from app.crypto import DataKey
from app.domain.audit import AuditAction
from app.models import Barrier, Beneficiary, Handoff, HandoffTransition, PathwayStep, PersonKey
from app.models.base import utcnow
from app.models.beneficiary import IDENTITY_FIELDS
from app.services.errors import N_, Conflict, NotFound
from app.services.security import audit
from app.services.security.vault import Vault

DEFAULT_BATCH_SIZE = 100
_KEYS = cast(Table, PersonKey.__table__)
_PEOPLE = cast(Table, Beneficiary.__table__)
_STEPS = cast(Table, PathwayStep.__table__)
_BARRIERS = cast(Table, Barrier.__table__)
_HANDOFFS = cast(Table, Handoff.__table__)
_TRANSITIONS = cast(Table, HandoffTransition.__table__)


@dataclass(frozen=True)
class SealedColumns:
    """The columns of one table sealed with the person's data key, and how a row of that
    table names its person (the column ``person`` of ``table``, or of the joined ``via``)."""

    table: Table
    columns: tuple[str, ...]
    person: str = "beneficiary_id"
    via: Table | None = None

    def person_column(self) -> Any:
        return (self.via if self.via is not None else self.table).c[self.person]


# Every ciphertext under a person's data key. ``tests/services/test_data_keys.py`` checks
# that every binary column of the schema is here (or is not a field ciphertext).
SEALED_COLUMNS = (
    SealedColumns(_PEOPLE, IDENTITY_FIELDS, person="id"),
    SealedColumns(_STEPS, ("action", "employer")),
    SealedColumns(_BARRIERS, ("detail",)),
    SealedColumns(_HANDOFFS, ("note",)),
    SealedColumns(_TRANSITIONS, ("message",), via=_HANDOFFS),
)


# -- marking -----------------------------------------------------------------------------------


def person_by_pseudonym(session: Session, pseudonym: str) -> Beneficiary:
    """The person whose pseudonym is ``pseudonym`` (any case, spaces around); ``NotFound``."""
    wanted = pseudonym.strip().upper()
    person = session.scalar(select(Beneficiary).where(Beneficiary.pseudonym == wanted))
    if person is None:
        raise NotFound(N_("Nobody has the pseudonym %(pseudonym)s."), pseudonym=wanted)
    return person


def request_rotation(session: Session, person: Beneficiary | None = None) -> int:
    """Mark the data key of ``person`` (everyone's with ``None``) to be replaced; returns how
    many keys are marked now. ``Conflict`` when the person's identity was erased."""
    statement = update(_KEYS).values(rotation_requested=True)
    if person is not None:
        statement = statement.where(_KEYS.c.beneficiary_id == person.id)
        if not session.connection().execute(statement).rowcount:
            raise Conflict(
                N_("The identity of %(pseudonym)s was erased: there is no data key to replace."),
                pseudonym=person.pseudonym,
            )
    else:
        session.connection().execute(statement.where(_KEYS.c.rotation_requested.is_(False)))
    return count_pending(session)


def count_pending(session: Session) -> int:
    """Data keys marked and not replaced yet."""
    return int(
        session.scalar(
            select(func.count()).select_from(_KEYS).where(_KEYS.c.rotation_requested.is_(True))
        )
        or 0
    )


# -- rotating ----------------------------------------------------------------------------------


def _new_key(old: DataKey) -> DataKey:
    """A fresh data key, never with the old one's id (the id tells ciphertexts apart)."""
    while True:
        key = DataKey.generate()
        if key.key_id != old.key_id:
            return key


def rotate_batch(session: Session, vault: Vault, *, limit: int = DEFAULT_BATCH_SIZE) -> int:
    """Replace the data keys of up to ``limit`` marked people; returns how many.

    Runs in the caller's transaction (commit after it). A ciphertext that does not open with
    the old key stops the batch with ``DecryptionError``: nothing of the batch is written.
    """
    rows = session.execute(
        select(_KEYS.c.beneficiary_id, _KEYS.c.kek_id, _KEYS.c.wrapped_key)
        .where(_KEYS.c.rotation_requested.is_(True))
        .order_by(_KEYS.c.beneficiary_id)
        .limit(limit)
        .with_for_update()
    ).all()
    if not rows:
        return 0
    ring = vault.keys
    keys: dict[uuid.UUID, tuple[DataKey, DataKey]] = {}
    for person_id, kek_id, wrapped in rows:
        old = ring.unwrap(kek_id, wrapped)
        keys[person_id] = (old, _new_key(old))
    fields = dict.fromkeys(keys, 0)
    for sealed in SEALED_COLUMNS:
        for person_id, count in _reseal(session, sealed, keys).items():
            fields[person_id] += count
    now = utcnow()
    changes = []
    for person_id, (_old, new) in keys.items():
        kek_id, wrapped = ring.wrap(new)
        changes.append({"person": person_id, "kek": kek_id, "wrapped": wrapped, "now": now})
    session.connection().execute(
        update(_KEYS)
        .where(_KEYS.c.beneficiary_id == bindparam("person"))
        .values(
            kek_id=bindparam("kek"),
            wrapped_key=bindparam("wrapped"),
            rotation_requested=False,
            rotated_at=bindparam("now"),
        ),
        changes,
    )
    audit.append_many(
        session,
        [
            {
                "action": AuditAction.DATA_KEY_ROTATE.value,
                "subject_type": _KEYS.name,
                "subject_id": str(person_id),
                "beneficiary_id": person_id,
                "purpose": "key_rotation",
                "data": {"fields": fields[person_id], "kek": ring.active_kek_id},
            }
            for person_id in keys
        ],
    )
    return len(keys)


def _reseal(
    session: Session, sealed: SealedColumns, keys: dict[uuid.UUID, tuple[DataKey, DataKey]]
) -> dict[uuid.UUID, int]:
    """Re-encrypt the ``sealed`` columns of the batch's people; returns fields per person."""
    table, person = sealed.table, sealed.person_column()
    source: Any = table
    if sealed.via is not None:
        source = table.join(sealed.via, table.c.handoff_id == sealed.via.c.id)
    columns = [table.c[name] for name in sealed.columns]
    rows = session.execute(
        select(table.c.id, person.label("person"), *columns)
        .select_from(source)
        .where(person.in_(list(keys)))
        .order_by(table.c.id)
    ).all()
    counts: dict[uuid.UUID, int] = {}
    changes: list[dict[str, Any]] = []
    for row in rows:
        if all(stored is None for stored in row[2:]):
            continue
        row_id, person_id = row[0], row[1]
        old, new = keys[person_id]
        change: dict[str, Any] = {"row": row_id}
        for name, stored in zip(sealed.columns, row[2:], strict=True):
            text = Vault.open(old, table.name, name, row_id, person_id, stored)
            change[f"v_{name}"] = (
                None if text is None else Vault.seal(new, table.name, name, row_id, person_id, text)
            )
            counts[person_id] = counts.get(person_id, 0) + (text is not None)
        changes.append(change)
    if changes:
        session.connection().execute(
            update(table)
            .where(table.c.id == bindparam("row"))
            .values({name: bindparam(f"v_{name}") for name in sealed.columns}),
            changes,
        )
    return counts
