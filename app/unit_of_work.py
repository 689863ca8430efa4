"""One unit of work per request and per command: the only place that commits or rolls back.

Services flush and never commit. The web layer never commits either: ``install`` registers a
request hook that, once the view has produced its response,

* commits when the response is not an error (status below 400): the view's writes, its audit
  events (a reveal, a lookup), the mails it queued;
* rolls back on an error response (400 and above), whether the view returned it or an
  exception was turned into it by an error page - unless the view called
  ``keep_writes_on_error`` because its answer is a refusal whose reading must stay recorded
  (the API's "possible duplicate" answer: the identity lookup behind it is audited).

Mails queued by the change are handed to delivery with the commit: on PostgreSQL a trigger on
the outbox notifies the mail worker, which hears of it only if the commit succeeds (the
"wake-ups by trigger" revision); nothing is sent inside the request. Webhook deliveries wake
their worker the same way.

A view that catches a ``ServiceError`` to show it on the form runs the use case in ``attempt()``:
a savepoint, so the failed use case leaves nothing behind while what the request did before it
(an audited reveal, for instance) is still committed with the page; when the request has
written and queued nothing before it, no savepoint is needed: a failure rolls everything back.

Commands use ``app.cli.common.transaction``, which calls ``complete`` and ``abandon`` the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, Response, g
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.extensions import db
from app.services.core_writes import holds_changes
from app.services.security import audit_queue


def complete(session: Session) -> None:
    """Commit the unit of work (the mail it queued wakes its worker with the commit)."""
    session.commit()


def abandon(session: Session) -> None:
    """Roll the unit of work back: its writes and its queued mail are gone."""
    session.rollback()


def abandon_quietly() -> None:
    """Roll the request's unit of work back, even when the connection behind it is gone (the
    error pages of a database outage)."""
    try:
        abandon(db.session())
    except SQLAlchemyError:
        db.session.remove()


@contextmanager
def attempt() -> Iterator[None]:
    """Run one use case so that if it raises, its writes are undone and the exception goes on
    to the caller (which shows it), the request's earlier writes kept: in a savepoint - or,
    when the request has written nothing yet and queued nothing (most answers: they read,
    then change), without one, a failure rolling the whole transaction back (its objects are
    read again when next used). The savepoint's two statements are then saved on every
    success."""
    session = db.session()
    if holds_changes(session) or audit_queue.pending(session):
        with session.begin_nested():
            yield
        return
    try:
        yield
    except BaseException:
        abandon(session)
        raise


class CommitFailed(Exception):
    """The database refused the commit of a request (a serialisation failure, a constraint
    checked at commit). Everything was rolled back; the person sees an error page."""


def keep_writes_on_error() -> None:
    """Commit this request's writes even though its answer is an error (see the module)."""
    g.relais_keep_writes_on_error = True


def keeps_writes_on_error() -> bool:
    return bool(g.get("relais_keep_writes_on_error"))


def install(app: Flask) -> None:
    """Register the per-request unit of work on ``app``, after the other response hooks so that
    it runs first (Flask runs them in reverse order) and a replaced response gets the headers.

    A failed commit is rolled back and answered with the error page of ``CommitFailed`` (the
    application's handler for unexpected exceptions: a 500 that shows nothing of the request).
    """

    @app.after_request
    def _finish_request(response: Response) -> Response:
        session = db.session()
        if response.status_code >= 400 and not keeps_writes_on_error():
            abandon(session)
            return response
        try:
            complete(session)
        except SQLAlchemyError as exc:
            abandon(session)
            failure = CommitFailed()
            failure.__cause__ = exc
            return app.make_response(app.handle_user_exception(failure))
        return response
