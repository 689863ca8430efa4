"""Error pages. Nothing about the request, the data or the exception is shown.

They need nothing that may be down: when the database cannot be reached (a connection
refused, lost or timed out, at any step of the request, its commit included) the answer is a
503 "service momentarily unavailable" page with ``Retry-After``, drawn by
``errors/bare.html`` (no account, no navigation, no query); and when the full error page
fails to render (its frame reads the signed-in account), the same bare page says the error.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

from flask import Flask, Response, current_app, g, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.services.errors import Forbidden, NotFound
from app.services.health import UNREACHABLE, database_unreachable, schema_behind
from app.unit_of_work import CommitFailed, abandon_quietly
from app.web.api import problems
from app.web.request_guard import MalformedRequest

log = logging.getLogger(__name__)


def register(app: Flask) -> None:
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(MalformedRequest, _malformed)
    app.register_error_handler(NotFound, lambda _exc: _page(404))
    app.register_error_handler(Forbidden, lambda _exc: _page(404))
    for database_error in UNREACHABLE:
        app.register_error_handler(database_error, _database_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


# How long a client is asked to wait before trying again when the database is down.
RETRY_AFTER_SECONDS = 30


def _page(status: int, message: str | None = None) -> ResponseReturnValue:
    if problems.wanted():
        # The JSON API answers every error with a problem document (RFC 9457), in English.
        return problems.problem_response(status, _API_DETAILS.get(status))
    titles = {
        400: _("The request could not be understood"),
        401: _("Sign-in needed"),
        403: _("Access refused"),
        404: _("Page not found"),
        405: _("Action not allowed here"),
        429: _("Too many requests"),
        413: _("The request is too large"),
        500: _("Something went wrong"),
        503: _("Service momentarily unavailable"),
    }
    title = titles.get(status, _("Error"))
    try:
        page = render_template("errors/error.html", status=status, title=title, message=message)
        return page, status
    except Exception as exc:  # the page's frame (the signed-in account) could not be read
        abandon_quietly()
        log.warning("error page %d drawn without its frame: %s", status, type(exc).__name__)
    return _bare(status, str(title), message)


def _bare(status: int, title: str, message: str | None = None) -> Response:
    """The error page that needs nothing but the application (``errors/bare.html``)."""
    if message is None:
        message = str(
            _BARE_MESSAGES.get(status)
            or _("Please go back and try again, or come back in a moment.")
        )
    # Flask-Login's template context loads the signed-in account: the bare page is drawn as
    # for a visitor, so that it needs no query.
    g._login_user = current_app.login_manager.anonymous_user()  # type: ignore[attr-defined]
    page = render_template("errors/bare.html", status=status, title=title, message=message)
    return Response(page, status=status, mimetype="text/html")


_BARE_MESSAGES = {
    404: _l("This page does not exist, or you do not have access to it."),
    500: _l(
        "The error has been recorded, without anything you entered. Please try again in a moment."
    ),
    503: _l(
        "Relais cannot reach its database right now. If you were saving something, check it "
        "once Relais answers again. Please try again in a few minutes."
    ),
}


def _database_error(exc: Exception) -> ResponseReturnValue:
    """A database that cannot be reached is a 503, and so is one whose schema is behind this
    release (an upgrade installed, ``db upgrade`` not run yet: every page would fail); any
    other error of the database (a serialization failure, a lock) is the request's own."""
    if database_unreachable(exc):
        return _unavailable(exc)
    return _unexpected(exc)


def _schema_behind(exc: Exception) -> ResponseReturnValue:
    abandon_quietly()
    log.error("the database schema is behind this release: run flask --app app db upgrade")
    return unavailable_page(None, _API_DETAILS[503])


def _unavailable(exc: Exception) -> ResponseReturnValue:
    """The database cannot be reached: 503, the bare page, and when to try again."""
    abandon_quietly()
    log.error("database unreachable: %s", type(exc).__name__)
    return unavailable_page(None, _API_DETAILS[503])


def unavailable_page(message: str | None, api_detail: str) -> Response:
    """503 "service momentarily unavailable": the bare page (``message``, or the database's
    one) or, to the JSON API, a problem document; and when to try again."""
    if problems.wanted():
        response = problems.problem_response(503, api_detail)
    else:
        response = _bare(503, _("Service momentarily unavailable"), message)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


_API_DETAILS = {
    404: "No such resource, or not one your token may see.",
    405: "This method is not allowed on this resource.",
    413: "The request's body is too large (64 KB at most).",
    429: "Too many requests with this token: wait and try again (Retry-After).",
    500: "Relais failed to answer: the request was not applied.",
    503: "Relais cannot reach its database: try again later (Retry-After).",
}


def csrf_error(_exc: CSRFError) -> ResponseReturnValue:
    return _page(
        400,
        _(
            "The form had expired or was not sent from Relais. Go back, reload the page and try again."
        ),
    )


def _malformed(exc: MalformedRequest) -> ResponseReturnValue:
    if problems.wanted():
        return problems.problem_response(400, "The request holds a control character.")
    return _page(400, str(exc.description))


def _http_error(exc: HTTPException) -> ResponseReturnValue:
    # Any refusal of the request (413 too large, 414, 431...) keeps its 4xx status: only a
    # failure of Relais itself is a 500.
    status = exc.code or 500
    if status >= 500 and database_unreachable(getattr(exc, "original_exception", None)):
        return _unavailable(exc)
    if status == 429:  # Flask-Limiter: Retry-After is added to the response by the limiter
        return _page(429, _("Too many requests from your connection. Wait a minute and try again."))
    return _page(status if 400 <= status < 500 else 500)


def _unexpected(exc: Exception) -> ResponseReturnValue:
    # Log the exception type and where it happened; never its message or locals, which may
    # hold personal values (an input echoed by a parser, for instance). The unit of work is
    # abandoned first, so that the error page can still read the database.
    cause = exc.__cause__ if isinstance(exc, CommitFailed) else exc
    if database_unreachable(cause):
        return _unavailable(exc)
    if schema_behind(cause):  # an upgrade installed, its migrations not run: every page fails
        return _schema_behind(exc)
    abandon_quietly()
    frames = " <- ".join(
        f"{Path(frame.filename).name}:{frame.lineno} {frame.name}"
        for frame in reversed(traceback.extract_tb(exc.__traceback__))
    )
    log.error("unexpected %s at %s", type(exc).__name__, frames)
    return _page(500)
