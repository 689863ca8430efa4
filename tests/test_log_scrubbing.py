"""Database errors are logged without their SQL text or values (a PostgreSQL outage logs
tracebacks from Flask, gunicorn and the commands): ``app/log_scrubbing.py``."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from app import log_scrubbing

# A value a query would carry: not a prefix of any word of a log message.
VALUE = "Qwyxzelle"


@pytest.fixture
def formatted() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger whose records are written by an ordinary formatter into a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("tests.log_scrubbing")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


def _real_database_error(session: Session) -> DBAPIError:
    """What the driver raises for a failing statement, with a parameter (rolled back)."""
    savepoint = session.begin_nested()
    try:
        session.execute(
            text("SELECT missing_column FROM beneficiaries WHERE pseudonym = :value"),
            {"value": VALUE},
        )
    except DBAPIError as exc:
        savepoint.rollback()
        return exc
    raise AssertionError("the statement should have failed")


def _outage() -> OperationalError:
    """An outage as SQLAlchemy reports it: the statement, its parameters, the server's words."""
    try:
        try:
            raise ConnectionError(f'server closed the connection; value "{VALUE}"')
        except ConnectionError as cause:
            raise OperationalError(
                "SELECT users.email FROM users WHERE users.email = %(email)s",
                {"email": VALUE},
                cause,
            ) from cause
    except OperationalError as exc:
        return exc


def test_a_database_error_is_logged_without_sql_or_values(
    app: Flask, db_session: Session, formatted: tuple[logging.Logger, io.StringIO]
) -> None:
    logger, stream = formatted
    error = _real_database_error(db_session)
    assert "missing_column" in str(error)  # what the record would otherwise show
    logger.error("request failed", exc_info=error)
    logger.error("worker stopped: %s", error)
    logger.error(error)
    output = stream.getvalue()
    assert "missing_column" not in output
    assert "SELECT" not in output
    assert VALUE not in output
    assert "request failed\nTraceback (most recent call last; SQL, values and messages hidden)" in (
        output
    )
    assert "sqlalchemy.exc." in output
    assert "(SQL and values hidden)" in output
    assert "test_log_scrubbing.py" in output  # the frames stay


def test_flask_logs_an_outage_without_sql_or_values(
    app: Flask, formatted: tuple[logging.Logger, io.StringIO]
) -> None:
    """Flask's own "Exception on /path" (an error page that cannot be shown in an outage)."""
    _, stream = formatted
    handler = logging.StreamHandler(stream)
    app.logger.addHandler(handler)
    try:
        error = _outage()
        with app.test_request_context("/people/"):
            app.log_exception((type(error), error, error.__traceback__))
    finally:
        app.logger.removeHandler(handler)
    output = stream.getvalue()
    assert "Exception on /people/ [GET]" in output
    assert "sqlalchemy.exc.OperationalError" in output
    assert "users.email" not in output
    assert VALUE not in output
    assert "server closed" not in output


def test_other_errors_keep_their_message(formatted: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = formatted
    try:
        raise ValueError("a plain error")
    except ValueError as exc:
        logger.error("failed", exc_info=exc)
    assert "ValueError: a plain error" in stream.getvalue()


def test_a_command_that_crashes_prints_no_sql(
    app: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    error = _outage()
    sys.excepthook(type(error), error, error.__traceback__)
    err = capsys.readouterr().err
    assert "sqlalchemy.exc.OperationalError" in err
    assert "users.email" not in err
    assert VALUE not in err


def test_install_is_idempotent(app: Flask) -> None:
    factory = logging.getLogRecordFactory()
    hook = sys.excepthook
    log_scrubbing.install()
    assert logging.getLogRecordFactory() is factory
    assert sys.excepthook is hook


def test_the_tokens_of_mailed_links_are_masked(
    formatted: tuple[logging.Logger, io.StringIO],
) -> None:
    """A development server's request line (werkzeug logs the path) never holds the token of
    a hand-off link or a password-reset link."""
    logger, stream = formatted
    token = "fQ3LzO30XV7KVk7vqnizcxc89WONthHyXnCvClfnwJk"
    logger.warning('"%s" %s %s', f"GET /answer/{token} HTTP/1.1", "200", "-")
    logger.warning(f"POST /answer/{token}/accept")  # noqa: G004 - a message quoting a path
    logger.warning('"%s" %s', f"GET /password/reset/{token} HTTP/1.1", "200")
    written = stream.getvalue()
    assert token not in written
    assert written.count("[token]") == 3
    assert "/answer/[token]/accept" in written
