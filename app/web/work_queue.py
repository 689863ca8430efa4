"""The caseworker's home page, "À faire": what waits for their structure, oldest first."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue

from app.domain.roles import Role
from app.services.people import identity
from app.services.work_queue import work_queue
from app.web.context import actor, dbs, roles_required, today, vault

bp = Blueprint("work", __name__, url_prefix="/work")


@bp.get("/")
@roles_required(Role.CASEWORKER)
def index() -> ResponseReturnValue:
    session, user = dbs(), actor()
    queue = work_queue(
        session,
        user,
        today=today(),
        now=datetime.now(UTC),
        overdue_days=current_app.config["HANDOFF_OVERDUE_DAYS"],
        idle_weeks=current_app.config["IDLE_WEEKS"],
        lost_days=current_app.config["LOST_FROM_VIEW_DAYS"],
        lost_contact_days=current_app.config["LOST_FIRST_CONTACT_DAYS"],
    )
    shown = [person for person in queue.people if person.id in queue.followed]
    names = identity.reveal_identities(
        vault(), session, user, shown, "work_queue", identity.SUMMARY_FIELDS
    )
    return render_template("work/index.html", queue=queue, names=names, today=today())
