"""Signing in and out, changing one's password, choosing the language."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from app.services.errors import ServiceError
from app.services.security import accounts
from app.services.security.passwords import verify_password
from app.unit_of_work import attempt
from app.web.context import actor, dbs
from app.web.form_base import RelaisForm

bp = Blueprint("auth", __name__)


class LoginForm(RelaisForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()


class PasswordForm(RelaisForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=1024)],
        description=_l("At least 12 characters. A sentence of several words is easy to remember."),
    )
    confirm = PasswordField(
        _l("New password, again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class EmptyForm(RelaisForm):
    """A form with only its CSRF token, for buttons that change state."""


def _safe_next(target: str | None) -> str:
    """Only local paths are followed after sign-in (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        config = current_app.config
        user = accounts.authenticate(
            dbs(),
            form.email.data,
            form.password.data,
            now=datetime.now(UTC),
            max_failures=config["LOGIN_MAX_FAILURES"],
            lock_minutes=config["LOGIN_LOCK_MINUTES"],
        )
        if user is not None:
            session.clear()
            login_user(user)
            return redirect(_safe_next(form.next.data))
        # One message for every failure: unknown account, wrong password, locked, closed.
        flash(_("Wrong e-mail address or password, or account locked for a while."), "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    form = EmptyForm()
    if form.validate_on_submit():
        accounts.end_sessions(dbs(), actor())
        logout_user()
        session.clear()
        flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password() -> ResponseReturnValue:
    form = PasswordForm()
    user = actor()
    if form.validate_on_submit():
        if not verify_password(user.password_hash, form.current.data):
            form.current.errors.append(_("The current password is wrong."))
        else:
            try:
                with attempt():
                    accounts.set_password(
                        dbs(),
                        user,
                        user,
                        form.password.data,
                        min_length=current_app.config["PASSWORD_MIN_LENGTH"],
                    )
            except ServiceError as exc:
                form.password.errors.append(_(exc.message, **exc.params))
            else:
                logout_user()
                session.clear()
                flash(_("Password changed. Sign in again with the new one."), "info")
                return redirect(url_for("auth.login"))
    return render_template("auth/password.html", form=form)


@bp.post("/language")
def set_language() -> ResponseReturnValue:
    form = EmptyForm()
    choice = request.form.get("lang", "")
    if form.validate_on_submit() and choice in current_app.config["LANGUAGES"]:
        session["lang"] = choice
    return redirect(_safe_next(request.form.get("next")))
