"""A structure's API tokens (docs/api.md): listed with their last use, created (after a
fresh proof of identity; the token is shown once, on the page that answers the creation)
and revoked by the structure's managers and the administrators."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.domain.api import NAME_LIMIT, Scope
from app.models import Structure
from app.services.api import tokens
from app.services.errors import ServiceError
from app.unit_of_work import attempt
from app.web.auth.signing_in import reauth_required
from app.web.context import PARIS, actor, dbs
from app.web.form_base import RelaisForm
from app.web.forms_support import attach_error
from app.web.people.forms import MultiCheckboxField

bp = Blueprint("api_tokens", __name__, url_prefix="/structures")

SCOPE_LABELS = {
    Scope.PEOPLE_READ: _l("Read the people the structure follows (with their identity)"),
    Scope.PEOPLE_WRITE: _l("Register people"),
    Scope.HANDOFFS_READ: _l("Read the inbox and the outbox of hand-offs"),
    Scope.HANDOFFS_WRITE: _l("Send and answer hand-offs"),
    Scope.DIRECTORY_READ: _l("Read the partner directory"),
}


class TokenForm(RelaisForm):
    name = StringField(
        _l("Name of the software"), validators=[DataRequired(), Length(max=NAME_LIMIT)]
    )
    scopes = MultiCheckboxField(_l("What it may do"), validators=[Optional()])
    expires_on = DateField(_l("Expires on (optional)"), validators=[Optional()])


class RevokeForm(RelaisForm):
    """A button: revoke this token."""


def _structure(code: str) -> Structure:
    return tokens.managed_structure(dbs(), actor(), code)


def _form() -> TokenForm:
    form = TokenForm()
    form.scopes.choices = [(scope.value, str(SCOPE_LABELS[scope])) for scope in Scope]
    return form


def _page(structure: Structure, form: TokenForm, created: str | None = None) -> str:
    listed = tokens.tokens_of(dbs(), actor(), structure)
    return render_template(
        "manage/api_tokens.html",
        structure=structure,
        tokens=listed,
        form=form,
        revoke_form=RevokeForm(),
        created=created,
        scope_labels=SCOPE_LABELS,
        now=datetime.now(UTC),
    )


@bp.get("/<code>/api-tokens")
def index(code: str) -> ResponseReturnValue:
    return _page(_structure(code), _form())


@bp.post("/<code>/api-tokens")
@reauth_required("api_tokens.index")
def create(code: str) -> ResponseReturnValue:
    structure, form = _structure(code), _form()
    if not form.validate_on_submit():
        return _page(structure, form), 422
    expires = (
        datetime.combine(form.expires_on.data + timedelta(days=1), time(0), PARIS).astimezone(UTC)
        if form.expires_on.data
        else None
    )
    try:
        with attempt():
            _token, value = tokens.create_token(
                dbs(),
                actor(),
                structure,
                name=form.name.data or "",
                scopes=list(form.scopes.data or []),
                now=datetime.now(UTC),
                expires_at=expires,
            )
    except ServiceError as exc:
        attach_error(form, exc, {"expires_on": "expires_on"})
        return _page(structure, form), 422
    flash(_("Token created. Copy it now: it will not be shown again."), "success")
    return _page(structure, _form(), created=value)


@bp.post("/<code>/api-tokens/<int:token_id>/revoke")
def revoke(code: str, token_id: int) -> ResponseReturnValue:
    structure = _structure(code)
    form = RevokeForm()
    if form.validate_on_submit():
        token = tokens.token_of(dbs(), actor(), structure, token_id)
        if tokens.revoke_token(dbs(), actor(), token, now=datetime.now(UTC)):
            flash(_("Token revoked: it no longer works."), "success")
    return redirect(url_for("api_tokens.index", code=structure.code), 303)
