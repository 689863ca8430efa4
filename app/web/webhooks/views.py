"""The webhooks of one structure: register an address (its secret shown once), send a test
event, see the recent deliveries, disable or enable, renew the secret, delete.

For the structure's managers and the administrators (``own(ADMIN)`` in the matrix); anyone
else gets 404. Registering and renewing a secret ask for the password again
(``reauth_required``). The services check the right again and audit every action.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.domain.webhooks import WebhookEvent, parse_events
from app.models import Structure, User
from app.services.errors import ServiceError
from app.services.security.managers import manages
from app.services.structures import get_structure
from app.services.webhooks import endpoints, queue
from app.services.webhooks.settings import webhook_settings
from app.unit_of_work import attempt
from app.web.auth.signing_in import reauth_required
from app.web.context import actor, dbs, vault
from app.web.forms_support import attach_error, service_message
from app.web.webhooks.forms import (
    EVENT_LABELS,
    ActiveForm,
    ButtonForm,
    DeleteForm,
    EndpointForm,
)

bp = Blueprint("webhooks", __name__, url_prefix="/structures/<code>/webhooks")

RECENT = 50


def now() -> datetime:
    return datetime.now(UTC)


def _managed(code: str) -> tuple[User, Structure]:
    """The actor and the structure of ``code``, if the actor manages it; 404 otherwise."""
    user = actor()
    try:
        structure = get_structure(dbs(), code)
    except ServiceError:
        abort(404)
    if not manages(user, structure.id):
        abort(404)
    return user, structure


def _page(structure: Structure, form: EndpointForm | None = None) -> str:
    session = dbs()
    found = endpoints.endpoints_of(session, structure.id)
    context: dict[str, Any] = {
        "structure": structure,
        "endpoints": found,
        "subscribed": {e.id: sorted(parse_events(e.events)) for e in found},
        "deliveries": queue.recent_deliveries(session, structure.id, limit=RECENT),
        "given_up": queue.given_up_count(session, structure.id),
        "event_labels": EVENT_LABELS,
        "form": form or EndpointForm(),
        "active_form": ActiveForm(),
        "delete_form": DeleteForm(),
        "button_form": ButtonForm(),
        "PING": WebhookEvent.PING,
    }
    return render_template("webhooks/index.html", **context)


@bp.get("")
def index(code: str) -> ResponseReturnValue:
    _user, structure = _managed(code)
    return _page(structure)


@bp.post("/new")
@reauth_required("webhooks.index")
def register(code: str) -> ResponseReturnValue:
    user, structure = _managed(code)
    form = EndpointForm()
    if form.validate_on_submit():
        try:
            with attempt():
                registered = endpoints.register(
                    dbs(),
                    vault().keys,
                    user,
                    structure,
                    url=form.url.data or "",
                    description=form.description.data or "",
                    events=[WebhookEvent(name) for name in form.events.data or ()],
                    settings=webhook_settings(current_app.config),
                    now=now(),
                )
        except ServiceError as exc:
            attach_error(form, exc)
        else:
            return render_template(
                "webhooks/secret.html",
                structure=structure,
                endpoint=registered.endpoint,
                secret=registered.secret,
                new=True,
            )
    return _page(structure, form)


def _endpoint(code: str, webhook_id: str) -> tuple[User, Structure, Any]:
    user, structure = _managed(code)
    return user, structure, endpoints.endpoint_of(dbs(), structure.id, webhook_id)


def _back(structure: Structure) -> ResponseReturnValue:
    return redirect(url_for("webhooks.index", code=structure.code))


@bp.post("/<webhook_id>/ping")
def ping(code: str, webhook_id: str) -> ResponseReturnValue:
    user, structure, endpoint = _endpoint(code, webhook_id)
    if ButtonForm().validate_on_submit():
        queue.queue_ping(dbs(), user, endpoint, now=now())
        flash(_("A test event is on its way: its delivery appears below."), "success")
    else:
        flash(_("The form had expired; try again."), "error")
    return _back(structure)


@bp.post("/<webhook_id>/active")
def set_active(code: str, webhook_id: str) -> ResponseReturnValue:
    user, structure, endpoint = _endpoint(code, webhook_id)
    form = ActiveForm()
    if form.validate_on_submit():
        active = bool(form.active.data)
        endpoints.set_active(dbs(), user, endpoint, active, now=now())
        if active:
            flash(_("The webhook is enabled."), "success")
        else:
            flash(_("The webhook is disabled: it is sent nothing."), "success")
    else:
        flash(_("The form had expired; try again."), "error")
    return _back(structure)


@bp.post("/<webhook_id>/secret")
@reauth_required("webhooks.index")
def new_secret(code: str, webhook_id: str) -> ResponseReturnValue:
    user, structure, endpoint = _endpoint(code, webhook_id)
    if not ButtonForm().validate_on_submit():
        flash(_("The form had expired; try again."), "error")
        return _back(structure)
    secret = endpoints.renew_secret(dbs(), vault().keys, user, endpoint)
    return render_template(
        "webhooks/secret.html", structure=structure, endpoint=endpoint, secret=secret, new=False
    )


@bp.post("/<webhook_id>/delete")
def delete(code: str, webhook_id: str) -> ResponseReturnValue:
    user, structure, endpoint = _endpoint(code, webhook_id)
    if DeleteForm().validate_on_submit():
        try:
            with attempt():
                endpoints.delete_endpoint(dbs(), user, endpoint)
        except ServiceError as exc:
            flash(service_message(exc), "error")
        else:
            flash(_("The webhook is deleted."), "success")
    else:
        flash(_("Tick the box to confirm the deletion."), "error")
    return _back(structure)
