"""Sign-in under attack (service level): the back-off per login and per client address, the
failure count and the check made again after the password hashing, and the Argon2 upgrade."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import LoginThrottle, User
from app.services.security import accounts, passwords, throttling
from app.services.security.throttling import (
    ThrottlePolicy,
    TooManyAttempts,
    attempt_keys,
    backoff,
)
from tests import factories

SECRET = b"s" * 32
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
POLICY = ThrottlePolicy(
    account_free=5,
    client_free=20,
    longest_delay=timedelta(minutes=15),
    fresh_client_delay=timedelta(seconds=60),
)
STRANGER, OWNER = "203.0.113.66", "198.51.100.7"


@pytest.fixture
def member(db_session: Session) -> User:
    user = factories.user(db_session, email="quentin@relais.example")
    db_session.commit()
    return user


def _sign_in(
    session: Session,
    password: str,
    *,
    client: str,
    at: datetime = NOW,
    login: str = "quentin@relais.example",
    policy: ThrottlePolicy = POLICY,
) -> User | None:
    keys = attempt_keys(SECRET, login, client)
    return accounts.authenticate(session, login, password, keys=keys, policy=policy, now=at)


def _fail(
    session: Session, times: int, *, client: str, login: str = "quentin@relais.example"
) -> None:
    keys = attempt_keys(SECRET, login, client)
    for _ in range(times):
        throttling.record_failure(session, keys, NOW)


def test_the_delay_doubles_after_the_free_failures_up_to_the_longest() -> None:
    longest = timedelta(minutes=15)
    assert backoff(4, 5, longest) == timedelta(0)
    assert [backoff(n, 5, longest).total_seconds() for n in (5, 6, 7)] == [5, 10, 20]
    assert backoff(40, 5, longest) == longest
    assert backoff(10_000, 5, longest) == longest


def test_keys_hide_the_login_and_the_address() -> None:
    keys = attempt_keys(SECRET, " Quentin@Relais.example ", STRANGER)
    assert keys == attempt_keys(SECRET, "quentin@relais.example", STRANGER)
    assert "quentin" not in keys.account
    assert STRANGER not in keys.client
    assert keys != attempt_keys(b"t" * 32, "quentin@relais.example", STRANGER)


def test_every_failure_is_counted(db_session: Session, member: User) -> None:
    keys = attempt_keys(SECRET, "quentin@relais.example", STRANGER)
    counts = [throttling.record_failure(db_session, keys, NOW) for _ in range(7)]
    assert counts == [1, 2, 3, 4, 5, 6, 7]
    stored = db_session.scalars(select(LoginThrottle.failures).order_by(LoginThrottle.key)).all()
    assert stored == [7, 7]  # the login's and the address's counters


def test_after_the_free_failures_attempts_wait_and_skip_the_hashing(
    db_session: Session, member: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(5):
        assert _sign_in(db_session, "not the right password", client=STRANGER) is None
    hashed: list[str] = []
    monkeypatch.setattr(accounts, "verify_password", lambda *args: hashed.append("x") or True)
    with pytest.raises(TooManyAttempts) as refused:
        _sign_in(db_session, factories.PASSWORD, client=STRANGER)
    assert refused.value.wait == timedelta(seconds=5)
    assert hashed == []  # refused before Argon2 runs
    assert _sign_in(db_session, factories.PASSWORD, client=STRANGER, at=NOW + timedelta(seconds=6))


def test_an_unknown_login_is_backed_off_the_same_way(
    db_session: Session, member: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(accounts, "verify_password", lambda *_args: False)  # fast wrong guesses
    for _ in range(5):
        _sign_in(db_session, "whatever password", client=STRANGER, login="nobody@relais.example")
    with pytest.raises(TooManyAttempts) as unknown:
        _sign_in(db_session, "whatever password", client=STRANGER, login="nobody@relais.example")
    for _ in range(5):
        _sign_in(db_session, "whatever password", client=OWNER)
    with pytest.raises(TooManyAttempts) as known:
        _sign_in(db_session, "whatever password", client=OWNER)
    assert unknown.value.wait == known.value.wait


def test_a_stranger_cannot_lock_the_owner_out_for_long(db_session: Session, member: User) -> None:
    """Twelve failures from the stranger's address: the stranger waits the long delay, the
    owner from an address without failures waits one minute at most."""
    _fail(db_session, 12, client=STRANGER)
    with pytest.raises(TooManyAttempts) as owner:
        _sign_in(db_session, factories.PASSWORD, client=OWNER, at=NOW + timedelta(seconds=1))
    assert owner.value.wait <= timedelta(seconds=60)
    later = NOW + timedelta(seconds=61)
    with pytest.raises(TooManyAttempts) as stranger:
        _sign_in(db_session, factories.PASSWORD, client=STRANGER, at=later)
    assert stranger.value.wait > timedelta(minutes=5)
    assert _sign_in(db_session, factories.PASSWORD, client=OWNER, at=later) is not None
    # The owner's success clears the login's counter; the stranger's address keeps its own.
    counters = dict(db_session.execute(select(LoginThrottle.key, LoginThrottle.failures)).all())
    assert counters == {attempt_keys(SECRET, "", STRANGER).client: 12}


def test_wrong_codes_wait_in_full_but_a_stranger_s_passwords_never_hold_the_code_back(
    db_session: Session, member: User
) -> None:
    """The login's wrong codes (only someone with the password makes them) wait the full
    delay from any address; a stranger's wrong passwords leave the owner's code step free."""
    _fail(db_session, 12, client=STRANGER)
    owner = attempt_keys(SECRET, "quentin@relais.example", OWNER)
    later = NOW + timedelta(seconds=61)
    assert throttling.wait_before(db_session, owner, POLICY, later, code=True) is None
    for attempt in range(12):
        address = attempt_keys(SECRET, "quentin@relais.example", f"198.51.100.{attempt}")
        throttling.record_code_failure(db_session, address, NOW)
    fresh = attempt_keys(SECRET, "quentin@relais.example", "192.0.2.1")
    assert throttling.wait_before(db_session, fresh, POLICY, later) is None  # the password step
    wait = throttling.wait_before(db_session, fresh, POLICY, later, code=True)
    assert wait is not None
    assert wait > timedelta(minutes=5)
    # A complete sign-in clears both of the login's counters.
    throttling.clear_account(db_session, fresh)
    assert throttling.wait_before(db_session, fresh, POLICY, later, code=True) is None


def test_one_address_cannot_try_many_logins(db_session: Session, member: User) -> None:
    policy = ThrottlePolicy(3, 3, timedelta(minutes=15), timedelta(seconds=60))
    for n in range(3):
        _sign_in(db_session, "guess", client=STRANGER, login=f"x{n}@relais.example", policy=policy)
    with pytest.raises(TooManyAttempts):
        _sign_in(db_session, factories.PASSWORD, client=STRANGER, policy=policy)
    assert _sign_in(db_session, factories.PASSWORD, client=OWNER, policy=policy) is not None


def test_counters_are_forgotten_a_day_after_the_last_failure(
    db_session: Session, member: User
) -> None:
    _fail(db_session, 12, client=STRANGER)
    keys = attempt_keys(SECRET, "quentin@relais.example", STRANGER)
    assert throttling.wait_before(db_session, keys, POLICY, NOW + timedelta(minutes=1))
    tomorrow = NOW + timedelta(days=1, seconds=1)
    assert throttling.wait_before(db_session, keys, POLICY, tomorrow) is None
    assert throttling.record_failure(db_session, keys, tomorrow) == 1  # starts again
    # and the stale counters of other logins and addresses are deleted meanwhile
    assert db_session.scalar(select(func.count()).select_from(LoginThrottle)) == 2


def test_a_right_password_is_refused_when_failures_crossed_the_limit_meanwhile(
    db_session: Session, member: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parallel wrong guesses counted while this request was hashing: the check after the
    hashing refuses the right password (it signed in before: 3 times out of 3)."""
    real_verify = passwords.verify_password

    def verify_while_others_fail(password_hash: str | None, password: str) -> bool:
        _fail(db_session, 16, client=STRANGER)
        return real_verify(password_hash, password)

    monkeypatch.setattr(accounts, "verify_password", verify_while_others_fail)
    with pytest.raises(TooManyAttempts):
        _sign_in(db_session, factories.PASSWORD, client=STRANGER)


def test_a_hash_with_older_argon2_parameters_is_upgraded_on_sign_in(
    db_session: Session, member: User
) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    member.password_hash = weak.hash(factories.PASSWORD)
    db_session.commit()
    assert passwords.needs_rehash(member.password_hash)
    assert _sign_in(db_session, factories.PASSWORD, client=OWNER) is not None
    db_session.commit()
    stored = db_session.scalar(select(User.password_hash).where(User.id == member.id))
    assert stored is not None
    assert not passwords.needs_rehash(stored)
    assert passwords.verify_password(stored, factories.PASSWORD)


def test_a_wrong_password_does_not_touch_the_hash(db_session: Session, member: User) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    member.password_hash = old = weak.hash(factories.PASSWORD)
    db_session.commit()
    assert _sign_in(db_session, "not the right password", client=OWNER) is None
    assert db_session.scalar(select(User.password_hash).where(User.id == member.id)) == old


def test_without_any_failure_nothing_waits_whatever_the_settings(
    db_session: Session, member: User
) -> None:
    strict = ThrottlePolicy(0, 0, timedelta(minutes=15), timedelta(seconds=60))
    assert _sign_in(db_session, factories.PASSWORD, client=OWNER, policy=strict) is not None
