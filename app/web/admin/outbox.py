"""The development outbox page.

Requests never send mail: they queue it with their change, and the mail worker (``flask --app
app mail work``) delivers it. ``/dev/outbox`` shows the latest mails to administrators, sent
or still waiting (with the text they would have now), only when mails are kept in the outbox
(``MAIL_BACKEND = "outbox"``, development and tests): elsewhere it does not exist.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, render_template
from flask.typing import ResponseReturnValue

from app.domain.roles import Role
from app.models import MailMessage
from app.services.mail.composing import RenderedMail, preview_messages
from app.services.mail.queue import recent_messages
from app.services.mail.settings import mail_settings
from app.services.mail.transport import MailConfigError
from app.web.context import dbs, roles_required

bp = Blueprint("outbox", __name__, url_prefix="/dev")
log = logging.getLogger(__name__)

PAGE_SIZE = 100


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
    messages = recent_messages(session, limit=PAGE_SIZE)
    previews = preview_messages(session, messages, base_url=base_url)
    rows = [OutboxRow(message, text) for message, text in zip(messages, previews, strict=True)]
    return render_template("admin/outbox.html", rows=rows, page_size=PAGE_SIZE)
