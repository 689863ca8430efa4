"""Key operations: which keys the data uses, KEK rotation and retirement, blind-index rebuild.

Every change is made in batches the caller commits one by one (``flask --app app keys ...``),
each batch with its audit event; every batch selects only rows still to do, so an interrupted
run is resumed by running the command again, and a finished run run again changes nothing.

* **Rotation** re-wraps data keys only: a person's data key (its id and secret) is unwrapped
  with its KEK and wrapped again with the target KEK; field ciphertexts are not touched.
* **Retirement** writes nothing: it refuses while a data key still uses the KEK (or while the
  KEK is the active one), and otherwise confirms it may leave ``RELAIS_KEKS``.
* **Index rebuild** recomputes the blind indexes of every person whose ``index_version`` (or
  ``lookup_version``: the import's wide lookup indexes) is not the indexer's, from the
  decrypted identity - which also fills the lookup indexes of people registered before they
  existed. After a change of ``RELAIS_INDEX_KEY`` (which the versions cannot see),
  ``mark_indexes_stale`` first sets every version to NULL.

Nothing here returns or logs a key, a wrapped key, an identity value or an index value:
counts and KEK ids only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, bindparam, exists, func, select, update
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.models import Beneficiary, NameSearchToken, PersonKey
from app.models.base import utcnow
from app.services.errors import N_, Conflict, InvalidInput
from app.services.security import audit, second_factor
from app.services.security.index_rebuild import (
    count_stale_indexes,
    mark_indexes_stale,
    reindex_batch,
)
from app.services.security.vault import Vault
from app.services.webhooks import endpoints as webhook_endpoints

DEFAULT_BATCH_SIZE = 500
_KEYS = cast(Table, PersonKey.__table__)
_PEOPLE = cast(Table, Beneficiary.__table__)
_TOKENS = cast(Table, NameSearchToken.__table__)
_INDEXED_FIELDS = ("last_name", "first_name", "birth_date", "email", "phone")


# -- status ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyStatus:
    """Counts only: data keys per KEK id, people per blind-index version."""

    active_kek: str
    configured_keks: tuple[str, ...]
    data_keys: dict[str, int]
    index_version: int
    index_rows: dict[int | None, int]
    people_without_key: int
    unconfigured_keks: tuple[str, ...] = field(default=())
    # People whose narrow or wide (import lookup) indexes are not current: what
    # ``keys rebuild-index`` would do.
    to_reindex: int = 0

    @property
    def stale_index_rows(self) -> int:
        return sum(n for version, n in self.index_rows.items() if version != self.index_version)


def key_status(session: Session, vault: Vault) -> KeyStatus:
    data_keys = {
        str(kek): int(n)
        for kek, n in session.execute(
            select(PersonKey.kek_id, func.count()).group_by(PersonKey.kek_id)
        )
    }
    # Index versions of the people who still have an identity (a data key).
    index_rows = {
        (None if version is None else int(version)): int(n)
        for version, n in session.execute(
            select(Beneficiary.index_version, func.count())
            .join(PersonKey, PersonKey.beneficiary_id == Beneficiary.id)
            .group_by(Beneficiary.index_version)
        )
    }
    without_key = session.scalar(
        select(func.count())
        .select_from(Beneficiary)
        .where(~exists().where(PersonKey.beneficiary_id == Beneficiary.id))
    )
    configured = tuple(vault.keys.keks)
    return KeyStatus(
        active_kek=vault.keys.active_kek_id,
        configured_keks=configured,
        data_keys=dict(sorted(data_keys.items())),
        index_version=vault.indexer.version,
        index_rows=dict(sorted(index_rows.items(), key=lambda item: (item[0] is None, item[0]))),
        people_without_key=int(without_key or 0),
        unconfigured_keks=tuple(sorted(k for k in data_keys if k not in configured)),
        to_reindex=count_stale_indexes(session, vault),
    )


# -- rotation -------------------------------------------------------------------------------


def check_rotation(session: Session, vault: Vault, to_kek: str) -> int:
    """Refuse a rotation that cannot work; otherwise the number of data keys to re-wrap."""
    ring = vault.keys
    if to_kek not in ring.keks:
        raise InvalidInput(
            N_("The key-encryption key %(kek)s is not in RELAIS_KEKS."), field="to", kek=to_kek
        )
    if to_kek != ring.active_kek_id:
        raise InvalidInput(
            N_(
                "Make %(kek)s the active key-encryption key (RELAIS_ACTIVE_KEK) first, "
                "so that new data keys are wrapped with it too."
            ),
            field="to",
            kek=to_kek,
        )
    unconfigured = session.scalar(
        select(func.count()).select_from(PersonKey).where(PersonKey.kek_id.not_in(list(ring.keks)))
    )
    unconfigured = (
        int(unconfigured or 0)
        + second_factor.keys_not_in(session, list(ring.keks))
        + webhook_endpoints.keys_not_in(session, list(ring.keks))
    )
    if unconfigured:
        raise Conflict(
            N_(
                "%(count)s data keys use a key-encryption key that is not in RELAIS_KEKS: "
                "add it back before rotating."
            ),
            count=int(unconfigured),
        )
    return _count_not_on(session, to_kek)


def _count_not_on(session: Session, kek: str) -> int:
    people = session.scalar(
        select(func.count()).select_from(PersonKey).where(PersonKey.kek_id != kek)
    )
    return (
        int(people or 0)
        + second_factor.keys_on(session, kek, on=False)
        + webhook_endpoints.keys_on(session, kek, on=False)
    )


def rewrap_batch(
    session: Session, vault: Vault, to_kek: str, *, limit: int = DEFAULT_BATCH_SIZE
) -> int:
    """Re-wrap up to ``limit`` data keys that are not under ``to_kek`` yet; returns how many.

    The data key itself does not change, so neither does any ciphertext. Each new wrap is
    unwrapped again and compared before it is written. A key erased meanwhile is skipped
    (the update is conditioned on the KEK read).
    """
    rows = session.execute(
        select(_KEYS.c.beneficiary_id, _KEYS.c.kek_id, _KEYS.c.wrapped_key)
        .where(_KEYS.c.kek_id != to_kek)
        .order_by(_KEYS.c.beneficiary_id)
        .limit(limit)
    ).all()
    if not rows:
        # The people's keys are done: then the accounts' second-factor keys, then the
        # webhook endpoints' keys.
        subject = "users"
        done = second_factor.rewrap_keys(session, vault.keys, to_kek, limit=limit)
        if not done:
            subject = "webhook_endpoints"
            done = webhook_endpoints.rewrap_keys(session, vault.keys, to_kek, limit=limit)
        if done:
            audit.append_many(
                session,
                [
                    {
                        "action": AuditAction.KEK_ROTATE.value,
                        "subject_type": subject,
                        "subject_id": to_kek,
                        "data": {"rewrapped": done, "to": to_kek},
                    }
                ],
            )
        return done
    ring = vault.keys
    now = utcnow()
    changes: list[dict[str, Any]] = []
    for person_id, old_kek, wrapped in rows:
        data_key = ring.unwrap(old_kek, wrapped)
        new_kek, rewrapped = ring.wrap(data_key, to_kek)
        if ring.unwrap(new_kek, rewrapped) != data_key:  # pragma: no cover - AES-KW round trip
            raise RuntimeError("a re-wrapped data key does not unwrap to the same key")
        changes.append(
            {
                "person": person_id,
                "old_kek": old_kek,
                "new_kek": new_kek,
                "wrapped": rewrapped,
                "now": now,
            }
        )
    session.connection().execute(
        update(_KEYS)
        .where(
            _KEYS.c.beneficiary_id == bindparam("person"),
            _KEYS.c.kek_id == bindparam("old_kek"),
        )
        .values(
            kek_id=bindparam("new_kek"),
            wrapped_key=bindparam("wrapped"),
            rewrapped_at=bindparam("now"),
        ),
        changes,
    )
    audit.append_many(
        session,
        [
            {
                "action": AuditAction.KEK_ROTATE.value,
                "subject_type": _KEYS.name,
                "subject_id": to_kek,
                "data": {"rewrapped": len(changes), "to": to_kek},
            }
        ],
    )
    return len(changes)


# -- retirement -----------------------------------------------------------------------------


def retire_kek(session: Session, vault: Vault, kek: str) -> None:
    """Refuse while ``kek`` is active or wraps a data key; otherwise return (nothing to write).

    What "retired" means: no data key in the database needs it any more, so it can leave
    ``RELAIS_KEKS``. Backups taken before the rotation still hold data keys wrapped by it:
    destroy it only after the backup-retention window.
    """
    if kek == vault.keys.active_kek_id:
        raise Conflict(
            N_("%(kek)s is the active key-encryption key: rotate to another one first."), kek=kek
        )
    users = session.scalar(
        select(func.count()).select_from(PersonKey).where(PersonKey.kek_id == kek)
    )
    users = (
        int(users or 0)
        + second_factor.keys_on(session, kek)
        + webhook_endpoints.keys_on(session, kek)
    )
    if users:
        raise Conflict(
            N_("%(count)s data keys still use %(kek)s: run keys rotate-kek first."),
            count=int(users),
            kek=kek,
        )


__all__ = [
    "KeyStatus",
    "check_rotation",
    "count_stale_indexes",
    "key_status",
    "mark_indexes_stale",
    "reindex_batch",
    "retire_kek",
    "rewrap_batch",
]
