"""Password hashing (Argon2id) and the password policy."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.services.errors import N_, InvalidInput

_hasher = PasswordHasher()  # Argon2id with argon2-cffi's RFC 9106 "low memory" defaults
# A hash to verify against when the account does not exist, so both paths take as long.
_DUMMY_HASH = _hasher.hash("relais-dummy-password-for-timing")


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    text = resources.files("app.data").joinpath("common-passwords.txt").read_text("utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines() if line.strip())


def check_password_policy(password: str, min_length: int, *, email: str = "") -> None:
    """Raise ``InvalidInput`` if the password is too short, common or built on the login.

    No composition rules (NIST SP 800-63B, ANSSI): length and a deny-list only.
    """
    if len(password) < min_length:
        raise InvalidInput(
            N_("The password must be at least %(min)d characters long."),
            field="password",
            min=min_length,
        )
    folded = password.casefold()
    if folded in _common_passwords() or len(set(folded)) < 4:
        raise InvalidInput(N_("This password is too common; choose another."), field="password")
    local = email.split("@", 1)[0].casefold()
    if len(local) >= 4 and local in folded:
        raise InvalidInput(N_("The password must not contain the login."), field="password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; always spends one Argon2 verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
