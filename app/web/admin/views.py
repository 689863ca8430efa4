"""Administrators: structures, accounts and reference lists. No identity is shown here."""

from __future__ import annotations

from collections import Counter

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectField

from app.domain.french import Article, guess_article, phrases
from app.domain.roles import Role
from app.models import ReferenceKind, Structure
from app.services.errors import ServiceError
from app.services.security import second_factor
from app.services.security.accounts import get_account, list_users
from app.services.structures import (
    get_structure,
    list_structures,
    reference_items,
    set_structure_article,
)
from app.unit_of_work import attempt
from app.web.auth.signing_in import reauth_required
from app.web.context import actor, dbs, named, roles_required
from app.web.form_base import RelaisForm
from app.web.forms_support import service_message

bp = Blueprint("admin", __name__, url_prefix="/admin")


class ArticleForm(RelaisForm):
    """The article of a structure's name in French sentences; one form per row."""

    article = SelectField(_l("Article in French sentences"))


def _article_form(structure: Structure, **options: object) -> ArticleForm:
    form = ArticleForm(prefix=f"a{structure.id}", **options)
    form.article.id = f"article-{structure.id}"
    # Each choice shows how French sentences read with it ("à la Mission Locale"), whatever
    # the page's language: the article is French.
    guessed = phrases(structure.name, guess_article(structure.name), "fr").to
    form.article.choices = [
        SelectChoice("", _("From the name: %(example)s", example=guessed)),
        *[SelectChoice(a.value, phrases(structure.name, a, "fr").to) for a in Article],
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
    return render_template("admin/users.html", users=list_users(dbs()))


class ResetForm(RelaisForm):
    """Only the CSRF token: the account is in the address."""


@bp.post("/users/<int:user_id>/second-factor/reset")
@roles_required(Role.ADMIN)
@reauth_required("admin.users", with_args=False)
def reset_second_factor(user_id: int) -> ResponseReturnValue:
    """Remove an account's second factor (a lost phone): its sessions end; a coordinator or
    an administrator sets up a new one at the next sign-in. Audited."""
    account = get_account(dbs(), user_id)
    if account is None:
        abort(404)
    if not ResetForm().validate_on_submit():
        flash(_("The form had expired; try again."), "error")
    elif second_factor.reset(dbs(), actor(), account, end_sessions=True):
        flash(_("The second factor of %(name)s is removed.", name=account.display_name), "success")
    else:
        flash(_("%(name)s had no second factor.", name=account.display_name), "info")
    return redirect(url_for("admin.users"))


@bp.get("/reference")
@roles_required(Role.ADMIN)
def reference() -> ResponseReturnValue:
    session = dbs()
    lists = {kind: reference_items(session, kind, include_inactive=True) for kind in ReferenceKind}
    return render_template("admin/reference.html", lists=lists)
