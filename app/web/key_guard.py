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

The commands run the same check before they change anything (``app/cli/common.py``).
``KEY_CHECK`` (not an environment setting) is off for the test suite's application, whose
tests pin the statements of each request; the tests of this guard switch it on.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.services.security.key_check import EXTENSION, KeyGuard
from app.web import errors
from app.web.context import dbs, vault

# Requests that never read personal data or the database: served whatever the keys.
_EXEMPT = frozenset({"static", "home.health"})


def guard_of(app: Flask) -> KeyGuard:
    guard: KeyGuard = app.extensions[EXTENSION]
    return guard


def install(app: Flask) -> None:
    """Refuse requests while the keys do not match (the guard ``create_app`` made, on
    ``KEY_CHECK``); call after ``request_guard.install``, before the sign-in hooks (which read
    the account)."""
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
