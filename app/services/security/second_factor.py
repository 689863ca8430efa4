"""The TOTP second factor of an account and its single-use recovery codes.

* The seed (RFC 6238, 160 bits, base32) is generated here, sealed with AES-GCM
  (``app.crypto.fields``) under a data key of the account's own, wrapped by the key ring's
  active KEK; the associated data binds it to the ``users`` table, its column and the
  account's id: a sealed seed copied to another account does not open.
* Enrolment starts with an unconfirmed seed and is active once a first valid code is given.
* A code is accepted for the current 30-second step and one step either side, and only for a
  step later than the last one accepted (``users.second_factor_step``, moved by a conditional
  UPDATE, so two requests cannot both spend a code).
* Recovery codes (10, about 80 bits each) are shown once and stored as SHA-256 of the account
  id and the code; spending one is a conditional UPDATE as well.
* Wrong codes count as sign-in failures of the account (the same counter and lock as wrong
  passwords).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

import pyotp
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.crypto import DataKey, FieldContext, KeyRing, decrypt_field, encrypt_field
from app.domain.audit import AuditAction
from app.models import RecoveryCode, User
from app.services.errors import N_, Conflict, InvalidInput
from app.services.security import audit, sessions

STEP_SECONDS = 30
DIGITS = 6
ISSUER = "Relais"
RECOVERY_CODE_COUNT = 10
# Unambiguous letters and digits (no 0/O, 1/I/L): 16 of them are about 79 bits.
_RECOVERY_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_RECOVERY_LENGTH = 16


@dataclass(frozen=True)
class Enrolment:
    """What an authenticator app needs: the base32 seed and its ``otpauth://`` URI."""

    seed: str
    uri: str

    def __repr__(self) -> str:  # never show the seed
        return "Enrolment(...)"


def time_step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def code_at(seed: str, step: int) -> str:
    """The code of ``seed`` for one time step (also what the tests' helpers compute)."""
    return str(pyotp.TOTP(seed, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step))


# -- sealing the seed --------------------------------------------------------------------------


def _context(user: User) -> FieldContext:
    account = uuid.UUID(int=user.id)
    return FieldContext("users", "second_factor_seed", account, account)


def _seal_seed(keys: KeyRing, user: User, seed: str) -> None:
    key = DataKey.generate()
    user.second_factor_kek, user.second_factor_key = keys.wrap(key)
    user.second_factor_seed = encrypt_field(key, _context(user), seed)


def _open_seed(keys: KeyRing, user: User) -> str | None:
    if not (user.second_factor_kek and user.second_factor_key and user.second_factor_seed):
        return None
    key = keys.unwrap(user.second_factor_kek, user.second_factor_key)
    return decrypt_field(key, _context(user), user.second_factor_seed)


def enrolment(keys: KeyRing, user: User) -> Enrolment | None:
    """The account's seed and URI (confirmed or not), or ``None`` when it has none."""
    seed = _open_seed(keys, user)
    if seed is None:
        return None
    # The label "Relais:EMAIL" keeps its "@" (allowed in a URI path): it reads, and parses,
    # as the e-mail address.
    label = quote(f"{ISSUER}:{user.email}", safe=":@")
    query = urlencode({"secret": seed, "issuer": ISSUER})
    return Enrolment(seed=seed, uri=f"otpauth://totp/{label}?{query}")


# -- enrolment -------------------------------------------------------------------------------


def start_enrolment(keys: KeyRing, user: User) -> Enrolment:
    """A new unconfirmed seed for an account without an active second factor (it replaces an
    unconfirmed one); ``Conflict`` when one is active (reset it first)."""
    if user.has_second_factor:
        raise Conflict(N_("A second factor is already active on this account."))
    _seal_seed(keys, user, pyotp.random_base32(length=32))
    user.second_factor_step = None
    found = enrolment(keys, user)
    assert found is not None
    return found


def confirm_enrolment(
    session: Session, keys: KeyRing, actor: User | None, user: User, code: str, *, now: datetime
) -> list[str]:
    """Activate the unconfirmed seed with its first valid code; returns the recovery codes
    (shown once). ``InvalidInput`` for a wrong code, ``Conflict`` when there is nothing to
    confirm."""
    if user.has_second_factor or user.second_factor_seed is None:
        raise Conflict(N_("There is no second factor waiting for confirmation."))
    step = _matching_step(keys, user, code, now)
    if step is None:
        raise InvalidInput(N_("This code is not valid. Enter the current code."), field="code")
    user.second_factor_since = now
    user.second_factor_step = step
    audit.record(session, actor, AuditAction.SECOND_FACTOR_ENABLE, user)
    return issue_recovery_codes(session, actor, user, now=now)


def enrol_now(
    session: Session, keys: KeyRing, actor: User | None, user: User, *, now: datetime
) -> Enrolment:
    """Start and confirm in one go (the demo accounts, tests): the seed is active at once."""
    found = start_enrolment(keys, user)
    user.second_factor_since = now
    audit.record(session, actor, AuditAction.SECOND_FACTOR_ENABLE, user)
    return found


def reset(session: Session, actor: User | None, user: User, *, end_sessions: bool) -> bool:
    """Remove the account's second factor and recovery codes (a coordinator or an
    administrator must enrol again at the next page). Returns whether there was one."""
    had = user.second_factor_seed is not None
    user.second_factor_kek = user.second_factor_key = user.second_factor_seed = None
    user.second_factor_since = None
    user.second_factor_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    if end_sessions:
        user.session_version += 1
        sessions.end_all(session, user, now=datetime.now(UTC))
    audit.record(session, actor, AuditAction.SECOND_FACTOR_RESET, user, had=int(had))
    return had


# -- recovery codes --------------------------------------------------------------------------


def _normalise_recovery(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _recovery_hash(user_id: int, code: str) -> str:
    text = f"relais-recovery|{user_id}|{_normalise_recovery(code)}"
    return hashlib.sha256(text.encode()).hexdigest()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, _RECOVERY_LENGTH, 4))


def issue_recovery_codes(
    session: Session, actor: User | None, user: User, *, now: datetime
) -> list[str]:
    """Replace the account's recovery codes with new ones; the codes, to show once."""
    if not user.has_second_factor:
        raise Conflict(N_("Recovery codes need an active second factor."))
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(
        RecoveryCode(user_id=user.id, code_hash=_recovery_hash(user.id, code), created_at=now)
        for code in codes
    )
    session.flush()
    audit.record(session, actor, AuditAction.RECOVERY_CODES_ISSUE, user, count=len(codes))
    return codes


def recovery_codes_left(session: Session, user: User) -> int:
    found = session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )
    return int(found or 0)


def _spend_recovery_code(session: Session, user: User, code: str, now: datetime) -> bool:
    spent = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _recovery_hash(user.id, code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        return False
    audit.record(session, user, AuditAction.RECOVERY_CODE_USE, user)
    return True


# -- checking a code -------------------------------------------------------------------------


def _matching_step(keys: KeyRing, user: User, code: str, now: datetime) -> int | None:
    """The step (current, previous or next) whose code is ``code`` and that is later than the
    last step accepted, or ``None``."""
    code = code.strip().replace(" ", "")
    seed = _open_seed(keys, user)
    if seed is None or len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    current = time_step(now)
    last = user.second_factor_step if user.second_factor_step is not None else -1
    for step in (current - 1, current, current + 1):
        if step > last and hmac.compare_digest(code_at(seed, step), code):
            return step
    return None


def _spend_step(session: Session, user: User, step: int) -> bool:
    """Record ``step`` as the last one accepted, only if it is later than the stored one."""
    moved = session.execute(
        update(User)
        .where(
            User.id == user.id,
            (User.second_factor_step.is_(None)) | (User.second_factor_step < step),
        )
        .values(second_factor_step=step)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.expire(user, ["second_factor_step"])
    return True


def check_code(session: Session, keys: KeyRing, user: User, code: str, *, now: datetime) -> bool:
    """Whether ``code`` is a valid, unused TOTP code or recovery code of the account; a valid
    one is spent. Accounts without an active second factor never pass."""
    if not user.has_second_factor:
        return False
    step = _matching_step(keys, user, code, now)
    if step is not None:
        return _spend_step(session, user, step)
    if len(_normalise_recovery(code)) == _RECOVERY_LENGTH:
        return _spend_recovery_code(session, user, code, now)
    return False


# -- key-encryption keys ---------------------------------------------------------------------


def keys_on(session: Session, kek: str, *, on: bool = True) -> int:
    """How many accounts' second-factor data keys are wrapped by ``kek`` (or by another KEK
    than ``kek`` when ``on`` is false), for ``keys rotate-kek`` and ``keys retire-kek``."""
    wrapped_by = User.second_factor_kek == kek if on else User.second_factor_kek != kek
    found = session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.second_factor_kek.is_not(None), wrapped_by)
    )
    return int(found or 0)


def keys_not_in(session: Session, keks: list[str]) -> int:
    """How many second-factor data keys are wrapped by a KEK outside ``keks``."""
    found = session.scalar(
        select(func.count()).select_from(User).where(User.second_factor_kek.not_in(keks))
    )
    return int(found or 0)


def rewrap_keys(session: Session, keys: KeyRing, to_kek: str, *, limit: int) -> int:
    """Re-wrap up to ``limit`` second-factor data keys under ``to_kek``; how many. The data
    key and the sealed seed do not change."""
    users = session.scalars(
        select(User)
        .where(User.second_factor_kek.is_not(None), User.second_factor_kek != to_kek)
        .order_by(User.id)
        .limit(limit)
    ).all()
    for user in users:
        kek, wrapped = user.second_factor_kek, user.second_factor_key
        if kek is None or wrapped is None:  # pragma: no cover - excluded by the query
            continue
        user.second_factor_kek, user.second_factor_key = keys.wrap(
            keys.unwrap(kek, wrapped), to_kek
        )
    session.flush()
    return len(users)
