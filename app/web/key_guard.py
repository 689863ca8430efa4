"""Keys that do not open this database stop every request (``app/services/security/key_check``).

Each process tries its keys once, at its first request that reaches the database (a
database down at that moment is tried again at the next request). When a key does not match,
nothing is served: every page is the bare 503 page saying that Relais cannot open its data
(nothing is read, nothing is written under the wrong keys), the JSON API answers a 503 problem,
``/health`` names ``keys`` as ``mismatch``, and the log says which key, once. The check reads
a handful of rows by index (7 statements, 5 ms on PostgreSQL at 10,000 people, 8 ms at 100,060), once per
worker when the keys match, once a minute while they do not. Restarting the workers with the
keys that go with this database ends it, and so does mending the database's side (the indexes
rebuilt after a change of the index key made on purpose) within a minute; ``flask keys
check`` says the same from the command line.

``KEY_CHECK`` (not an environment setting) is off for the test suite's application, whose
tests pin the statements of each request; the tests of this guard switch it on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Flask, current_app, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.services.security.key_check import KeyCheck, check_keys_if_reachable
from app.services.security.vault import Vault
from app.web import errors
from app.web.context import dbs, vault

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

EXTENSION = "relais_key_guard"
# Requests that never read personal data or the database: served whatever the keys.
_EXEMPT = frozenset({"static", "home.health"})


class KeyGuard:
    """The verdict of this process's check: taken once when the keys match; tried again every
    ``RECHECK_SECONDS`` while they do not (the database's side may be mended meanwhile:
    ``keys rebuild-index --all`` after a change of the index key made on purpose)."""

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
        """Forget the verdict: the next request checks again."""
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
                            "keys: %s does not match this database: %s (every request is "
                            "refused until this is mended; flask --app app keys check)",
                            finding.setting,
                            finding.detail,
                        )
                elif found.ok and self._verdict is not None:
                    log.warning("keys: they match this database now; requests are served again")
                self._verdict, self._taken_at = found, self._clock()
            return self._verdict


def guard_of(app: Flask) -> KeyGuard:
    guard: KeyGuard = app.extensions[EXTENSION]
    return guard


def install(app: Flask) -> None:
    """Set up the guard (``KEY_CHECK``) and refuse requests while the keys do not match; call
    after ``request_guard.install``, before the sign-in hooks (which read the account)."""
    app.extensions[EXTENSION] = KeyGuard(bool(app.config.get("KEY_CHECK", True)))
    app.before_request(_refuse_on_mismatch)


def _refuse_on_mismatch() -> ResponseReturnValue | None:
    if request.endpoint in _EXEMPT:
        return None
    found = guard_of(current_app).verdict(dbs(), vault())
    if found is None or found.ok:
        return None
    return errors.unavailable_page(
        _(
            "Relais cannot open its data with the keys of this installation. Nothing was "
            "read or recorded. Tell the administrator of Relais: the keys that go with this "
            "database must be restored."
        ),
        "Relais cannot open its data with the keys it was given: its administrator must "
        "restore them (Retry-After).",
    )
