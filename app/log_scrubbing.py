"""Database errors reach the logs without their SQL text or values.

A SQLAlchemy error prints the statement (``[SQL: SELECT ... WHERE email = %(email)s]``) and the
server's message, which may quote a value (``invalid input syntax for type uuid: "..."``).
During a PostgreSQL outage, every layer that logs a traceback - Flask's "Exception on /path"
when an error page cannot be rendered either, gunicorn's "Error handling request", a command
that stops - would write them to the logs.

``install`` (called by ``create_app``, once per process) makes every log record safe where
it is created, whatever logger or handler then writes it:

* a record whose exception (``exc_info``, or one in its ``__cause__``/``__context__`` chain)
  is a database error gets a traceback of frames only (file, line, function) and the
  exception types, with the SQLSTATE when the driver gives one; never a message;
* a database error passed as an argument (``log.error("failed: %s", exc)``) or as the message
  is replaced by the same summary.

The process's ``sys.excepthook`` (what prints the traceback of a command that crashes) does
the same.

The tokens of mailed links (``/answer/<token>``, ``/password/reset/<token>``) are credentials:
a request line logged by a development server (werkzeug's ``"GET /answer/... HTTP/1.1"``) or
any message quoting such a path has the token replaced by ``[token]``. Relais itself never
logs a path, and gunicorn's access log is off (``gunicorn.conf.py``). Other exceptions are left as they are: the web's error handler already logs only
their type and frames (``app/web/errors.py``).
"""

from __future__ import annotations

import logging
import re
import sqlite3
import sys
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any

import psycopg
from sqlalchemy.exc import SQLAlchemyError

_DATABASE_ERRORS: tuple[type[BaseException], ...] = (SQLAlchemyError, psycopg.Error, sqlite3.Error)
_MARK = "_relais_scrubs_database_errors"
# A token of a mailed link in a path (hand-off links, password-reset links).
_LINK_TOKEN = re.compile(r"(/answer/|/password/reset/)[A-Za-z0-9_-]{16,}")


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions it was raised from or during, outermost first."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not other for other in seen):
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def is_database_error(exc: BaseException) -> bool:
    """Whether ``exc`` or an exception of its chain comes from the database."""
    return any(isinstance(item, _DATABASE_ERRORS) for item in _chain(exc))


def _name(exc: BaseException) -> str:
    kind = type(exc)
    return f"{kind.__module__}.{kind.__qualname__}"


def summary(exc: BaseException) -> str:
    """The exception's type, its driver's error type and SQLSTATE: no message, no SQL."""
    text = _name(exc)
    original = getattr(exc, "orig", None)
    if isinstance(original, BaseException):
        text += f" ({_name(original)})"
    sqlstate = getattr(original, "sqlstate", None) or getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate.isalnum() and len(sqlstate) == 5:
        text += f" [SQLSTATE {sqlstate}]"
    return text + " (SQL and values hidden)"


def safe_traceback(exc: BaseException) -> str:
    """The frames (file, line, function) of ``exc``'s chain, innermost exception last, and
    each exception's type only."""
    blocks = []
    for item in reversed(_chain(exc)):
        frames = traceback.extract_tb(item.__traceback__)
        lines = ["Traceback (most recent call last; SQL, values and messages hidden):"]
        lines += [f'  File "{f.filename}", line {f.lineno}, in {f.name}' for f in frames]
        lines.append(summary(item) if isinstance(item, _DATABASE_ERRORS) else _name(item))
        blocks.append("\n".join(lines))
    return "\n\nDuring the handling of the above exception:\n\n".join(blocks)


def scrub(record: logging.LogRecord) -> logging.LogRecord:
    """Make ``record`` safe in place (see the module's docstring); returns it."""
    exc_info = record.exc_info
    if exc_info and exc_info[1] is not None and is_database_error(exc_info[1]):
        record.exc_text = safe_traceback(exc_info[1])
        record.exc_info = None
    if isinstance(record.msg, BaseException) and is_database_error(record.msg):
        record.msg = summary(record.msg)
    elif isinstance(record.msg, str):
        record.msg = mask_link_tokens(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_safe_argument(arg) for arg in record.args)
    elif isinstance(record.args, dict):
        record.args = {key: _safe_argument(value) for key, value in record.args.items()}
    return record


def _safe_argument(value: object) -> object:
    if isinstance(value, BaseException) and is_database_error(value):
        return summary(value)
    if isinstance(value, str):
        return mask_link_tokens(value)
    return value


def mask_link_tokens(text: str) -> str:
    """``text`` with the token of any mailed link's path replaced by ``[token]``."""
    if "/answer/" not in text and "/password/reset/" not in text:
        return text
    return _LINK_TOKEN.sub(r"\1[token]", text)


def install() -> None:
    """Scrub every log record made from now on, and the traceback of an uncaught exception.

    Idempotent: a second application in the same process does not wrap the factory twice.
    """
    current = logging.getLogRecordFactory()
    if not getattr(current, _MARK, False):
        factory = _scrubbing_factory(current)
        setattr(factory, _MARK, True)
        logging.setLogRecordFactory(factory)
    if not getattr(sys.excepthook, _MARK, False):
        hook = _scrubbing_excepthook(sys.excepthook)
        setattr(hook, _MARK, True)
        sys.excepthook = hook


def _scrubbing_factory(make: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return scrub(make(*args, **kwargs))

    return factory


Hook = Callable[[type[BaseException], BaseException, TracebackType | None], Any]


def _scrubbing_excepthook(previous: Hook) -> Hook:
    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> Any:
        if is_database_error(exc):
            sys.stderr.write(safe_traceback(exc) + "\n")
            return None
        return previous(kind, exc, tb)

    return hook
