"""Do the configured keys open this database? One sample of what each key protects.

A database restored beside the wrong keys file, a ``RELAIS_KEKS`` typed again with a typo, a
development keys file deleted and generated anew: the application starts, and every page that
shows a person fails, while each new person, second factor or webhook secret is sealed under
keys the rest of the data does not use - a database that no single key set opens any more,
worse with every write. So each key is tried on one thing it protects:

* each configured key-encryption key (``RELAIS_KEKS``) unwraps one data key it wrapped (a
  person's, else an account's second factor's, else a webhook secret's); and no data key is
  wrapped by a key-encryption key that ``RELAIS_KEKS`` lacks;
* the index key (``RELAIS_INDEX_KEY``) computes again the stored blind indexes of one person
  indexed at the current version (their identity decrypted in memory, then dropped);
* the audit key (``RELAIS_AUDIT_KEY``) computes the MAC of the audit chain's last row.

A key with nothing to try it on (a new database, a key-encryption key that wraps nothing yet)
is reported as such: it cannot be wrong yet. ``RELAIS_SECRET_KEY`` signs cookies only: a new
one signs everyone out and loses nothing. The check reads a handful of rows by index and
reports key ids and counts only, never a key, a wrapped key, an identity or an index value.
``flask keys check`` runs it; the web application runs it once per process
(``app/web/key_guard.py``) and refuses every request while it fails, and so do the commands
before they change anything (``app/cli/common.py``): a cron job with keys of its own (a
restore on a new server, cron's environment file not updated) would chain audit events under
another audit key, breaking the log for good.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.crypto import DecryptionError
from app.models import PersonKey, User, WebhookEndpoint
from app.services.health import database_unreachable
from app.services.security import audit, audit_walk, index_rebuild
from app.services.security.vault import Vault

log = logging.getLogger(__name__)

# Where ``create_app`` keeps the process's ``KeyGuard`` (``app.extensions``).
EXTENSION = "relais_key_guard"


class Verdict(StrEnum):
    MATCHES = "matches"
    MISMATCH = "mismatch"
    UNTRIED = "untried"  # nothing it protects yet


@dataclass(frozen=True)
class KeyFinding:
    """What trying one key found. ``detail`` is an English sentence for the operator."""

    setting: str
    verdict: Verdict
    detail: str


@dataclass(frozen=True)
class KeyCheck:
    findings: tuple[KeyFinding, ...]

    @property
    def ok(self) -> bool:
        return all(f.verdict is not Verdict.MISMATCH for f in self.findings)

    @property
    def mismatches(self) -> tuple[KeyFinding, ...]:
        return tuple(f for f in self.findings if f.verdict is Verdict.MISMATCH)


def check_keys(session: Session, vault: Vault) -> KeyCheck:
    """Try each key of ``vault`` on what it protects in the database of ``session``."""
    findings = [_kek(session, vault, kek) for kek in vault.keys.keks]
    missing = _unconfigured(session, list(vault.keys.keks))
    if missing:
        findings.append(missing)
    findings.append(_index_key(session, vault))
    findings.append(_audit_key(session))
    return KeyCheck(tuple(findings))


class KeyGuard:
    """The verdict of this process's check, asked by the web application before each request
    (``app/web/key_guard.py``) and by the commands before they write (``app/cli/common.py``):
    taken once when the keys match; tried again every ``RECHECK_SECONDS`` while they do not
    (the database's side may be mended meanwhile: ``keys rebuild-index --all`` after a change
    of the index key made on purpose)."""

    RECHECK_SECONDS = 60.0

    def __init__(self, enabled: bool, clock: Callable[[], float] = time.monotonic) -> None:
        self.enabled = enabled
        self._clock = clock
        self._verdict: KeyCheck | None = None
        self._taken_at = 0.0
        self._lock = threading.Lock()

    @property
    def checked(self) -> bool:
        """Whether this process has its verdict."""
        return self._verdict is not None

    def reset(self) -> None:
        """Forget the verdict: the next request or command checks again."""
        with self._lock:
            self._verdict = None

    def verdict(self, session: Session, vault: Vault) -> KeyCheck | None:
        """The check's verdict, taken now if not yet (or again, see the class); ``None`` while
        the database cannot be reached (tried again next time) or when the guard is off."""
        if not self.enabled:
            return None
        with self._lock:
            stale = self._verdict is not None and (
                not self._verdict.ok and self._clock() - self._taken_at >= self.RECHECK_SECONDS
            )
            if self._verdict is None or stale:
                found = check_keys_if_reachable(session, vault)
                if found is None:
                    return self._verdict
                if not found.ok and (self._verdict is None or self._verdict.ok):
                    for finding in found.mismatches:
                        log.critical(
                            "keys: %s does not match this database: %s (requests and commands "
                            "that write are refused until this is mended; flask --app app keys "
                            "check)",
                            finding.setting,
                            finding.detail,
                        )
                elif found.ok and self._verdict is not None:
                    log.warning("keys: they match this database now; requests are served again")
                self._verdict, self._taken_at = found, self._clock()
            return self._verdict


def check_keys_if_reachable(session: Session, vault: Vault) -> KeyCheck | None:
    """``check_keys``, or ``None`` when the database cannot be reached (the session is rolled
    back, ready for the caller's next statement to meet the outage its own way); any other
    error of the database is raised."""
    try:
        return check_keys(session, vault)
    except SQLAlchemyError as exc:
        if not database_unreachable(exc):
            raise
        try:
            session.rollback()
        except SQLAlchemyError:
            session.close()
        return None


def _wrapped_sample(session: Session, kek: str) -> tuple[str, bytes] | None:
    """One data key wrapped by ``kek`` and what it belongs to: a person's (by the index on
    ``kek_id``), else an account's second factor's, else a webhook secret's."""
    person = session.scalar(select(PersonKey.wrapped_key).where(PersonKey.kek_id == kek).limit(1))
    if person is not None:
        return "a person's data key", bytes(person)
    account = session.scalar(
        select(User.second_factor_key)
        .where(User.second_factor_kek == kek, User.second_factor_key.is_not(None))
        .limit(1)
    )
    if account is not None:
        return "an account's second-factor key", bytes(account)
    secret = session.scalar(
        select(WebhookEndpoint.secret_key).where(WebhookEndpoint.secret_kek == kek).limit(1)
    )
    if secret is not None:
        return "a webhook secret's key", bytes(secret)
    return None


def _kek(session: Session, vault: Vault, kek: str) -> KeyFinding:
    setting = f"RELAIS_KEKS[{kek}]"
    sample = _wrapped_sample(session, kek)
    if sample is None:
        return KeyFinding(setting, Verdict.UNTRIED, "no data key is wrapped by it yet")
    what, wrapped = sample
    try:
        vault.keys.unwrap(kek, wrapped)
    except DecryptionError:
        return KeyFinding(
            setting,
            Verdict.MISMATCH,
            f"it does not unwrap {what} wrapped under the id {kek!r}: this is not the key "
            "this database's data keys were wrapped with",
        )
    return KeyFinding(setting, Verdict.MATCHES, f"it unwraps {what}")


def _unconfigured(session: Session, keks: list[str]) -> KeyFinding | None:
    """Data keys wrapped by a key-encryption key that ``RELAIS_KEKS`` lacks (what
    ``keys retire-kek`` never allows): their identities, second factors or secrets cannot be
    opened."""
    found = session.scalar(select(PersonKey.kek_id).where(PersonKey.kek_id.not_in(keks)).limit(1))
    if found is None:
        found = session.scalar(
            select(User.second_factor_kek).where(User.second_factor_kek.not_in(keks)).limit(1)
        )
    if found is None:
        found = session.scalar(
            select(WebhookEndpoint.secret_kek)
            .where(WebhookEndpoint.secret_kek.not_in(keks))
            .limit(1)
        )
    if found is None:
        return None
    count = session.scalar(
        select(func.count()).select_from(PersonKey).where(PersonKey.kek_id == found)
    )
    return KeyFinding(
        "RELAIS_KEKS",
        Verdict.MISMATCH,
        f"it lacks the key-encryption key {found!r}, which wraps data keys of this database "
        f"({int(count or 0)} people's among them)",
    )


def _index_key(session: Session, vault: Vault) -> KeyFinding:
    setting = "RELAIS_INDEX_KEY"
    matches = index_rebuild.sample_matches(session, vault)
    if matches is None:
        return KeyFinding(
            setting,
            Verdict.UNTRIED,
            f"no person whose data key opens is indexed at version {vault.indexer.version}",
        )
    if not matches:
        return KeyFinding(
            setting,
            Verdict.MISMATCH,
            "it does not compute the stored blind indexes of a person at the current version: "
            "searches and the import's duplicate check would miss people. After a change of "
            "the index key made on purpose, run: flask --app app keys rebuild-index --all",
        )
    return KeyFinding(setting, Verdict.MATCHES, "it computes a person's stored blind indexes")


def _audit_key(session: Session) -> KeyFinding:
    setting = "RELAIS_AUDIT_KEY"
    matches = audit_walk.head_matches(session, audit.audit_key())
    if matches is None:
        return KeyFinding(setting, Verdict.UNTRIED, "the audit log has no chained row to try")
    if not matches:
        return KeyFinding(
            setting,
            Verdict.MISMATCH,
            "it does not compute the MAC of the audit log's last row: events chained from now "
            "on would break the chain (flask --app app audit verify says more)",
        )
    return KeyFinding(setting, Verdict.MATCHES, "it computes the MAC of the audit log's last row")
