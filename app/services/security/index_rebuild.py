"""Blind-index rebuild: the narrow indexes and the import's wide lookup indexes of every
person not at the indexer's version, recomputed from the decrypted identity in batches the
caller commits one by one (``flask --app app keys rebuild-index``, ``app/services/security/keys.py``
describes the batches). It is also how the lookup indexes of people registered before they
existed are filled: until then the import's duplicate lookup falls back to the narrow indexes
for those people (``app/services/people/lookup.py``).

Nothing here returns or logs an identity value or an index value: counts only.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from app.crypto import DecryptionError
from app.domain.audit import AuditAction
from app.models import Beneficiary, NameSearchToken, PersonKey
from app.services.people.identity import TABLE as IDENTITY_TABLE
from app.services.security import audit
from app.services.security.vault import Vault

DEFAULT_BATCH_SIZE = 500
_KEYS = cast(Table, PersonKey.__table__)
_PEOPLE = cast(Table, Beneficiary.__table__)
_TOKENS = cast(Table, NameSearchToken.__table__)
_INDEXED_FIELDS = ("last_name", "first_name", "birth_date", "email", "phone")


def _stale(version: int) -> Any:
    return or_(
        _PEOPLE.c.index_version.is_(None),
        _PEOPLE.c.index_version != version,
        _PEOPLE.c.lookup_version.is_(None),
        _PEOPLE.c.lookup_version != version,
    )


def _with_keys(*extra: Any) -> Select[Any]:
    """People with a data key, in id order: id, KEK id, wrapped key and the sealed indexed
    fields (what ``_reindexed`` reads), then ``extra`` columns."""
    return (
        select(
            _PEOPLE.c.id,
            _KEYS.c.kek_id,
            _KEYS.c.wrapped_key,
            *(_PEOPLE.c[name] for name in _INDEXED_FIELDS),
            *extra,
        )
        .select_from(_PEOPLE.join(_KEYS, _KEYS.c.beneficiary_id == _PEOPLE.c.id))
        .order_by(_PEOPLE.c.id)
    )


def count_stale_indexes(session: Session, vault: Vault) -> int:
    """People with an identity whose blind indexes (narrow or wide) are not at the indexer's
    version."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(_PEOPLE.join(_KEYS, _KEYS.c.beneficiary_id == _PEOPLE.c.id))
            .where(_stale(vault.indexer.version))
        )
        or 0
    )


def mark_indexes_stale(session: Session) -> int:
    """Set every index version to NULL (after an index key change); returns how many rows.

    The values stay until each person is re-indexed, but lookups (which ask for the current
    version) no longer use them.
    """
    result = session.connection().execute(
        update(_PEOPLE)
        .where(or_(_PEOPLE.c.index_version.is_not(None), _PEOPLE.c.lookup_version.is_not(None)))
        .values(index_version=None, lookup_version=None)
    )
    return int(result.rowcount)


@dataclass
class _IndexHolder:
    """What ``Vault.index_person`` sets, for one row of a batch."""

    index_version: int | None = None
    name_birth_index: int | None = None
    email_index: int | None = None
    phone_index: int | None = None
    lookup_version: int | None = None
    name_birth_lookup: int | None = None
    email_lookup: int | None = None
    phone_lookup: int | None = None


def reindex_batch(session: Session, vault: Vault, *, limit: int = DEFAULT_BATCH_SIZE) -> int:
    """Recompute the blind indexes of up to ``limit`` stale people; returns how many.

    Each identity is decrypted in memory, indexed as registration indexes it
    (``Vault.index_person``, and the search's name prefixes) and dropped. The batch's rows are
    locked as they are read (PostgreSQL), so that a concurrent edit - which indexes at the
    current version - either comes first and takes its row out of the batch, or waits.
    """
    version = vault.indexer.version
    rows = session.execute(
        _with_keys().where(_stale(version)).limit(limit).with_for_update(of=_PEOPLE)
    ).all()
    if not rows:
        return 0
    changes = [_reindexed(vault, row) for row in rows]
    ids = [change["person"] for change in changes]
    session.connection().execute(delete(_TOKENS).where(_TOKENS.c.beneficiary_id.in_(ids)))
    tokens = [
        {"beneficiary_id": change["person"], "value": value}
        for change in changes
        for value in change.pop("name_prefixes")
    ]
    if tokens:
        session.connection().execute(insert(_TOKENS), tokens)
    session.connection().execute(
        update(_PEOPLE)
        .where(_PEOPLE.c.id == bindparam("person"), _stale(version))
        .values(
            index_version=bindparam("ix_version"),
            name_birth_index=bindparam("ix_name_birth"),
            email_index=bindparam("ix_email"),
            phone_index=bindparam("ix_phone"),
            lookup_version=bindparam("ix_lookup_version"),
            name_birth_lookup=bindparam("ix_name_birth_lookup"),
            email_lookup=bindparam("ix_email_lookup"),
            phone_lookup=bindparam("ix_phone_lookup"),
        ),
        changes,
    )
    audit.append_many(
        session,
        [
            {
                "action": AuditAction.INDEX_REBUILD.value,
                "subject_type": _PEOPLE.name,
                "subject_id": str(version),
                "data": {"reindexed": len(changes), "version": version},
            }
        ],
    )
    return len(changes)


# Stored index columns, by the name ``_reindexed`` gives their computed value.
_NARROW = {
    "ix_name_birth": "name_birth_index",
    "ix_email": "email_index",
    "ix_phone": "phone_index",
}
_WIDE = {
    "ix_name_birth_lookup": "name_birth_lookup",
    "ix_email_lookup": "email_lookup",
    "ix_phone_lookup": "phone_lookup",
}


def sample_matches(session: Session, vault: Vault) -> bool | None:
    """Whether the indexer computes again the stored blind indexes of one person indexed at
    its version (``app/services/security/key_check.py``): ``None`` when there is no such
    person, or when their data key does not open (the key-encryption key's check says so)."""
    version = vault.indexer.version
    stored = [*_NARROW.values(), "lookup_version", *_WIDE.values()]
    row = session.execute(
        _with_keys(*(_PEOPLE.c[name] for name in stored))
        .where(_PEOPLE.c.index_version == version, _PEOPLE.c.name_birth_index.is_not(None))
        .limit(1)
    ).first()
    if row is None:
        return None
    try:
        computed = _reindexed(vault, row[: 3 + len(_INDEXED_FIELDS)])
    except DecryptionError:
        return None
    pairs = dict(_NARROW)
    if row.lookup_version == version:
        pairs.update(_WIDE)
    return all(computed[mine] == row._mapping[theirs] for mine, theirs in pairs.items())


def _reindexed(vault: Vault, row: Sequence[Any]) -> dict[str, Any]:
    person_id: uuid.UUID = row[0]
    key = vault.keys.unwrap(row[1], row[2])
    values = {
        name: vault.open(key, IDENTITY_TABLE, name, person_id, person_id, stored)
        for name, stored in zip(_INDEXED_FIELDS, row[3:], strict=True)
    }
    birth = values["birth_date"]
    holder = _IndexHolder()
    vault.index_person(
        cast(Beneficiary, holder),
        values["last_name"] or "",
        values["first_name"] or "",
        date.fromisoformat(birth) if birth else None,
        values["email"],
        values["phone"],
    )
    return {
        "person": person_id,
        "name_prefixes": sorted(
            vault.indexer.name_prefixes(values["last_name"] or "", values["first_name"] or "")
        ),
        "ix_version": holder.index_version,
        "ix_name_birth": holder.name_birth_index,
        "ix_email": holder.email_index,
        "ix_phone": holder.phone_index,
        "ix_lookup_version": holder.lookup_version,
        "ix_name_birth_lookup": holder.name_birth_lookup,
        "ix_email_lookup": holder.email_lookup,
        "ix_phone_lookup": holder.phone_lookup,
    }
