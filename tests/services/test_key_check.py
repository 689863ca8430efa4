"""Keys that do not open the database are found by one sample of what each protects: a
restore beside another keys file, a key-encryption key typed again under its id, another
index key, another audit key - and nothing is reported for a key with nothing to try."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.crypto import KeyRing
from app.domain.audit import AuditAction
from app.domain.roles import Role
from app.models import Beneficiary, PersonKey
from app.services.security import audit, keys, second_factor
from app.services.security.key_check import KeyCheck, Verdict, check_keys
from app.services.security.vault import Vault
from tests import factories

KEK = "RELAIS_KEKS[k1]"


def _vault(app: Flask, ring: KeyRing) -> Vault:
    return Vault(ring, app.config["BLIND_INDEX_BITS"])


def _verdicts(found: KeyCheck) -> dict[str, Verdict]:
    return {finding.setting: finding.verdict for finding in found.findings}


def _someone(session: Session, vault: Vault) -> Beneficiary:
    worker = factories.user(session)
    person = factories.person(
        session,
        vault,
        worker,
        last_name="Przybylska",
        first_name="Ondine",
        birth_date=date(1999, 4, 17),
        email="ondine.p@exemple.fr",
    )
    audit.record(session, worker, AuditAction.BENEFICIARY_CREATE, person)
    session.commit()
    return person


def _start_afresh(session: Session) -> None:
    """A database with no data key: the test's people and accounts only."""
    session.execute(delete(PersonKey))


def test_the_keys_the_data_was_written_with_match(
    app: Flask, db_session: Session, vault: Vault
) -> None:
    _someone(db_session, vault)
    found = check_keys(db_session, vault)
    assert found.ok
    assert _verdicts(found) == {
        KEK: Verdict.MATCHES,
        "RELAIS_INDEX_KEY": Verdict.MATCHES,
        "RELAIS_AUDIT_KEY": Verdict.MATCHES,
    }


def test_another_key_under_the_same_id_is_a_mismatch(
    app: Flask, db_session: Session, vault: Vault, keyring: KeyRing
) -> None:
    _someone(db_session, vault)
    other = _vault(app, replace(keyring, keks={"k1": secrets.token_bytes(32)}))
    found = check_keys(db_session, other)
    assert not found.ok
    verdicts = _verdicts(found)
    assert verdicts[KEK] is Verdict.MISMATCH
    # The identity cannot be opened to try the index key: not a second verdict on it.
    assert verdicts["RELAIS_INDEX_KEY"] is Verdict.UNTRIED
    assert [m.setting for m in found.mismatches] == [KEK]
    assert "person's data key" in found.mismatches[0].detail


def test_data_keys_under_a_kek_the_settings_lack_are_a_mismatch(
    app: Flask, db_session: Session, vault: Vault, keyring: KeyRing
) -> None:
    _someone(db_session, vault)
    elsewhere = _vault(
        app, replace(keyring, keks={"k9": secrets.token_bytes(32)}, active_kek_id="k9")
    )
    found = check_keys(db_session, elsewhere)
    assert not found.ok
    assert _verdicts(found)["RELAIS_KEKS[k9]"] is Verdict.UNTRIED
    (missing,) = found.mismatches
    assert missing.setting == "RELAIS_KEKS"
    assert "'k1'" in missing.detail


def test_another_index_key_is_a_mismatch_until_the_indexes_are_rebuilt(
    app: Flask, db_session: Session, vault: Vault, keyring: KeyRing
) -> None:
    _someone(db_session, vault)
    other = _vault(app, replace(keyring, index_key=secrets.token_bytes(32)))
    found = check_keys(db_session, other)
    assert [m.setting for m in found.mismatches] == ["RELAIS_INDEX_KEY"]
    assert "keys rebuild-index --all" in found.mismatches[0].detail

    # What `keys rebuild-index --all` does first, then the rebuild itself.
    keys.mark_indexes_stale(db_session)
    assert _verdicts(check_keys(db_session, other))["RELAIS_INDEX_KEY"] is Verdict.UNTRIED
    while keys.reindex_batch(db_session, other):
        pass
    assert _verdicts(check_keys(db_session, other))["RELAIS_INDEX_KEY"] is Verdict.MATCHES


def test_another_audit_key_is_a_mismatch(
    app: Flask, db_session: Session, vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    _someone(db_session, vault)
    monkeypatch.setattr(audit, "_key", [secrets.token_bytes(32)])
    found = check_keys(db_session, vault)
    assert [m.setting for m in found.mismatches] == ["RELAIS_AUDIT_KEY"]


def test_a_second_factor_is_enough_to_try_a_kek(
    app: Flask, db_session: Session, vault: Vault, keyring: KeyRing
) -> None:
    _start_afresh(db_session)
    admin = factories.user(db_session, Role.ADMIN)
    assert second_factor.enrolment(keyring, admin) is not None
    db_session.commit()
    found = check_keys(db_session, vault)
    assert _verdicts(found)[KEK] is Verdict.MATCHES
    assert "second-factor" in found.findings[0].detail

    other = _vault(app, replace(keyring, keks={"k1": secrets.token_bytes(32)}))
    assert _verdicts(check_keys(db_session, other))[KEK] is Verdict.MISMATCH


def test_a_kek_that_wraps_nothing_yet_cannot_be_wrong(
    app: Flask, db_session: Session, vault: Vault
) -> None:
    _start_afresh(db_session)
    found = check_keys(db_session, vault)
    assert found.ok
    assert _verdicts(found)[KEK] is Verdict.UNTRIED
    assert _verdicts(found)["RELAIS_INDEX_KEY"] is Verdict.UNTRIED
