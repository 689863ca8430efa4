"""KEK rotation and retirement cover the second-factor data keys of the accounts, and the
data keys of the webhook endpoints' secrets."""

from __future__ import annotations

import secrets

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from app.crypto import DecryptionError, KeyRing
from app.domain.roles import Role
from app.services.errors import Conflict
from app.services.security import keys, second_factor
from app.services.security.vault import Vault
from app.services.webhooks import endpoints as webhook_endpoints
from tests import factories


def _with_k2(app: Flask, ring: KeyRing) -> Vault:
    bigger = KeyRing(
        secret_key=ring.secret_key,
        keks={**ring.keks, "k2": secrets.token_bytes(32)},
        active_kek_id="k2",
        index_key=ring.index_key,
        audit_key=ring.audit_key,
    )
    return Vault(bigger, app.config["BLIND_INDEX_BITS"])


def test_rotation_rewraps_second_factor_keys_and_retirement_waits_for_them(
    app: Flask, db_session: Session, keyring: KeyRing
) -> None:
    account = factories.user(db_session, Role.ADMIN)
    seed = second_factor.enrolment(keyring, account)
    assert seed is not None
    sealed = account.second_factor_seed
    old = keyring.active_kek_id
    new = _with_k2(app, keyring)
    assert keys.check_rotation(db_session, new, "k2") >= 1
    with pytest.raises(Conflict, match=f"still use {old}"):
        keys.retire_kek(db_session, new, old)

    while keys.rewrap_batch(db_session, new, "k2"):
        pass
    assert account.second_factor_kek == "k2"
    assert account.second_factor_seed == sealed  # the seed is not re-encrypted
    after = second_factor.enrolment(new.keys, account)
    assert after is not None
    assert after.seed == seed.seed
    keys.retire_kek(db_session, new, old)
    only_old = KeyRing(
        secret_key=keyring.secret_key,
        keks={old: keyring.keks[old]},
        active_kek_id=old,
        index_key=keyring.index_key,
        audit_key=keyring.audit_key,
    )
    with pytest.raises(DecryptionError):
        second_factor.enrolment(only_old, account)


def test_rotation_rewraps_webhook_secret_keys_and_retirement_waits_for_them(
    app: Flask, db_session: Session, keyring: KeyRing
) -> None:
    registered = factories.webhook(db_session, factories.structure(db_session))
    endpoint = registered.endpoint
    sealed = endpoint.secret
    old = keyring.active_kek_id
    new = _with_k2(app, keyring)
    assert webhook_endpoints.keys_on(db_session, old) >= 1
    assert keys.check_rotation(db_session, new, "k2") >= 1
    with pytest.raises(Conflict, match=f"still use {old}"):
        keys.retire_kek(db_session, new, old)
    while keys.rewrap_batch(db_session, new, "k2"):
        pass
    assert endpoint.secret_kek == "k2"
    assert endpoint.secret == sealed  # the secret is not re-encrypted
    assert webhook_endpoints.open_secret(new.keys, endpoint) == registered.secret
    keys.retire_kek(db_session, new, old)
    assert webhook_endpoints.keys_on(db_session, old) == 0
