"""Mail delivery from the web layer, and the development outbox page.

``deliver_pending_now()`` is what a view calls right after its ``session.commit()``: it sends
the mails the request queued, and never raises (the scheduled ``flask --app app handoffs
send-mail`` retries what failed). ``/dev/outbox`` shows the latest mails to administrators,
only when mails are kept in the outbox (``MAIL_BACKEND = "outbox"``, development and tests):
elsewhere it does not exist.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, render_template
from flask.typing import ResponseReturnValue

from app.domain.roles import Role
from app.models import MailMessage
from app.services.notifications import (
    DeliveryReport,
    MailConfigError,
    MailError,
    RenderedMail,
    deliver_pending,
    mail_settings,
    make_sender,
    recent_messages,
    render_message,
)
from app.web.context import dbs, roles_required

bp = Blueprint("outbox", __name__, url_prefix="/dev")
log = logging.getLogger(__name__)

PAGE_SIZE = 100
# Mails a request sends at most after its commit; the rest waits for the scheduled job.
AFTER_REQUEST_LIMIT = 20


def deliver_pending_now(limit: int = AFTER_REQUEST_LIMIT) -> DeliveryReport | None:
    """Send the mails waiting in the outbox; call it after the view's commit.

    Never raises: a failure is logged as its type (or code) only, and the mails stay in the
    outbox for ``flask --app app handoffs send-mail``. Returns the report, or ``None`` when
    delivery could not run.
    """
    session = dbs()
    try:
        settings = mail_settings(current_app.config)
        report = deliver_pending(
            session,
            make_sender(settings),
            base_url=settings.base_url,
            now=datetime.now(UTC),
            limit=limit,
            retry_failed=False,
        )
        session.commit()
    except Exception as exc:  # a mail must never fail the person's request
        session.rollback()
        log.warning("mail delivery after a request failed: %s", type(exc).__name__)
        return None
    if report.failed:
        log.warning(
            "%d mail(s) not sent after a request (%s); send-mail retries them",
            report.failed,
            report.last_error,
        )
    return report


@dataclass(frozen=True, slots=True)
class OutboxRow:
    message: MailMessage
    text: RenderedMail | None  # as sent, or as it would be sent now; None if it cannot be


@bp.get("/outbox")
@roles_required(Role.ADMIN)
def index() -> ResponseReturnValue:
    """The latest mails, newest first, with their text."""
    if current_app.config.get("MAIL_BACKEND") != "outbox":
        abort(404)
    try:
        base_url = mail_settings(current_app.config).base_url
    except MailConfigError:
        base_url = ""
    session = dbs()
    rows = []
    for message in recent_messages(session, limit=PAGE_SIZE):
        try:
            text = render_message(session, message, base_url=base_url)
        except MailError:
            text = None
        rows.append(OutboxRow(message, text))
    return render_template("outbox/index.html", rows=rows, page_size=PAGE_SIZE)
