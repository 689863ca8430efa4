"""Error pages. Nothing about the request, the data or the exception is shown."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

from flask import Flask, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.services.errors import Forbidden, NotFound
from app.unit_of_work import abandon
from app.web.api import problems
from app.web.request_guard import MalformedRequest

log = logging.getLogger(__name__)


def register(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(MalformedRequest, _malformed)
    app.register_error_handler(NotFound, lambda _exc: _page(404))
    app.register_error_handler(Forbidden, lambda _exc: _page(404))
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


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
    }
    title = titles.get(status, _("Error"))
    return render_template("errors/error.html", status=status, title=title, message=message), status


_API_DETAILS = {
    404: "No such resource, or not one your token may see.",
    405: "This method is not allowed on this resource.",
    429: "Too many requests with this token: wait and try again (Retry-After).",
    500: "Relais failed to answer: the request was not applied.",
}


def _csrf_error(_exc: CSRFError) -> ResponseReturnValue:
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
    if status == 429:  # Flask-Limiter: Retry-After is added to the response by the limiter
        return _page(429, _("Too many requests from your connection. Wait a minute and try again."))
    return _page(status if 400 <= status < 500 else 500)


def _unexpected(exc: Exception) -> ResponseReturnValue:
    # Log the exception type and where it happened; never its message or locals, which may
    # hold personal values (an input echoed by a parser, for instance). The unit of work is
    # abandoned first, so that the error page can still read the database.
    abandon(db.session())
    frames = " <- ".join(
        f"{Path(frame.filename).name}:{frame.lineno} {frame.name}"
        for frame in reversed(traceback.extract_tb(exc.__traceback__))
    )
    log.error("unexpected %s at %s", type(exc).__name__, frames)
    return _page(500)
