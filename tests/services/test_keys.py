"""Key operations: KEK rotation re-wraps data keys only; retirement; blind-index rebuild."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any, cast

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.crypto import KeyRing
from app.crypto.blind_index import NORMALISATION_VERSION, BlindIndexer
from app.models import IDENTITY_FIELDS, AuditEvent, Beneficiary, PersonKey
from app.services.errors import Conflict, InvalidInput
from app.services.people.identity import open_identity
from app.services.security import audit_check, keys
from app.services.security.vault import Vault
from tests import factories

NAMES = [("Zephyrin", "Aurélie"), ("Quintavalle", "Marguerite"), ("Ébrard", "Noé")]


def two_kek_vault(app: Flask, ring: KeyRing, active: str = "k2") -> Vault:
    """The test keys plus a second KEK ``k2``; ``active`` wraps new data keys."""
    bigger = KeyRing(
        secret_key=ring.secret_key,
        keks={**ring.keks, "k2": secrets.token_bytes(32)},
        active_kek_id=active,
        index_key=ring.index_key,
        audit_key=ring.audit_key,
    )
    return Vault(bigger, app.config["BLIND_INDEX_BITS"])


def people(session: Session, vault: Vault, count: int) -> list[Beneficiary]:
    worker = factories.user(session)
    made = []
    for n in range(count):
        last, first = NAMES[n % len(NAMES)]
        made.append(
            factories.person(
                session,
                vault,
                worker,
                last_name=f"{last}{'x' * (n // len(NAMES))}",
                first_name=first,
                birth_date=date(2000 + n, 1 + n % 12, 1 + n),
                email=f"person{n}@exemple.fr",
                phone=f"06 12 34 56 {n:02d}",
            )
        )
    session.flush()
    return made


def ciphertexts(session: Session) -> dict[Any, tuple[Any, ...]]:
    columns = [getattr(Beneficiary, name) for name in IDENTITY_FIELDS]
    return {row[0]: tuple(row[1:]) for row in session.execute(select(Beneficiary.id, *columns))}


def identities(session: Session, vault: Vault) -> dict[Any, Any]:
    return {
        person.id: open_identity(vault, session, person)
        for person in session.scalars(select(Beneficiary))
    }


# -- status ----------------------------------------------------------------------------------


def test_status_counts_data_keys_and_index_versions(
    app: Flask, db_session: Session, vault: Vault, keyring: KeyRing
) -> None:
    made = people(db_session, vault, 3)
    db_session.execute(
        update(Beneficiary).where(Beneficiary.id == made[0].id).values(index_version=None)
    )
    db_session.execute(
        update(PersonKey).where(PersonKey.beneficiary_id == made[1].id).values(kek_id="gone")
    )
    status = keys.key_status(db_session, vault)
    assert status.active_kek == keyring.active_kek_id
    assert status.data_keys == {"gone": 1, keyring.active_kek_id: 2}
    assert status.unconfigured_keks == ("gone",)
    assert status.index_rows == {vault.indexer.version: 2, None: 1}
    assert status.stale_index_rows == 1
    assert status.to_reindex == 1
    assert status.people_without_key == 0
    # People registered before the import's lookup indexes existed are to re-index too.
    db_session.execute(
        update(Beneficiary).where(Beneficiary.id == made[2].id).values(lookup_version=None)
    )
    status = keys.key_status(db_session, vault)
    assert (status.stale_index_rows, status.to_reindex) == (1, 2)


# -- rotation -------------------------------------------------------------------------------


def test_rotation_rewraps_data_keys_only(
    app: Flask, db_session: Session, vault: Vault, keyring: KeyRing
) -> None:
    people(db_session, vault, 5)
    before_bytes = ciphertexts(db_session)
    before = identities(db_session, vault)
    new = two_kek_vault(app, keyring)
    old_kek = keyring.active_kek_id
    old_wraps = {
        row.beneficiary_id: bytes(row.wrapped_key)
        for row in db_session.execute(select(PersonKey.beneficiary_id, PersonKey.wrapped_key))
    }

    assert keys.check_rotation(db_session, new, "k2") == 5
    assert keys.rewrap_batch(db_session, new, "k2", limit=2) == 2
    assert keys.check_rotation(db_session, new, "k2") == 3  # the rest is still to do
    while keys.rewrap_batch(db_session, new, "k2", limit=2):
        pass
    db_session.expire_all()

    rows = db_session.scalars(select(PersonKey)).all()
    assert {row.kek_id for row in rows} == {"k2"}
    assert all(row.rewrapped_at is not None for row in rows)
    assert all(bytes(row.wrapped_key) != bytes(old_wraps[row.beneficiary_id]) for row in rows)
    assert ciphertexts(db_session) == before_bytes  # byte-identical
    assert identities(db_session, new) == before  # everything still decrypts
    # The old KEK alone no longer opens anything.
    only_old = Vault(
        KeyRing(
            secret_key=keyring.secret_key,
            keks={old_kek: keyring.keks[old_kek]},
            active_kek_id=old_kek,
            index_key=keyring.index_key,
            audit_key=keyring.audit_key,
        ),
        14,
    )
    with pytest.raises(Exception, match="unknown key-encryption key"):
        identities(db_session, only_old)
    # Again: nothing to do, nothing changes.
    assert keys.rewrap_batch(db_session, new, "k2") == 0
    events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "keys:rotate_kek")
    ).all()
    assert sorted(e.data["rewrapped"] for e in events) == [1, 2, 2]
    assert audit_check.verify_chain(db_session).intact


def test_rotation_refuses_what_cannot_work(
    app: Flask, db_session: Session, vault: Vault, keyring: KeyRing
) -> None:
    made = people(db_session, vault, 2)
    with pytest.raises(InvalidInput, match="not in RELAIS_KEKS"):
        keys.check_rotation(db_session, vault, "k9")
    not_active = two_kek_vault(app, keyring, active=keyring.active_kek_id)
    with pytest.raises(InvalidInput, match="active key-encryption key"):
        keys.check_rotation(db_session, not_active, "k2")
    db_session.execute(
        update(PersonKey).where(PersonKey.beneficiary_id == made[0].id).values(kek_id="gone")
    )
    with pytest.raises(Conflict, match="1 data keys use a key-encryption key that is not"):
        keys.check_rotation(db_session, two_kek_vault(app, keyring), "k2")


def test_a_key_erased_during_a_rotation_is_skipped(
    app: Flask, db_session: Session, vault: Vault, keyring: KeyRing
) -> None:
    made = people(db_session, vault, 2)
    new = two_kek_vault(app, keyring)
    # Erased after the batch read it: the update is conditioned on the KEK it read.
    real_unwrap = new.keys.unwrap
    erased = {"done": False}

    def unwrap_then_erase(kek_id: str, wrapped: bytes) -> Any:
        if not erased["done"]:
            erased["done"] = True
            db_session.execute(
                PersonKey.__table__.delete().where(PersonKey.beneficiary_id == made[0].id)
            )
        return real_unwrap(kek_id, wrapped)

    new.keys = cast(KeyRing, _Proxy(new.keys, unwrap=unwrap_then_erase))
    keys.rewrap_batch(db_session, new, "k2")
    db_session.expire_all()
    assert db_session.get(PersonKey, made[0].id) is None
    assert db_session.get_one(PersonKey, made[1].id).kek_id == "k2"


class _Proxy:
    """A key ring with one method replaced."""

    def __init__(self, ring: KeyRing, **methods: Any) -> None:
        self._ring = ring
        self._methods = methods

    def __getattr__(self, name: str) -> Any:
        return self._methods.get(name) or getattr(self._ring, name)


# -- retirement -----------------------------------------------------------------------------


def test_retire_refuses_while_used_or_active(
    app: Flask, db_session: Session, vault: Vault, keyring: KeyRing
) -> None:
    people(db_session, vault, 2)
    old = keyring.active_kek_id
    with pytest.raises(Conflict, match="is the active key-encryption key"):
        keys.retire_kek(db_session, vault, old)
    new = two_kek_vault(app, keyring)
    with pytest.raises(Conflict, match=f"2 data keys still use {old}"):
        keys.retire_kek(db_session, new, old)
    while keys.rewrap_batch(db_session, new, "k2"):
        pass
    keys.retire_kek(db_session, new, old)  # nothing uses it any more
    keys.retire_kek(db_session, new, "never-configured")


# -- blind indexes --------------------------------------------------------------------------


def index_values(session: Session) -> dict[Any, tuple[Any, ...]]:
    session.expire_all()
    return {
        row[0]: tuple(row[1:])
        for row in session.execute(
            select(
                Beneficiary.id,
                Beneficiary.index_version,
                Beneficiary.name_birth_index,
                Beneficiary.email_index,
                Beneficiary.phone_index,
                Beneficiary.lookup_version,
                Beneficiary.name_birth_lookup,
                Beneficiary.email_lookup,
                Beneficiary.phone_lookup,
            )
        )
    }


def test_rebuild_recomputes_stale_indexes_as_registration_does(
    db_session: Session, vault: Vault
) -> None:
    made = people(db_session, vault, 5)
    expected = index_values(db_session)
    assert all(None not in values for values in expected.values())
    db_session.execute(
        update(Beneficiary)
        .where(Beneficiary.id.in_([p.id for p in made[:4]]))
        .values(index_version=None, name_birth_index=0, email_index=0, phone_index=0)
    )
    db_session.execute(
        update(Beneficiary)
        .where(Beneficiary.id == made[4].id)
        .values(lookup_version=None, name_birth_lookup=None, email_lookup=None, phone_lookup=0)
    )
    assert keys.count_stale_indexes(db_session, vault) == 5  # the fifth: its lookup indexes
    assert keys.reindex_batch(db_session, vault, limit=3) == 3
    assert keys.count_stale_indexes(db_session, vault) == 2
    assert keys.reindex_batch(db_session, vault, limit=3) == 2
    assert keys.reindex_batch(db_session, vault, limit=3) == 0
    assert index_values(db_session) == expected
    assert audit_check.verify_chain(db_session).intact


def test_rebuild_after_a_normalisation_version_change(
    app: Flask, db_session: Session, vault: Vault, keyring: KeyRing
) -> None:
    people(db_session, vault, 3)
    newer = Vault(keyring, app.config["BLIND_INDEX_BITS"])
    newer.indexer = BlindIndexer(
        keyring.index_key, app.config["BLIND_INDEX_BITS"], version=NORMALISATION_VERSION + 1
    )
    assert keys.count_stale_indexes(db_session, newer) == 3
    while keys.reindex_batch(db_session, newer, limit=2):
        pass
    values = index_values(db_session)
    assert {v[0] for v in values.values()} == {NORMALISATION_VERSION + 1}
    for person in db_session.scalars(select(Beneficiary)):
        identity = open_identity(newer, db_session, person)
        probe = Beneficiary()
        newer.index_person(
            probe,
            identity.last_name,
            identity.first_name,
            identity.birth_date,
            identity.email,
            identity.phone,
        )
        assert values[person.id][1:] == (
            probe.name_birth_index,
            probe.email_index,
            probe.phone_index,
            NORMALISATION_VERSION + 1,
            probe.name_birth_lookup,
            probe.email_lookup,
            probe.phone_lookup,
        )


def test_rebuild_after_an_index_key_change_marks_everything_first(
    app: Flask, db_session: Session, vault: Vault, keyring: KeyRing
) -> None:
    people(db_session, vault, 3)
    before = index_values(db_session)
    new_ring = KeyRing(
        secret_key=keyring.secret_key,
        keks=keyring.keks,
        active_kek_id=keyring.active_kek_id,
        index_key=secrets.token_bytes(32),
        audit_key=keyring.audit_key,
    )
    new = Vault(new_ring, app.config["BLIND_INDEX_BITS"])
    assert keys.count_stale_indexes(db_session, new) == 0  # the version cannot see a key change
    assert keys.mark_indexes_stale(db_session) == 3
    while keys.reindex_batch(db_session, new):
        pass
    after = index_values(db_session)
    assert after.keys() == before.keys()
    assert {v[0] for v in after.values()} == {new.indexer.version}
    assert {v[4] for v in after.values()} == {new.indexer.version}
    # Nine truncated HMACs under another key, all equal by chance: about 2**-126.
    assert [v[1:4] for v in after.values()] != [v[1:4] for v in before.values()]
    assert [v[5:] for v in after.values()] != [v[5:] for v in before.values()]


def test_people_without_a_data_key_are_not_reindexed(db_session: Session, vault: Vault) -> None:
    made = people(db_session, vault, 2)
    db_session.execute(PersonKey.__table__.delete().where(PersonKey.beneficiary_id == made[0].id))
    db_session.execute(update(Beneficiary).values(index_version=None))
    assert keys.count_stale_indexes(db_session, vault) == 1
    assert keys.reindex_batch(db_session, vault) == 1
    assert keys.reindex_batch(db_session, vault) == 0
    status = keys.key_status(db_session, vault)
    assert status.people_without_key == 1
