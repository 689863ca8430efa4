"""Administrators: structures, accounts and reference lists. No identity is shown here."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectField

from app.domain.french import Article, guess_article, phrases
from app.domain.roles import Role
from app.models import Invitation, Structure
from app.services.errors import ServiceError
from app.services.people.referents import referent_count
from app.services.security import invitations, second_factor, staff
from app.services.security.accounts import AccountFilters, get_account, list_users
from app.services.structures import (
    every_reference_list,
    get_structure,
    list_structures,
    set_structure_article,
)
from app.unit_of_work import attempt
from app.web.auth.signing_in import reauth_required
from app.web.context import actor, dbs, named, roles_required
from app.web.form_base import RelaisForm
from app.web.forms_support import attach_error, service_message
from app.web.manage import accounts as structure_accounts
from app.web.manage.forms import (
    AdminInviteForm,
    ConfirmForm,
    RowActionForm,
    base_url,
    invitation_lifetime,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")

SEARCH_LIMIT = 100  # characters of the accounts' search kept (a name or an address)


class ArticleForm(RelaisForm):
    """The article of a structure's name in French sentences; one form per row."""

    article = SelectField(_l("Article in French sentences"))


def _article_form(structure: Structure, **options: object) -> ArticleForm:
    form = ArticleForm(prefix=f"a{structure.id}", **options)
    form.article.id = f"article-{structure.id}"
    # Each choice shows how French sentences read with it ("à la Mission Locale"), whatever
    # the page's language: the article is French, and said so to screen readers (lang).
    guessed = phrases(structure.name, guess_article(structure.name), "fr").to
    french = {"lang": "fr"}
    form.article.choices = [
        SelectChoice("", _("From the name: %(example)s", example=guessed)),
        *[SelectChoice(a.value, phrases(structure.name, a, "fr").to, french) for a in Article],
    ]
    return form


@bp.get("/structures")
@roles_required(Role.ADMIN)
def structures() -> ResponseReturnValue:
    session = dbs()
    users = list_users(session)
    staff = Counter(u.structure_id for u in users if u.active and u.structure_id)
    listed = list_structures(session)
    forms = {s.id: _article_form(s, formdata=None, article=s.article or "") for s in listed}
    return render_template("admin/structures.html", structures=listed, staff=staff, forms=forms)


@bp.post("/structures/<code>/article")
@roles_required(Role.ADMIN)
def structure_article(code: str) -> ResponseReturnValue:
    session = dbs()
    structure = get_structure(session, code)
    form = _article_form(structure)
    back = url_for("admin.structures") + f"#structure-{structure.id}"
    if not form.validate_on_submit():
        flash(_("The form had expired; try again."), "error")
        return redirect(back)
    try:
        with attempt():
            set_structure_article(session, actor(), structure, form.article.data or None)
    except ServiceError as exc:
        flash(service_message(exc), "error")
        return redirect(back)
    flash(_("Sentences now name it %(structure)s.", structure=named(structure).the), "success")
    return redirect(back)


@bp.get("/users")
@roles_required(Role.ADMIN)
def users() -> ResponseReturnValue:
    """Every account, or those the filters keep (a territory has a few hundred); the
    invitations of the accounts with no structure (coordinators, administrators, field
    workers), which are invited from here."""
    session = dbs()
    structures = list_structures(session)
    filters = _account_filters(structures)
    return render_template(
        "admin/users.html",
        users=list_users(session, filters),
        filters=filters,
        roles=list(Role),
        structures=structures,
        structure_code=request.args.get("structure", "") if filters.structure_id else None,
        pending=invitations.pending_invitations(session, None, now=datetime.now(UTC)),
        structure=None,
        revoke_endpoint="admin.revoke_invitation",
        resend_endpoint="admin.resend_invitation",
    )


def _account_filters(structures: list[Structure]) -> AccountFilters:
    """The list's filters from the query string; a value Relais does not know is no filter."""
    role = request.args.get("role", "")
    code = request.args.get("structure", "")
    status = request.args.get("status", "")
    return AccountFilters(
        text=request.args.get("q", "").strip()[:SEARCH_LIMIT],
        role=Role(role) if role in Role._value2member_map_ else None,
        structure_id=next((s.id for s in structures if s.code == code), None),
        active={"active": True, "deactivated": False}.get(status),
    )


@bp.route("/users/invite", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
@reauth_required("admin.invite", with_args=False)
def invite() -> ResponseReturnValue:
    """Invite a coordinator, an administrator or a field worker (the password again first:
    these accounts see every pathway or run Relais). Caseworkers are invited from their
    structure's accounts page."""
    form = AdminInviteForm()
    if form.validate_on_submit():
        try:
            with attempt():
                invitations.invite(
                    dbs(),
                    actor(),
                    email=form.email.data,
                    role=Role(form.role.data),
                    structure=None,
                    manager=False,
                    now=datetime.now(UTC),
                    base_url=base_url(),
                    lifetime=invitation_lifetime(),
                    name_hint=form.name_hint.data,
                )
        except ServiceError as exc:
            attach_error(form, exc)
        else:
            flash(_("Invitation sent to %(email)s.", email=form.email.data.strip()), "success")
            return redirect(url_for("admin.users") + "#invitations")
    return render_template("admin/invite.html", form=form)


@bp.route("/users/<int:user_id>/deactivate", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def deactivate_user(user_id: int) -> ResponseReturnValue:
    """Close any account (not one's own, not a structure's last manager), after a
    confirmation. A caseworker's caseload is handed over from their structure's page."""
    session = dbs()
    account = get_account(session, user_id)
    if account is None:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            with attempt():
                closed = staff.deactivate(session, actor(), account)
        except ServiceError as exc:
            flash(service_message(exc), "error")
            return redirect(url_for("admin.users"))
        if closed:
            flash(
                _("The account of %(name)s is deactivated.", name=account.display_name), "success"
            )
        return redirect(url_for("admin.users"))
    refusal = structure_accounts.deactivation_refused(account)
    if refusal is not None:
        flash(refusal, "error")
        return redirect(url_for("admin.users"))
    return render_template(
        "manage/deactivate.html",
        user=account,
        form=form,
        caseload=referent_count(session, account),
        cancel=url_for("admin.users"),
    )


@bp.post("/users/<int:user_id>/reactivate")
@roles_required(Role.ADMIN)
def reactivate_user(user_id: int) -> ResponseReturnValue:
    account = get_account(dbs(), user_id)
    if account is None:
        abort(404)
    if not RowActionForm().validate_on_submit():
        flash(_("The form had expired; try again."), "error")
        return redirect(url_for("admin.users"))
    try:
        with attempt():
            opened = staff.reactivate(dbs(), actor(), account, now=datetime.now(UTC))
    except ServiceError as exc:
        flash(service_message(exc), "error")
        return redirect(url_for("admin.users"))
    if opened:
        flash(_("The account of %(name)s is active again.", name=account.display_name), "success")
    return redirect(url_for("admin.users"))


def _any_invitation(invitation_id: int) -> Invitation:
    found = invitations.get_invitation(dbs(), invitation_id)
    if found is None:
        abort(404)
    return found


@bp.post("/invitations/<int:invitation_id>/revoke")
@roles_required(Role.ADMIN)
def revoke_invitation(invitation_id: int) -> ResponseReturnValue:
    structure_accounts.revoke(_any_invitation(invitation_id))
    return redirect(url_for("admin.users") + "#invitations")


@bp.post("/invitations/<int:invitation_id>/resend")
@roles_required(Role.ADMIN)
@reauth_required("admin.users", with_args=False)
def resend_invitation(invitation_id: int) -> ResponseReturnValue:
    structure_accounts.resend(_any_invitation(invitation_id))
    return redirect(url_for("admin.users") + "#invitations")


@bp.route("/users/<int:user_id>/second-factor/reset", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
@reauth_required("admin.users", with_args=False)
def reset_second_factor(user_id: int) -> ResponseReturnValue:
    """Remove an account's second factor (a lost phone), after a confirmation page: its
    sessions end; a coordinator or an administrator sets up a new one at the next sign-in.
    Audited."""
    account = get_account(dbs(), user_id)
    if account is None:
        abort(404)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return render_template(
            "admin/reset_second_factor.html", user=account, form=form, cancel=url_for("admin.users")
        )
    if second_factor.reset(dbs(), actor(), account, end_sessions=True):
        flash(_("The second factor of %(name)s is removed.", name=account.display_name), "success")
    else:
        flash(_("%(name)s had no second factor.", name=account.display_name), "info")
    return redirect(url_for("admin.users"))


@bp.get("/reference")
@roles_required(Role.ADMIN)
def reference() -> ResponseReturnValue:
    session = dbs()
    lists = every_reference_list(session)
    return render_template("admin/reference.html", lists=lists)
