"""Network events (*temps d'interconnaissance*): coordinators and administrators record them,
caseworkers read them. Field workers and visitors do not see them."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.services.directory.network_events import (
    READERS,
    RECORDERS,
    can_record_events,
    cooperation_shown_to,
    get_event,
    list_events,
    record_event,
    update_event,
)
from app.services.errors import ServiceError
from app.services.repeats import AlreadyRecorded
from app.services.submissions import AlreadySubmitted, fulfil
from app.unit_of_work import attempt
from app.web.context import actor, dbs, roles_required, today
from app.web.directory.forms import event_form, event_input
from app.web.forms_support import attach_error, keeps_typed_values
from app.web.submissions import already_recorded, claim, shown_once

bp = Blueprint("network_events", __name__, url_prefix="/network-events")


@bp.get("/")
@roles_required(*READERS)
def index() -> ResponseReturnValue:
    user = actor()
    events = list_events(dbs(), user)
    return render_template(
        "directory/events/index.html",
        events=events,
        can_record=can_record_events(user),
        own=user.structure_id,
    )


@bp.get("/<int:event_id>")
@roles_required(*READERS)
def detail(event_id: int) -> ResponseReturnValue:
    session, user = dbs(), actor()
    event = get_event(session, user, event_id)
    threshold = current_app.config["SMALL_COUNT_THRESHOLD"]
    return render_template(
        "directory/events/detail.html",
        event=event,
        cooperation=cooperation_shown_to(session, user, event, threshold=threshold),
        can_record=can_record_events(user),
    )


@bp.route("/new", methods=["GET", "POST"])
@keeps_typed_values
@roles_required(*RECORDERS)
def new() -> ResponseReturnValue:
    session, user = dbs(), actor()
    form = event_form()
    if form.validate_on_submit():
        try:
            with attempt():
                claimed = claim(form, "network_event")
                event = record_event(session, user, event_input(form), today=today())
                fulfil(session, claimed, url_for("network_events.detail", event_id=event.id))
        except AlreadySubmitted as exc:
            return already_recorded(exc, url_for("network_events.index"))
        except AlreadyRecorded as exc:  # the same event, sent from another tab
            return shown_once(url_for("network_events.detail", event_id=exc.record.id))
        except ServiceError as exc:
            attach_error(form, exc)
        else:
            flash(_("Event recorded."), "success")
            return redirect(url_for("network_events.detail", event_id=event.id))
    return render_template("directory/events/form.html", form=form, event=None)


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
@keeps_typed_values
@roles_required(*RECORDERS)
def edit(event_id: int) -> ResponseReturnValue:
    session, user = dbs(), actor()
    event = get_event(session, user, event_id)
    form = event_form(event)
    if form.validate_on_submit():
        try:
            with attempt():
                update_event(
                    session, user, event, event_input(form), today=today(), now=datetime.now(UTC)
                )
        except ServiceError as exc:
            attach_error(form, exc)
        else:
            flash(_("Event saved."), "success")
            return redirect(url_for("network_events.detail", event_id=event.id))
    return render_template("directory/events/form.html", form=form, event=event)
