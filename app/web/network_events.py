"""Network events (*temps d'interconnaissance*): coordinators and administrators record them,
caseworkers read them. Field workers and visitors do not see them."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.domain.roles import Role
from app.models import NetworkEvent
from app.services.errors import ServiceError
from app.services.network_events import (
    EventInput,
    cooperation_around,
    get_event,
    list_events,
    record_event,
    update_event,
)
from app.services.structures import list_structures
from app.web.context import actor, dbs, roles_required, today
from app.web.directory_forms import EventForm
from app.web.forms_support import attach_error

bp = Blueprint("network_events", __name__, url_prefix="/network-events")

READERS = (Role.COORDINATOR, Role.ADMIN, Role.CASEWORKER)
RECORDERS = (Role.COORDINATOR, Role.ADMIN)


@bp.get("/")
@roles_required(*READERS)
def index() -> ResponseReturnValue:
    user = actor()
    events = list_events(dbs(), user)
    return render_template(
        "network_events/index.html",
        events=events,
        can_record=user.role in RECORDERS,
        own=user.structure_id,
    )


@bp.get("/<int:event_id>")
@roles_required(*READERS)
def detail(event_id: int) -> ResponseReturnValue:
    session, user = dbs(), actor()
    event = get_event(session, user, event_id)
    cooperation = None
    if user.role is Role.COORDINATOR:
        threshold = current_app.config["SMALL_COUNT_THRESHOLD"]
        cooperation = cooperation_around(session, event, threshold=threshold)
    return render_template(
        "network_events/detail.html",
        event=event,
        cooperation=cooperation,
        can_record=user.role in RECORDERS,
    )


def _form(event: NetworkEvent | None = None) -> EventForm:
    form = EventForm(obj=event) if event is not None else EventForm(held_on=today())
    form.structures.choices = [
        (str(s.id), s.name) for s in list_structures(dbs(), include_inactive=False)
    ]
    if event is not None and not form.is_submitted():
        form.structures.data = [str(s.id) for s in event.structures]
    return form


def _input(form: EventForm) -> EventInput:
    return EventInput(
        theme=form.theme.data or "",
        held_on=form.held_on.data,
        participants=form.participants.data,
        structure_ids=[int(value) for value in form.structures.data or [] if value.isdigit()],
        follow_ups=form.follow_ups.data or "",
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*RECORDERS)
def new() -> ResponseReturnValue:
    session, user = dbs(), actor()
    form = _form()
    if form.validate_on_submit():
        try:
            event = record_event(session, user, _input(form), today=today())
        except ServiceError as exc:
            session.rollback()
            attach_error(form, exc)
        else:
            session.commit()
            flash(_("Event recorded."), "success")
            return redirect(url_for("network_events.detail", event_id=event.id))
    return render_template("network_events/form.html", form=form, event=None)


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
@roles_required(*RECORDERS)
def edit(event_id: int) -> ResponseReturnValue:
    session, user = dbs(), actor()
    event = get_event(session, user, event_id)
    form = _form(event)
    if form.validate_on_submit():
        try:
            update_event(session, user, event, _input(form), today=today(), now=datetime.now(UTC))
        except ServiceError as exc:
            session.rollback()
            attach_error(form, exc)
        else:
            session.commit()
            flash(_("Event saved."), "success")
            return redirect(url_for("network_events.detail", event_id=event.id))
    return render_template("network_events/form.html", form=form, event=event)
