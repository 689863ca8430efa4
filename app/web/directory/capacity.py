"""The capacity statuses of a card: set one (per service, or the whole structure) or confirm
in one click that it still holds. Whoever may edit the card may do both; each is kept in the
card's history (``app.services.directory.capacity``)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.services.directory.capacity import confirm_capacity_status, set_capacity_status
from app.services.errors import ServiceError
from app.unit_of_work import attempt
from app.web.context import dbs
from app.web.directory.capacity_forms import ConfirmStatusForm, status_form
from app.web.directory.views import bp, card_context, editable, now
from app.web.forms_support import attach_error, service_message


@bp.post("/<code>/capacity-status")
def capacity_status(code: str) -> ResponseReturnValue:
    user, entry = editable(code)
    form = status_form(entry)
    if form.validate_on_submit():
        try:
            with attempt():
                set_capacity_status(
                    dbs(), user, entry.structure, form.service.data, form.status.data, now=now()
                )
        except ServiceError as exc:
            attach_error(form, exc, {})
        else:
            flash(_("Capacity status saved."), "success")
            return redirect(url_for("directory.card", code=entry.structure.code))
    context = card_context(entry) | {"status_form": form}
    return render_template("directory/card.html", **context), 422


@bp.post("/<code>/capacity-status/confirm")
def capacity_confirm(code: str) -> ResponseReturnValue:
    user, entry = editable(code)
    form = ConfirmStatusForm()
    if not form.validate_on_submit():
        flash(_("The form had expired; try again."), "error")
    else:
        try:
            with attempt():
                confirm_capacity_status(dbs(), user, entry.structure, form.service.data, now=now())
        except ServiceError as exc:
            flash(service_message(exc), "error")
        else:
            flash(_("Thank you: the capacity status is confirmed today."), "success")
    return redirect(url_for("directory.card", code=entry.structure.code))
