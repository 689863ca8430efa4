"""A structure's accounts, run by its managers and the administrators (issue 13, item 2):
the list, invitations (send, revoke, send again), deactivation and reactivation, the manager
role, and a leaving colleague's caseload handed over. Anyone else gets a 404, as if the page
did not exist (``managers.manages``; the services check again).

Also the public invitation page ``/invitation/<token>`` (``invitation.py``, same blueprint).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_number, ngettext
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.domain.numbers import read_id
from app.domain.roles import Role
from app.models import Invitation, Structure, User
from app.services.errors import ServiceError
from app.services.people import referents
from app.services.security import invitations, managers, staff
from app.services.structures import get_structure
from app.unit_of_work import attempt
from app.web.auth.signing_in import is_fresh
from app.web.context import actor, dbs
from app.web.forms_support import attach_error, service_message
from app.web.manage.forms import (
    ConfirmForm,
    InviteForm,
    ManagerForm,
    RowActionForm,
    base_url,
    invitation_lifetime,
)
from app.web.people.referents import HandOverForm

bp = Blueprint("accounts", __name__)


def managed_structure(code: str) -> Structure:
    """The structure of ``code`` if the signed-in account manages it, else a 404."""
    structure = get_structure(dbs(), code)
    if not managers.manages(actor(), structure.id):
        abort(404)
    return structure


def _account(structure: Structure, account_id: int) -> User:
    user = staff.account_of_structure(dbs(), structure.id, account_id)
    if user is None:
        abort(404)
    return user


def _invitation(structure: Structure, invitation_id: int) -> Invitation:
    found = invitations.get_invitation(dbs(), invitation_id)
    if found is None or found.structure_id != structure.id:
        abort(404)
    return found


def _back(structure: Structure, anchor: str = "") -> Response:
    return redirect(url_for("accounts.index", code=structure.code) + anchor)


def ask_reauthentication(target: str) -> Response:
    """Send to the password (and code) page, then back to ``target``."""
    flash(_("Confirm your identity to continue."), "info")
    return redirect(url_for("auth.reauthenticate", next=target))


@bp.get("/structures/<code>/accounts")
def index(code: str) -> ResponseReturnValue:
    structure = managed_structure(code)
    session, now = dbs(), datetime.now(UTC)
    rows = staff.structure_accounts(session, structure.id)
    pending = invitations.pending_invitations(session, structure.id, now=now)
    active_managers = [r.user for r in rows if r.user.active and r.user.manages_structure]
    return render_template(
        "manage/accounts.html",
        structure=structure,
        rows=rows,
        pending=pending,
        last_manager=active_managers[0].id if len(active_managers) == 1 else None,
        row_form=RowActionForm(formdata=None),
    )


@bp.route("/structures/<code>/accounts/invite", methods=["GET", "POST"])
def invite(code: str) -> ResponseReturnValue:
    """Invite a colleague by e-mail; making them a manager asks for the password again."""
    structure = managed_structure(code)
    form = InviteForm()
    if form.validate_on_submit():
        if form.manager.data and not is_fresh():
            return ask_reauthentication(url_for("accounts.invite", code=structure.code))
        try:
            with attempt():
                invitations.invite(
                    dbs(),
                    actor(),
                    email=form.email.data,
                    role=Role.CASEWORKER,
                    structure=structure,
                    manager=bool(form.manager.data),
                    now=datetime.now(UTC),
                    base_url=base_url(),
                    lifetime=invitation_lifetime(),
                    name_hint=form.name_hint.data,
                )
        except ServiceError as exc:
            attach_error(form, exc)
        else:
            flash(_("Invitation sent to %(email)s.", email=form.email.data.strip()), "success")
            return _back(structure, "#invitations")
    return render_template("manage/invite.html", structure=structure, form=form)


@bp.route("/structures/<code>/accounts/<int:account_id>/deactivate", methods=["GET", "POST"])
def deactivate(code: str, account_id: int) -> ResponseReturnValue:
    """Close a colleague's account, after a confirmation; then offer to hand over their
    caseload."""
    structure = managed_structure(code)
    user = _account(structure, account_id)
    session = dbs()
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            with attempt():
                closed = staff.deactivate(session, actor(), user)
        except ServiceError as exc:
            flash(service_message(exc), "error")
            return _back(structure)
        if closed:
            flash(_("The account of %(name)s is deactivated.", name=user.display_name), "success")
        if referents.referent_count(session, user):
            target = url_for("accounts.hand_over", code=structure.code)
            return redirect(f"{target}?from={user.id}")
        return _back(structure)
    refusal = deactivation_refused(user)
    if refusal is not None:
        flash(refusal, "error")
        return _back(structure)
    return render_template(
        "manage/deactivate.html",
        structure=structure,
        user=user,
        form=form,
        caseload=referents.referent_count(session, user),
        cancel=url_for("accounts.index", code=structure.code),
    )


def deactivation_refused(user: User) -> str | None:
    """Why closing ``user``'s open account would be refused (one's own, the last manager, an
    API token's), said before the confirmation page asks for it; ``None`` when it would not."""
    if not user.active:
        return None
    try:
        staff.check_deactivation(dbs(), actor(), user)
    except ServiceError as exc:
        return service_message(exc)
    return None


@bp.post("/structures/<code>/accounts/<int:account_id>/reactivate")
def reactivate(code: str, account_id: int) -> ResponseReturnValue:
    structure = managed_structure(code)
    user = _account(structure, account_id)
    if not RowActionForm().validate_on_submit():
        flash(_("The form had expired; try again."), "error")
        return _back(structure)
    try:
        with attempt():
            opened = staff.reactivate(dbs(), actor(), user, now=datetime.now(UTC))
    except ServiceError as exc:
        flash(service_message(exc), "error")
        return _back(structure)
    if opened:
        flash(_("The account of %(name)s is active again.", name=user.display_name), "success")
    return _back(structure)


@bp.post("/structures/<code>/accounts/<int:account_id>/manager")
def set_manager(code: str, account_id: int) -> ResponseReturnValue:
    """Give (or take back) the manager role; asks for the password again."""
    structure = managed_structure(code)
    user = _account(structure, account_id)
    form = ManagerForm()
    if not form.validate_on_submit():
        flash(_("The form had expired; try again."), "error")
        return _back(structure)
    if not is_fresh():
        return ask_reauthentication(url_for("accounts.index", code=structure.code))
    allowed = form.allowed.data == "y"
    try:
        with attempt():
            changed = staff.change_manager(dbs(), actor(), user, allowed)
    except ServiceError as exc:
        flash(service_message(exc), "error")
        return _back(structure)
    if changed:
        flash(
            _("%(name)s now manages the structure's accounts.", name=user.display_name)
            if allowed
            else _("%(name)s no longer manages the structure's accounts.", name=user.display_name),
            "success",
        )
    return _back(structure)


def _names(users: list[User]) -> list[tuple[int, str]]:
    return [
        (u.id, u.display_name if u.active else _("%(name)s (account closed)", name=u.display_name))
        for u in users
    ]


@bp.route("/structures/<code>/accounts/hand-over", methods=["GET", "POST"])
def hand_over(code: str) -> ResponseReturnValue:
    """Give the people a colleague is referent of to another active colleague: count first,
    then confirm (``referents.hand_over_caseload``, one audit event per person)."""
    structure = managed_structure(code)
    session, user = dbs(), actor()
    form = HandOverForm()
    everyone = referents.colleagues(session, user, active_only=False, structure_id=structure.id)
    form.from_user.choices = _names(everyone)
    form.to_user.choices = _names([u for u in everyone if u.active])
    if request.method == "GET":
        wanted = read_id(request.args.get("from", ""))
        source = next((u for u in everyone if u.id == wanted), None)
        form.from_user.data = source.id if source else None
        others = [u.id for u in everyone if u.active and (source is None or u.id != source.id)]
        form.to_user.data = others[0] if others else None
    count = None
    if form.validate_on_submit():
        try:
            with attempt():
                count = referents.hand_over_size(
                    session,
                    user,
                    form.from_user.data,
                    form.to_user.data,
                    structure_id=structure.id,
                )
                if form.confirmed.data:
                    moved = referents.hand_over_caseload(
                        session,
                        user,
                        form.from_user.data,
                        form.to_user.data,
                        structure_id=structure.id,
                    )
                    flash(
                        ngettext(
                            "%(people)s person handed over.",
                            "%(people)s people handed over.",
                            moved,
                            people=format_number(moved),
                        )
                        if moved
                        else _("Nobody to hand over."),
                        "success",
                    )
                    return _back(structure)
        except ServiceError as exc:
            attach_error(form, exc)
            count = None
    return render_template("manage/hand_over.html", structure=structure, form=form, count=count)


@bp.post("/structures/<code>/invitations/<int:invitation_id>/revoke")
def revoke_invitation(code: str, invitation_id: int) -> ResponseReturnValue:
    structure = managed_structure(code)
    invitation = _invitation(structure, invitation_id)
    revoke(invitation)
    return _back(structure, "#invitations")


@bp.post("/structures/<code>/invitations/<int:invitation_id>/resend")
def resend_invitation(code: str, invitation_id: int) -> ResponseReturnValue:
    structure = managed_structure(code)
    invitation = _invitation(structure, invitation_id)
    if invitation.manages_structure and not is_fresh():
        return ask_reauthentication(url_for("accounts.index", code=structure.code))
    resend(invitation)
    return _back(structure, "#invitations")


def revoke(invitation: Invitation) -> None:
    """Revoke ``invitation`` from a row's button (shared with the administrators' page)."""
    if not RowActionForm().validate_on_submit():
        flash(_("The form had expired; try again."), "error")
        return
    try:
        with attempt():
            done = invitations.revoke(dbs(), actor(), invitation, now=datetime.now(UTC))
    except ServiceError as exc:
        flash(service_message(exc), "error")
        return
    if done:
        flash(_("The invitation of %(email)s is revoked.", email=invitation.email), "success")
    else:
        flash(_("This invitation was used, revoked or has expired."), "info")


def resend(invitation: Invitation) -> None:
    """Send ``invitation`` again with a new link (shared with the administrators' page)."""
    if not RowActionForm().validate_on_submit():
        flash(_("The form had expired; try again."), "error")
        return
    try:
        with attempt():
            invitations.resend(
                dbs(),
                actor(),
                invitation,
                now=datetime.now(UTC),
                base_url=base_url(),
                lifetime=invitation_lifetime(),
            )
    except ServiceError as exc:
        flash(service_message(exc), "error")
        return
    flash(_("A new invitation was sent to %(email)s.", email=invitation.email), "success")
