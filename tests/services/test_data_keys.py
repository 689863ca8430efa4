"""Data-key rotation: new data keys, every field re-encrypted, values and blind indexes
unchanged, the old key no longer used, audited, and resumable after a crash."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any, cast

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import LargeBinary, Table, func, select, text, update
from sqlalchemy.orm import Session

from app.crypto import DataKey, DecryptionError
from app.crypto.fields import KEY_ID_SIZE
from app.domain.audit import AuditAction
from app.domain.handoffs import HandoffEvent
from app.extensions import db
from app.models import (
    AuditEvent,
    Barrier,
    Base,
    Beneficiary,
    Handoff,
    HandoffTransition,
    NameSearchToken,
    PathwayStep,
    PersonKey,
)
from app.services.errors import Conflict, NotFound
from app.services.handoffs.history import record_transition
from app.services.pathways.recording import add_barrier, add_step
from app.services.security import audit_check, data_keys
from app.services.security.vault import Vault
from tests import factories

TODAY = date(2026, 11, 20)
TEXTS = {
    "action": "Atelier CV chez Quorvane",
    "employer": "Boulangerie Quorvane",
    "detail": "Logement chez un tiers",
    "note": "Rappeler le matin",
    "message": "Places pleines ce mois",
}


def _network(session: Session, vault: Vault, count: int) -> list[Beneficiary]:
    """``count`` people, each with a step, a barrier, a hand-off and a transition message."""
    worker = factories.user(session)
    partner = factories.structure(session)
    made = []
    for n in range(count):
        person = factories.person(
            session,
            vault,
            worker,
            last_name=f"Zorvexa{'abcdefgh'[n]}",
            first_name="Ilwen",
            birth_date=date(2001, 2, 1 + n),
            email=f"ilwen{n}@exemple.fr",
        )
        add_step(
            session,
            vault,
            worker,
            person,
            stage_code="employment",
            started_on=date(2026, 10, 1),
            action=TEXTS["action"],
            employer=TEXTS["employer"],
            today=TODAY,
        )
        add_barrier(
            session,
            worker,
            person,
            category_code="housing",
            identified_on=date(2026, 10, 2),
            detail=TEXTS["detail"],
            vault=vault,
            today=TODAY,
        )
        handoff = factories.handoff(session, vault, worker, person, partner, note=TEXTS["note"])
        record_transition(
            session,
            vault,
            worker,
            handoff,
            HandoffEvent.REMIND,
            handoff.status,
            datetime(2026, 11, 20, 10, tzinfo=UTC),
            None,
            TEXTS["message"],
        )
        made.append(person)
    session.flush()
    return made


def _sealed(session: Session, person_id: uuid.UUID) -> list[tuple[str, str, Any, bytes]]:
    """Every ciphertext of a person, read table by table (not through the service's list)."""
    found: list[tuple[str, str, Any, bytes]] = []
    person = session.get(Beneficiary, person_id)
    assert person is not None
    for name in ("last_name", "first_name", "birth_date", "email", "phone", "address"):
        found.append(("beneficiaries", name, person_id, getattr(person, name)))
    for step in session.scalars(select(PathwayStep).where(PathwayStep.beneficiary_id == person_id)):
        found += [("pathway_steps", "action", step.id, step.action)]
        found += [("pathway_steps", "employer", step.id, step.employer)]
    for barrier in session.scalars(select(Barrier).where(Barrier.beneficiary_id == person_id)):
        found.append(("barriers", "detail", barrier.id, barrier.detail))
    for handoff in session.scalars(select(Handoff).where(Handoff.beneficiary_id == person_id)):
        found.append(("handoffs", "note", handoff.id, handoff.note))
        for event in session.scalars(
            select(HandoffTransition).where(HandoffTransition.handoff_id == handoff.id)
        ):
            if event.message is not None:
                found.append(("handoff_transitions", "message", event.id, event.message))
    assert all(stored is not None for *_, stored in found)
    return [(table, column, row, bytes(stored)) for table, column, row, stored in found]


def _opened(session: Session, vault: Vault, person_id: uuid.UUID, key: DataKey) -> list[str]:
    return [
        str(Vault.open(key, table, column, row, person_id, stored))
        for table, column, row, stored in _sealed(session, person_id)
    ]


def _indexes(session: Session) -> dict[Any, tuple[Any, ...]]:
    rows = session.execute(
        select(
            Beneficiary.id,
            Beneficiary.index_version,
            Beneficiary.name_birth_index,
            Beneficiary.email_index,
            Beneficiary.phone_index,
        )
    )
    tokens = session.execute(select(NameSearchToken.beneficiary_id, NameSearchToken.value)).all()
    return {row[0]: (*row[1:], sorted(v for p, v in tokens if p == row[0])) for row in rows}


def test_every_field_ciphertext_of_the_schema_is_rotated() -> None:
    """A new encrypted column must join ``SEALED_COLUMNS``, or rotation would make it
    unreadable."""
    covered = {
        (sealed.table.name, column)
        for sealed in data_keys.SEALED_COLUMNS
        for column in sealed.columns
    }
    not_fields = {
        ("person_keys", "wrapped_key"),
        ("audit_events", "mac"),
        ("audit_chain_head", "mac"),
        # A month's seal: the chain's MAC at its end, a keyed digest of its rows, its tag.
        ("audit_seals", "last_mac"),
        ("audit_seals", "digest"),
        ("audit_seals", "tag"),
        # An account's second-factor seed, under the account's own data key (re-wrapped by
        # ``keys rotate-kek``): no person's data key.
        ("users", "second_factor_key"),
        ("users", "second_factor_seed"),
        # A webhook endpoint's secret, likewise under the endpoint's own data key.
        ("webhook_endpoints", "secret_key"),
        ("webhook_endpoints", "secret"),
        # The answer of an API POST kept for its Idempotency-Key: pseudonyms and ids only,
        # stored as it was sent (app/models/api.py).
        ("api_idempotency_keys", "response"),
    }
    binary = {
        (table.name, column.name)
        for table in Base.metadata.sorted_tables
        for column in cast(Table, table).columns
        if isinstance(column.type, LargeBinary)
    }
    assert binary - not_fields == covered


def test_rotation_replaces_the_key_and_keeps_every_value(
    app: Flask, db_session: Session, vault: Vault
) -> None:
    made = _network(db_session, vault, 3)
    target, other = made[0], made[1]
    old_key = vault.person_key(db_session, target.id)
    old_wrap = bytes(db_session.get(PersonKey, target.id).wrapped_key)  # type: ignore[union-attr]
    before = {
        p.id: _opened(db_session, vault, p.id, vault.person_key(db_session, p.id)) for p in made
    }
    other_bytes = _sealed(db_session, other.id)
    indexes = _indexes(db_session)
    assert set(TEXTS.values()) <= set(before[target.id])

    assert data_keys.request_rotation(db_session, target) == 1
    assert data_keys.rotate_batch(db_session, vault) == 1
    assert data_keys.rotate_batch(db_session, vault) == 0
    db_session.expire_all()

    row = db_session.get(PersonKey, target.id)
    assert row is not None
    assert bytes(row.wrapped_key) != old_wrap
    assert not row.rotation_requested
    assert row.rotated_at is not None
    new_key = vault.person_key(db_session, target.id)
    assert new_key.key_id != old_key.key_id
    assert new_key.secret != old_key.secret
    assert _opened(db_session, vault, target.id, new_key) == before[target.id]
    for table, column, row_id, stored in _sealed(db_session, target.id):
        assert stored[1 : 1 + KEY_ID_SIZE] == new_key.key_id  # the old key seals nothing
        with pytest.raises(DecryptionError):
            Vault.open(old_key, table, column, row_id, target.id, stored)
    assert _sealed(db_session, other.id) == other_bytes  # the others are untouched
    assert _indexes(db_session) == indexes

    events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.DATA_KEY_ROTATE.value)
    ).all()
    assert [(e.beneficiary_id, e.subject_id) for e in events] == [(target.id, str(target.id))]
    assert events[0].data == {"fields": len(before[target.id]), "kek": vault.keys.active_kek_id}
    assert audit_check.verify_chain(db_session).intact


def test_rotation_of_everyone_in_batches_is_resumable(
    app: Flask, db_session: Session, vault: Vault
) -> None:
    made = _network(db_session, vault, 5)
    before = {
        p.id: _opened(db_session, vault, p.id, vault.person_key(db_session, p.id)) for p in made
    }
    old_ids = {p.id: vault.person_key(db_session, p.id).key_id for p in made}
    assert data_keys.request_rotation(db_session) == 5
    assert data_keys.rotate_batch(db_session, vault, limit=2) == 2

    # A batch that fails half-way (here: an altered ciphertext) writes nothing.
    victim = sorted(p.id for p in made)[2]
    good = db_session.scalar(select(Barrier.detail).where(Barrier.beneficiary_id == victim))
    db_session.execute(
        update(Barrier).where(Barrier.beneficiary_id == victim).values(detail=b"\x01" * 41)
    )
    savepoint = db_session.begin_nested()
    with pytest.raises(DecryptionError):
        data_keys.rotate_batch(db_session, vault, limit=2)
    savepoint.rollback()
    db_session.execute(update(Barrier).where(Barrier.beneficiary_id == victim).values(detail=good))
    db_session.expire_all()
    assert data_keys.count_pending(db_session) == 3
    for person in made:  # everyone readable, on the old key or the new one
        key = vault.person_key(db_session, person.id)
        assert _opened(db_session, vault, person.id, key) == before[person.id]

    while data_keys.rotate_batch(db_session, vault, limit=2):
        pass
    db_session.expire_all()
    assert data_keys.count_pending(db_session) == 0
    for person in made:
        key = vault.person_key(db_session, person.id)
        assert key.key_id != old_ids[person.id]
        assert _opened(db_session, vault, person.id, key) == before[person.id]


def test_rotation_refuses_an_unknown_or_erased_person(
    app: Flask, db_session: Session, vault: Vault
) -> None:
    (person,) = _network(db_session, vault, 1)
    with pytest.raises(NotFound, match="Nobody has the pseudonym NOPE-42"):
        data_keys.person_by_pseudonym(db_session, " nope-42 ")
    assert data_keys.person_by_pseudonym(db_session, person.pseudonym.lower()) is person
    db_session.execute(text("DELETE FROM person_keys"))
    with pytest.raises(Conflict, match="was erased"):
        data_keys.request_rotation(db_session, person)


# -- the command ---------------------------------------------------------------------------


def _key_ids(session: Session, vault: Vault) -> dict[Any, bytes]:
    return {
        row.beneficiary_id: vault.keys.unwrap(row.kek_id, row.wrapped_key).key_id
        for row in session.scalars(select(PersonKey))
    }


def test_command_rotates_one_person_or_everyone(
    runner: FlaskCliRunner, db_session: Session, vault: Vault
) -> None:
    made = _network(db_session, vault, 3)
    pseudonym = made[1].pseudonym
    db_session.commit()
    before = _key_ids(db.session(), vault)

    one = runner.invoke(args=["keys", "rotate-data-keys", "--person", pseudonym])
    assert one.exit_code == 0, one.output
    assert "Replaced 1 data keys (fields re-encrypted); 0 left." in one.stdout
    after_one = _key_ids(db.session(), vault)
    assert [p.id for p in made if after_one[p.id] != before[p.id]] == [made[1].id]

    everyone = runner.invoke(args=["keys", "rotate-data-keys", "--all", "--batch-size", "2"])
    assert everyone.exit_code == 0, everyone.output
    assert "3 data key(s) to replace." in everyone.stdout
    assert "Replaced 3 data keys" in everyone.stdout
    assert "Replacing data keys" in everyone.stderr  # the progress line
    after_all = _key_ids(db.session(), vault)
    assert all(after_all[p.id] not in (before[p.id], after_one[p.id]) for p in made)
    for value in (*TEXTS.values(), "Zorvexa", "Ilwen", "exemple.fr"):
        assert value not in everyone.output


def test_command_resumes_after_a_crash(
    runner: FlaskCliRunner, db_session: Session, vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [p.id for p in _network(db_session, vault, 4)]
    db_session.commit()
    real = data_keys.rotate_batch
    calls = []

    def crash_on_second(session: Session, vault_: Vault, *, limit: int) -> int:
        calls.append(limit)
        if len(calls) == 2:
            real(session, vault_, limit=limit)  # written, then lost: the batch is rolled back
            raise KeyboardInterrupt
        return real(session, vault_, limit=limit)

    monkeypatch.setattr(data_keys, "rotate_batch", crash_on_second)
    stopped = runner.invoke(args=["keys", "rotate-data-keys", "--all", "--batch-size", "1"])
    assert stopped.exit_code == 1
    assert "stopped (KeyboardInterrupt)" in stopped.output
    assert "1 people's keys were replaced" in stopped.output
    session = db.session()
    assert data_keys.count_pending(session) == 3
    for person_id in ids:  # all readable
        key = vault.person_key(session, person_id)
        assert _opened(session, vault, person_id, key)[0].startswith("Zorvexa")

    monkeypatch.setattr(data_keys, "rotate_batch", real)
    resumed = runner.invoke(args=["keys", "rotate-data-keys"])
    assert resumed.exit_code == 0, resumed.output
    assert "Replaced 3 data keys (fields re-encrypted); 0 left." in resumed.stdout
    session = db.session()
    rotated = session.scalar(
        select(func.count()).select_from(PersonKey).where(PersonKey.rotated_at.is_not(None))
    )
    assert rotated == 4


def test_command_refuses_bad_arguments(
    runner: FlaskCliRunner, db_session: Session, vault: Vault
) -> None:
    pseudonym = _network(db_session, vault, 1)[0].pseudonym
    db_session.commit()
    unknown = runner.invoke(args=["keys", "rotate-data-keys", "--person", "XX-000"])
    assert unknown.exit_code == 1
    assert "Nobody has the pseudonym XX-000." in unknown.output
    both = runner.invoke(args=["keys", "rotate-data-keys", "--person", pseudonym, "--all"])
    assert both.exit_code == 2
    assert "not both" in both.output
    nothing = runner.invoke(args=["keys", "rotate-data-keys"])
    assert nothing.exit_code == 0
    assert "No data key waits to be replaced" in nothing.stdout
