"""``flask keys``: status, rotate-kek, retire-kek, rebuild-index - idempotent, resumable, and
with counts only in their output."""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.crypto import KeyRing
from app.crypto.blind_index import NORMALISATION_VERSION
from app.crypto.keyring import encode_key
from app.extensions import db
from app.models import AuditEvent, Beneficiary, PersonKey, User
from app.services.people.duplicates import find_possible_duplicates
from app.services.people.identity import Identity, clean_identity
from app.services.security import audit, audit_check, keys
from app.services.security.key_check import EXTENSION as KEY_GUARD
from app.services.security.key_check import KeyGuard
from app.services.security.vault import Vault
from tests import factories
from tests.services.test_keys import ciphertexts, identities, index_values, people, two_kek_vault

PERSONAL = ("Zephyrin", "Aurélie", "Quintavalle", "Marguerite", "exemple.fr", "+3361234")


@pytest.fixture
def rotated(app: Flask, keyring: KeyRing, monkeypatch: pytest.MonkeyPatch) -> Vault:
    """The application with a second KEK ``k2``, made active (the old one still configured)."""
    new = two_kek_vault(app, keyring)
    monkeypatch.setitem(app.extensions, "relais_vault", new)
    return new


def _clean(output: str, *rings: KeyRing) -> None:
    """No personal value, key or wrapped key in a command's output."""
    for value in PERSONAL:
        assert value not in output
    for ring in rings:
        for secret in (*ring.keks.values(), ring.index_key, ring.audit_key, ring.secret_key):
            assert encode_key(secret) not in output
            assert secret.hex() not in output
    for wrapped in db.session().scalars(select(PersonKey.wrapped_key)):
        assert bytes(wrapped).hex() not in output


def _on(kek: str) -> int:
    return int(
        db.session().scalar(
            select(func.count()).select_from(PersonKey).where(PersonKey.kek_id == kek)
        )
        or 0
    )


def _run_with(app: Flask, monkeypatch: pytest.MonkeyPatch, ring: KeyRing) -> None:
    """The commands run with ``ring``'s keys (the same database)."""
    monkeypatch.setitem(app.extensions, "relais_vault", Vault(ring, app.config["BLIND_INDEX_BITS"]))


def test_status_shows_counts_only(
    runner: FlaskCliRunner, db_session: Session, vault: Vault, keyring: KeyRing
) -> None:
    people(db_session, vault, 3)
    db_session.commit()
    result = runner.invoke(args=["keys", "status"])
    assert result.exit_code == 0, result.output
    assert f"  {keyring.active_kek_id}: 3 (active)" in result.output
    assert f"  {NORMALISATION_VERSION}: 3 (current)" in result.output
    assert "People to re-index: 0" in result.output
    _clean(result.output, keyring)


def test_status_fails_when_a_used_kek_is_not_configured(
    runner: FlaskCliRunner, db_session: Session, vault: Vault
) -> None:
    made = people(db_session, vault, 1)
    db_session.execute(
        update(PersonKey).where(PersonKey.beneficiary_id == made[0].id).values(kek_id="old")
    )
    db_session.commit()
    result = runner.invoke(args=["keys", "status"])
    assert result.exit_code == 1
    assert "  old: 1 (NOT CONFIGURED)" in result.output
    assert "not in RELAIS_KEKS" in result.output


def test_check_tries_each_key_and_fails_on_the_one_that_does_not_match(
    app: Flask,
    runner: FlaskCliRunner,
    db_session: Session,
    vault: Vault,
    keyring: KeyRing,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    people(db_session, vault, 2)
    db_session.commit()
    result = runner.invoke(args=["keys", "check"])
    assert result.exit_code == 0, result.output
    assert f"MATCHES   RELAIS_KEKS[{keyring.active_kek_id}]: it unwraps a person's data key" in (
        result.output
    )
    assert "MATCHES   RELAIS_INDEX_KEY" in result.output
    _clean(result.output, keyring)

    # The same database beside another keys file: its KEK under the same id.
    restored = replace(keyring, keks={keyring.active_kek_id: secrets.token_bytes(32)})
    _run_with(app, monkeypatch, restored)
    result = runner.invoke(args=["keys", "check"])
    assert result.exit_code == 1
    assert f"MISMATCH  RELAIS_KEKS[{keyring.active_kek_id}]" in result.output
    assert "1 key(s) do not match this database" in result.output
    _clean(result.output, keyring, restored)


def test_rotate_then_again_then_retire(
    runner: FlaskCliRunner, db_session: Session, vault: Vault, keyring: KeyRing, rotated: Vault
) -> None:
    people(db_session, vault, 5)
    db_session.commit()
    old = keyring.active_kek_id
    before_bytes = ciphertexts(db_session)
    before = identities(db_session, vault)

    refused = runner.invoke(args=["keys", "retire-kek", old])
    assert refused.exit_code == 1
    assert f"5 data keys still use {old}" in refused.output

    result = runner.invoke(args=["keys", "rotate-kek", "--to", "k2", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    assert "Re-wrapped 5 data keys with k2; 0 use another KEK." in result.stdout
    assert "Re-wrapping" in result.stderr  # the progress bar, on standard error
    _clean(result.output, keyring, rotated.keys)
    session = db.session()
    assert _on(old) == 0
    assert _on("k2") == 5
    assert ciphertexts(session) == before_bytes
    assert identities(session, rotated) == before

    again = runner.invoke(args=["keys", "rotate-kek", "--to", "k2"])
    assert again.exit_code == 0, again.output
    assert "Re-wrapped 0 data keys" in again.stdout
    assert ciphertexts(db.session()) == before_bytes

    retired = runner.invoke(args=["keys", "retire-kek", old])
    assert retired.exit_code == 0, retired.output
    assert f"No data key uses {old}" in retired.output
    assert f"Remove {old} from RELAIS_KEKS" in retired.output
    active = runner.invoke(args=["keys", "retire-kek", "k2"])
    assert active.exit_code == 1
    assert "is the active key-encryption key" in active.output
    assert audit_check.verify_chain(db.session()).intact


def test_retiring_a_kek_that_is_not_configured_is_refused(
    runner: FlaskCliRunner, keyring: KeyRing, rotated: Vault
) -> None:
    """A mistyped id is not "retired": the command exits 1 and lists the configured ids."""
    result = runner.invoke(args=["keys", "retire-kek", "nope"])
    assert result.exit_code == 1
    assert "nope is not a key-encryption key of RELAIS_KEKS" in result.output
    assert f"its ids: {', '.join(sorted(rotated.keys.keks))})" in result.output
    assert "it is retired" not in result.output
    _clean(result.output, keyring, rotated.keys)


def test_an_interrupted_rotation_keeps_its_committed_batches_and_resumes(
    runner: FlaskCliRunner,
    db_session: Session,
    vault: Vault,
    keyring: KeyRing,
    rotated: Vault,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    people(db_session, vault, 5)
    db_session.commit()
    before_bytes = ciphertexts(db_session)
    real = keys.rewrap_batch
    calls = {"n": 0}

    def second_batch_fails(*args: Any, **kwargs: Any) -> int:
        calls["n"] += 1
        done = real(*args, **kwargs)  # the batch's writes happen, then the failure
        if calls["n"] == 2:
            raise RuntimeError("power cut")
        return done

    monkeypatch.setattr(keys, "rewrap_batch", second_batch_fails)
    result = runner.invoke(args=["keys", "rotate-kek", "--to", "k2", "--batch-size", "2"])
    assert result.exit_code == 1
    assert "stopped (RuntimeError: power cut): 2 rows were changed and committed" in result.output
    assert _on("k2") == 2  # the first batch only: the second was rolled back
    assert _on(keyring.active_kek_id) == 3
    rotate_events = db.session().scalar(
        select(func.count()).where(audit._EVENTS.c.action == "keys:rotate_kek")
    )
    assert rotate_events == 1  # the rolled-back batch took its audit event with it

    monkeypatch.setattr(keys, "rewrap_batch", real)
    resumed = runner.invoke(args=["keys", "rotate-kek", "--to", "k2", "--batch-size", "2"])
    assert resumed.exit_code == 0, resumed.output
    assert "Re-wrapped 3 data keys with k2; 0 use another KEK." in resumed.stdout
    assert _on("k2") == 5
    assert ciphertexts(db.session()) == before_bytes
    assert audit_check.verify_chain(db.session()).intact


@pytest.mark.parametrize(
    ("target", "message"),
    [("k9", "is not in RELAIS_KEKS"), ("k1", "Make k1 the active")],
)
def test_rotate_refuses_an_unknown_or_inactive_target(
    runner: FlaskCliRunner, db_session: Session, rotated: Vault, target: str, message: str
) -> None:
    result = runner.invoke(args=["keys", "rotate-kek", "--to", target])
    assert result.exit_code == 1
    assert message in result.output


def test_rebuild_index_resumes_and_is_idempotent(
    runner: FlaskCliRunner,
    db_session: Session,
    vault: Vault,
    keyring: KeyRing,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    people(db_session, vault, 5)
    expected = index_values(db_session)
    db_session.execute(update(Beneficiary).values(index_version=None, email_index=1, phone_index=1))
    db_session.commit()
    real = keys.reindex_batch
    calls = {"n": 0}

    def second_batch_fails(*args: Any, **kwargs: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(keys, "reindex_batch", second_batch_fails)
    result = runner.invoke(args=["keys", "rebuild-index", "--batch-size", "2"])
    assert result.exit_code == 1
    assert "2 rows were changed and committed before" in result.output
    assert keys.count_stale_indexes(db.session(), vault) == 3

    monkeypatch.setattr(keys, "reindex_batch", real)
    resumed = runner.invoke(args=["keys", "rebuild-index", "--batch-size", "2"])
    assert resumed.exit_code == 0, resumed.output
    assert (
        f"Re-indexed 3 people at index version {NORMALISATION_VERSION}; 0 left." in resumed.stdout
    )
    assert "Re-indexing" in resumed.stderr
    assert index_values(db.session()) == expected
    _clean(resumed.output, keyring)

    again = runner.invoke(args=["keys", "rebuild-index"])
    assert "Re-indexed 0 people" in again.stdout
    assert index_values(db.session()) == expected


def test_rebuild_index_all_after_an_index_key_change(
    app: Flask,
    runner: FlaskCliRunner,
    db_session: Session,
    vault: Vault,
    keyring: KeyRing,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    people(db_session, vault, 3)
    worker_id = factories.user(db_session).id
    db_session.commit()
    new_ring = KeyRing(
        secret_key=keyring.secret_key,
        keks=keyring.keks,
        active_kek_id=keyring.active_kek_id,
        index_key=KeyRing.generate().index_key,
        audit_key=keyring.audit_key,
    )
    new = Vault(new_ring, app.config["BLIND_INDEX_BITS"])
    monkeypatch.setitem(app.extensions, "relais_vault", new)
    probe = clean_identity(
        Identity(last_name="Autre", first_name="Nom", email="person0@exemple.fr"), factories.TODAY
    )

    def found() -> bool:
        session = db.session()
        actor = session.get_one(User, worker_id)
        return find_possible_duplicates(session, new, actor, probe, today=factories.TODAY).found

    assert not found()  # the indexes were computed under the old key
    result = runner.invoke(args=["keys", "rebuild-index", "--all"])
    assert result.exit_code == 0, result.output
    assert "Marked 3 people's indexes as stale." in result.stdout
    assert "Re-indexed 3 people" in result.stdout
    _clean(result.output, keyring, new_ring)
    assert found()


@pytest.fixture
def guarded(app: Flask, monkeypatch: pytest.MonkeyPatch) -> KeyGuard:
    """The process's key guard switched on (the suite's application runs without it)."""
    guard = KeyGuard(enabled=True)
    monkeypatch.setitem(app.extensions, KEY_GUARD, guard)
    return guard


def test_commands_that_write_refuse_keys_that_do_not_open_the_database(
    app: Flask,
    runner: FlaskCliRunner,
    db_session: Session,
    vault: Vault,
    keyring: KeyRing,
    guarded: KeyGuard,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    people(db_session, vault, 2)
    db_session.commit()
    _run_with(
        app, monkeypatch, replace(keyring, keks={keyring.active_kek_id: secrets.token_bytes(32)})
    )
    before = db_session.scalar(select(func.count()).select_from(AuditEvent))
    refused = runner.invoke(args=["handoffs", "expire"])
    assert refused.exit_code == 1
    assert f"the keys do not open this database (RELAIS_KEKS[{keyring.active_kek_id}])" in (
        refused.output
    )
    assert "nothing was changed" in refused.output
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)) == before
    # What only reads and diagnoses still runs.
    assert runner.invoke(args=["keys", "status"]).exit_code == 0
    assert runner.invoke(args=["keys", "check"]).exit_code == 1


def test_rebuilding_the_indexes_mends_a_new_index_key(
    app: Flask,
    runner: FlaskCliRunner,
    db_session: Session,
    vault: Vault,
    keyring: KeyRing,
    guarded: KeyGuard,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    people(db_session, vault, 3)
    db_session.commit()
    _run_with(app, monkeypatch, replace(keyring, index_key=secrets.token_bytes(32)))
    refused = runner.invoke(args=["handoffs", "expire"])
    assert refused.exit_code == 1
    assert "(RELAIS_INDEX_KEY)" in refused.output

    rebuilt = runner.invoke(args=["keys", "rebuild-index", "--all"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "Re-indexed 3 people" in rebuilt.output
    guarded.reset()  # a new process: the check again
    done = runner.invoke(args=["handoffs", "expire"])
    assert done.exit_code == 0, done.output
