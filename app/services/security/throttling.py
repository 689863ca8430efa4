"""Sign-in back-off per login and per client address (docs/security.md, "Sign-in throttling").

Failures are counted in ``login_throttles`` under two keys per attempt: the login (whether or
not an account has it, so the answers never tell which logins exist) and the client address.
Both keys are HMACs under a key derived from the application's secret: the table never holds
an address or a login. Counters are updated by one ``INSERT ... ON CONFLICT DO UPDATE SET
failures = failures + 1`` each, so parallel wrong guesses are all counted.

The model:

* each key has ``free`` failures; after them every further attempt waits a delay that doubles
  with each failure, from ``FIRST_DELAY`` up to ``policy.longest_delay``;
* the login's delay is shortened to ``policy.fresh_client_delay`` for a client address with
  fewer than ``policy.account_free`` failures of its own: a stranger guessing a colleague's
  password from elsewhere slows the colleague down for a minute at most, while the stranger's
  own address soon waits the full delay;
* a wrong second-factor code is also counted under a third key, the login's codes, whose delay
  is never shortened: only someone with the password reaches the code, and with the shortened
  delay they could try one code a minute from many addresses (about 0.4 % a day of finding
  one of the three 6-digit codes accepted), while the owner cannot be slowed down there by a
  stranger without the password;
* attempts refused by the back-off are not counted (and cost no Argon2 run), and a counter is
  forgotten a day after its last failure; a successful sign-in clears its login's counters,
  never its address's.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.models import LoginThrottle
from app.services.errors import N_, ServiceError

FIRST_DELAY = timedelta(seconds=5)
FORGET_AFTER = timedelta(days=1)


class TooManyAttempts(ServiceError):
    """Sign-in attempts are refused for a while (before the password is checked)."""

    code = "too_many_attempts"

    def __init__(self, wait: timedelta) -> None:
        super().__init__(N_("Too many sign-in attempts. Try again %(when)s."))
        self.wait = wait


@dataclass(frozen=True)
class ThrottlePolicy:
    """The settings of the back-off (``RELAIS_LOGIN_*``)."""

    account_free: int
    client_free: int
    longest_delay: timedelta
    fresh_client_delay: timedelta


@dataclass(frozen=True)
class AttemptKeys:
    """The counters one sign-in attempt is checked against and counted in: the login, the
    client address, and the login's wrong second-factor codes."""

    account: str
    client: str
    code: str


def attempt_keys(secret: bytes, login: str, client_address: str) -> AttemptKeys:
    """The HMAC keys of a login (trimmed, lower case) and of a client address."""
    key = hmac.new(secret, b"relais:login-throttle", hashlib.sha256).digest()

    def mac(kind: str, value: str) -> str:
        digest = hmac.new(key, f"{kind}\0{value}".encode(), hashlib.sha256).hexdigest()
        return f"{kind}:{digest}"

    login = login.strip().lower()
    return AttemptKeys(
        account=mac("account", login),
        client=mac("client", client_address),
        code=mac("code", login),
    )


def backoff(failures: int, free: int, longest: timedelta) -> timedelta:
    """The wait after ``failures`` failures in a row: none within ``free``, then doubling."""
    if failures < free:
        return timedelta(0)
    exponent = min(failures - free, 30)  # 2**30 x 5 s is already centuries
    delay: timedelta = FIRST_DELAY * (1 << exponent)
    return min(delay, longest)


def wait_before(
    session: Session,
    keys: AttemptKeys,
    policy: ThrottlePolicy,
    now: datetime,
    *,
    code: bool = False,
) -> timedelta | None:
    """How long this attempt must still wait, or ``None`` when it may go ahead; with ``code``,
    an attempt at the second factor (the login's wrong codes count too, in full).

    Reads the counters as committed now (plain columns, not cached objects), so that a check
    made after the password hashing sees the failures other requests counted meanwhile.
    """
    wanted = (keys.account, keys.client, keys.code) if code else (keys.account, keys.client)
    rows = session.execute(
        select(LoginThrottle.key, LoginThrottle.failures, LoginThrottle.last_failure_at).where(
            LoginThrottle.key.in_(wanted),
            LoginThrottle.last_failure_at > now - FORGET_AFTER,
        )
    ).all()
    found = {key: (failures, last) for key, failures, last in rows}
    waits = [timedelta(0)]
    client_failures, client_last = found.get(keys.client, (0, now))
    if keys.client in found:
        delay = backoff(client_failures, policy.client_free, policy.longest_delay)
        waits.append(client_last + delay - now)
    if keys.account in found:
        account_failures, account_last = found[keys.account]
        delay = backoff(account_failures, policy.account_free, policy.longest_delay)
        if client_failures < policy.account_free:
            delay = min(delay, policy.fresh_client_delay)
        waits.append(account_last + delay - now)
    if code and keys.code in found:
        code_failures, code_last = found[keys.code]
        waits.append(
            code_last + backoff(code_failures, policy.account_free, policy.longest_delay) - now
        )
    wait = max(waits)
    return wait if wait > timedelta(0) else None


def client_wait_before(
    session: Session, keys: AttemptKeys, policy: ThrottlePolicy, now: datetime
) -> timedelta | None:
    """``wait_before`` for the client address only: a sign-in that names no login yet (the
    callback of ProConnect, before the provider's answer is checked)."""
    row = session.execute(
        select(LoginThrottle.failures, LoginThrottle.last_failure_at).where(
            LoginThrottle.key == keys.client,
            LoginThrottle.last_failure_at > now - FORGET_AFTER,
        )
    ).one_or_none()
    if row is None:
        return None
    wait: timedelta = row[1] + backoff(row[0], policy.client_free, policy.longest_delay) - now
    return wait if wait > timedelta(0) else None


def record_client_failure(session: Session, keys: AttemptKeys, now: datetime) -> None:
    """Count one failure for the client address only (a failed ProConnect callback)."""
    _count(session, (keys.client,), now)


def record_failure(session: Session, keys: AttemptKeys, now: datetime) -> int:
    """Count one failure for the login and for the address, atomically; forget stale counters.

    Returns the login's failure count after this one.
    """
    return _count(session, (keys.account, keys.client), now)[keys.account]


def record_code_failure(session: Session, keys: AttemptKeys, now: datetime) -> int:
    """Count one wrong second-factor code: for the login and the address as a wrong password,
    and for the login's codes. Returns the login's failure count after this one."""
    return _count(session, (keys.account, keys.client, keys.code), now)[keys.account]


def _count(session: Session, keys: tuple[str, ...], now: datetime) -> dict[str, int]:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    counted: dict[str, int] = {}
    for key in keys:
        statement = (
            insert(LoginThrottle)
            .values(key=key, failures=1, last_failure_at=now)
            .on_conflict_do_update(
                index_elements=[LoginThrottle.key],
                set_={
                    # A counter idle for a day starts again from one.
                    "failures": case(
                        (LoginThrottle.last_failure_at <= now - FORGET_AFTER, 1),
                        else_=LoginThrottle.failures + 1,
                    ),
                    "last_failure_at": now,
                },
            )
            .returning(LoginThrottle.failures)
        )
        counted[key] = int(session.execute(statement).scalar_one())
    # Stale counters of other keys: those another request is reviving right now are skipped
    # (FOR UPDATE SKIP LOCKED on PostgreSQL), so that two revivals never wait for each other.
    stale = (
        select(LoginThrottle.key)
        .where(LoginThrottle.last_failure_at < now - FORGET_AFTER)
        .with_for_update(skip_locked=True)
    )
    session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(stale.scalar_subquery())))
    return counted


def clear_account(session: Session, keys: AttemptKeys) -> None:
    """A successful sign-in: the login's counters start again (the address's does not)."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_((keys.account, keys.code))))
