"""Password hashing (Argon2id) and the password policy."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from app.services.errors import N_, InvalidInput

# Argon2id with argon2-cffi's RFC 9106 "low memory" defaults until ``configure`` is called.
_hasher = PasswordHasher()
# A hash to verify against when the account does not exist, so both paths take as long.
_DUMMY_HASH = _hasher.hash("relais-dummy-password-for-timing")


def configure(*, time_cost: int, memory_cost_kib: int, parallelism: int) -> None:
    """Hash with these Argon2id parameters from now on (``create_app`` passes the settings).

    Hashes made with other parameters still verify, and are replaced at the next sign-in
    (``needs_rehash``). Only the test suite lowers them (to keep its thousands of sign-ins
    cheap); the other environments keep RFC 9106's low-memory profile.
    """
    global _hasher, _DUMMY_HASH
    current = _hasher
    if (current.time_cost, current.memory_cost, current.parallelism) == (
        time_cost,
        memory_cost_kib,
        parallelism,
    ):
        return
    _hasher = PasswordHasher(
        time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism
    )
    _DUMMY_HASH = _hasher.hash("relais-dummy-password-for-timing")


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    text = resources.files("app.data").joinpath("common-passwords.txt").read_text("utf-8")
    lines = (line.strip() for line in text.splitlines())
    return frozenset(line.casefold() for line in lines if line and not line.startswith("#"))


# zxcvbn's score from 0 to 4; 3 is "safely unguessable" (about 10^10 guesses or more).
MIN_STRENGTH = 3
# zxcvbn refuses longer input (its matching grows with the square of the length); the start
# of a longer password is estimated instead, which can only underestimate it.
_ESTIMATED_LENGTH = 72

# Why a password is too easy to guess, by the kind of pattern zxcvbn found in its longest
# weak part: our own sentences (zxcvbn's feedback is English only), translated where shown.
_WEAKNESSES = {
    "passwords": N_(
        "This password is too easy to guess: it is close to a commonly used password. "
        "A few uncommon words make a strong one."
    ),
    "words": N_(
        "This password is too easy to guess: common words or names alone are quickly found. "
        "Add another uncommon word or two."
    ),
    "user_inputs": N_(
        "This password is too easy to guess: it is built on your name or your login. "
        "Choose words that have nothing to do with you."
    ),
    "spatial": N_(
        "This password is too easy to guess: keyboard rows such as azerty are tried first. "
        "A few uncommon words make a strong one."
    ),
    "repeat": N_(
        "This password is too easy to guess: repeated characters or words add little. "
        "Add other uncommon words."
    ),
    "sequence": N_(
        "This password is too easy to guess: sequences such as abc or 6543 are tried first. "
        "A few uncommon words make a strong one."
    ),
    "dates": N_(
        "This password is too easy to guess: dates and years are tried first. "
        "Add uncommon words instead."
    ),
}
_TOO_WEAK = N_(
    "This password is too easy to guess. A sentence of a few uncommon words makes a strong one."
)


def _weakness(sequence: Sequence[dict[str, Any]]) -> str:
    """Our message for the longest weak part of the password zxcvbn found."""
    if not sequence:
        return _TOO_WEAK
    longest = max(sequence, key=lambda match: len(str(match.get("token", ""))))
    pattern = longest.get("pattern")
    if pattern == "dictionary":
        name = str(longest.get("dictionary_name"))
        return _WEAKNESSES[name if name in ("passwords", "user_inputs") else "words"]
    if pattern in ("regex", "date"):
        return _WEAKNESSES["dates"]
    return _WEAKNESSES.get(str(pattern), _TOO_WEAK)


def check_strength(password: str, hints: Sequence[str] = ()) -> None:
    """Raise ``InvalidInput`` when zxcvbn scores the password below ``MIN_STRENGTH``, with a
    message saying what makes it weak. ``hints`` are the login and the account's name, which
    count as known words."""
    words = {word for hint in hints for word in re.split(r"[\W_]+", hint.casefold()) if word}
    result = zxcvbn(password[:_ESTIMATED_LENGTH], user_inputs=sorted(words))
    if int(result["score"]) < MIN_STRENGTH:
        raise InvalidInput(_weakness(result["sequence"]), field="password")


def check_password_policy(
    password: str, min_length: int, *, email: str = "", names: Sequence[str] = ()
) -> None:
    """Raise ``InvalidInput`` if the password is too short, common, built on the login or too
    easy to guess (zxcvbn's estimate, with the login and ``names`` as known words).

    No composition rules (NIST SP 800-63B, ANSSI): length, a deny-list and a strength estimate.
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
    check_strength(password, [local, email, *names])


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
