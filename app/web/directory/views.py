"""The partner directory: search the network, read a card, keep one's own card up to date.

Every signed-in role reads the directory; field workers read nothing else. With
``RELAIS_PUBLIC_DIRECTORY`` on, visitors who are not signed in read the search page and the
cards too (``Visitors.PUBLIC_DIRECTORY`` in ``app/web/access.py``), without the history of changes. Editing is for
administrators and for the caseworkers an administrator allowed to edit their structure's
card; anyone else gets 404.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from app.domain.directory import Fee, ReceptionMode, ReferralMode, ServiceType, ZoneType
from app.domain.roles import Role
from app.models import ReferenceKind, User
from app.services.directory.cards import confirm_card, update_capacity, update_card
from app.services.directory.editors import (
    can_edit_card,
    card_editors,
    editor_account,
    set_card_editor,
)
from app.services.directory.history import card_history_to_show
from app.services.directory.search import (
    DirectoryEntry,
    DirectoryQuery,
    directory_entry,
    search_directory,
    stale_count,
)
from app.services.errors import ServiceError
from app.services.structures import reference_items
from app.unit_of_work import attempt
from app.web.auth.signing_in import reauth_required
from app.web.context import actor, dbs, named, roles_required, today
from app.web.directory.capacity_forms import ConfirmStatusForm, status_form
from app.web.directory.capacity_forms import lines as capacity_lines_of
from app.web.directory.forms import (
    CapacityForm,
    CardForm,
    ConfirmForm,
    EditorForm,
    card_form_data,
    card_input,
    set_card_choices,
)
from app.web.directory.labels import (
    CHANGE_KINDS,
    age_range,
    describe_change,
    opening_hours_lines,
    vocabulary_label,
)
from app.web.forms_support import attach_error, service_message

bp = Blueprint("directory", __name__, url_prefix="/directory")

SEARCH_LISTS = (
    ReferenceKind.BARRIER_CATEGORY,
    ReferenceKind.STAGE,
    ReferenceKind.COHORT,
    ReferenceKind.QPV,
)


def viewer() -> User | None:
    """The signed-in user, or None for a visitor of the public directory."""
    user = current_user._get_current_object()
    if isinstance(user, User):
        return user
    if not current_app.config["PUBLIC_DIRECTORY"]:
        abort(404)
    return None


def now() -> datetime:
    return datetime.now(UTC)


def stale_months() -> int:
    return int(current_app.config["DIRECTORY_STALE_MONTHS"])


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {
        "opening_hours_lines": opening_hours_lines,
        "age_range": age_range,
        "vocabulary_label": vocabulary_label,
        "ReferralMode": ReferralMode,
        "ReceptionMode": ReceptionMode,
        "ServiceType": ServiceType,
        "Fee": Fee,
        "ZoneType": ZoneType,
        "ReferenceKind": ReferenceKind,
        "stale_months": stale_months,
    }


def _query() -> DirectoryQuery:
    def arg(name: str) -> str | None:
        return request.args.get(name, "").strip()[:64] or None

    return DirectoryQuery(
        barrier=arg("barrier"),
        stage=arg("stage"),
        cohort=arg("cohort"),
        qpv=arg("qpv"),
        text=request.args.get("q", "").strip()[:100],
        stale_only=request.args.get("stale") == "1",
    )


@bp.get("/")
def index() -> ResponseReturnValue:
    user, session = viewer(), dbs()
    query = _query()
    entries = search_directory(session, query, today=today(), stale_months=stale_months())
    stale = stale_count(session, user, today=today(), stale_months=stale_months())
    return render_template(
        "directory/index.html",
        entries=entries,
        query=query,
        lists={kind: reference_items(session, kind) for kind in SEARCH_LISTS},
        viewer=user,
        stale=stale,
    )


@bp.get("/<code>")
def card(code: str) -> ResponseReturnValue:
    entry = directory_entry(dbs(), code, today=today(), stale_months=stale_months())
    return render_template("directory/card.html", **card_context(entry))


def card_context(entry: DirectoryEntry) -> dict[str, Any]:
    """What the card page shows to the viewer (the editing forms to its editors)."""
    user, session = viewer(), dbs()
    context: dict[str, Any] = {
        "entry": entry,
        "viewer": user,
        "can_edit": False,
        "capacity_lines": capacity_lines_of(entry),
    }
    if user is not None:
        shown = card_history_to_show(session, entry.structure)
        history = [
            (
                change,
                CHANGE_KINDS.get(change.kind, change.kind),
                describe_change(change, shown.items),
            )
            for change in shown.changes
        ]
        context |= {"history": history, "editors": card_editors(session, entry.structure)}
        if can_edit_card(user, entry.structure):
            context |= {
                "can_edit": True,
                "capacity_form": CapacityForm(capacity=entry.structure.capacity),
                "confirm_form": ConfirmForm(),
                "status_form": status_form(entry),
                "status_confirm_form": ConfirmStatusForm(),
            }
    return context


def editable(code: str) -> tuple[User, DirectoryEntry]:
    user = actor()
    entry = directory_entry(dbs(), code, today=today(), stale_months=stale_months())
    if not can_edit_card(user, entry.structure):
        abort(404)
    return user, entry


@bp.route("/<code>/edit", methods=["GET", "POST"])
def edit(code: str) -> ResponseReturnValue:
    user, entry = editable(code)
    session, admin = dbs(), user.role is Role.ADMIN
    form = CardForm(data=None if request.method == "POST" else card_form_data(entry))
    set_card_choices(form, admin=admin)
    if form.validate_on_submit():
        try:
            with attempt():
                change = update_card(
                    session, user, entry.structure, card_input(form, admin=admin), now=now()
                )
        except ServiceError as exc:
            attach_error(form, exc, {"services": ""})
        else:
            message = _("Card saved.") if change.changes else _("Card checked: nothing changed.")
            flash(message, "success")
            return redirect(url_for("directory.card", code=entry.structure.code))
    return render_template("directory/edit.html", form=form, entry=entry, admin=admin)


@bp.post("/<code>/capacity")
def capacity(code: str) -> ResponseReturnValue:
    user, entry = editable(code)
    form, session = CapacityForm(), dbs()
    if not form.validate_on_submit():
        flash(_("Enter a number of free places (or leave it empty)."), "error")
    else:
        try:
            with attempt():
                update_capacity(session, user, entry.structure, form.capacity.data, now=now())
        except ServiceError as exc:
            flash(service_message(exc), "error")
        else:
            flash(_("Free places updated."), "success")
    return redirect(url_for("directory.card", code=entry.structure.code))


@bp.post("/<code>/check")
def check(code: str) -> ResponseReturnValue:
    user, entry = editable(code)
    session = dbs()
    if ConfirmForm().validate_on_submit():
        confirm_card(session, user, entry.structure, now=now())
        flash(_("Thank you: the card is marked as checked today."), "success")
    else:
        flash(_("The form had expired; try again."), "error")
    return redirect(url_for("directory.card", code=entry.structure.code))


@bp.post("/editors/<int:user_id>")
@roles_required(Role.ADMIN)
@reauth_required("admin.users", with_args=False)
def set_editor(user_id: int) -> ResponseReturnValue:
    session = dbs()
    user = editor_account(session, user_id)
    if user is None:
        abort(404)
    form = EditorForm()
    if form.validate_on_submit():
        try:
            with attempt():
                set_card_editor(session, actor(), user, bool(form.allowed.data))
        except ServiceError as exc:
            flash(service_message(exc), "error")
        else:
            names = {"name": user.display_name, "of_structure": named(user.structure).of}
            if user.can_edit_card:
                flash(_("%(name)s may now edit the card of %(of_structure)s.", **names), "success")
            else:
                flash(
                    _("%(name)s may no longer edit the card of %(of_structure)s.", **names),
                    "success",
                )
    return redirect(url_for("admin.users"))
