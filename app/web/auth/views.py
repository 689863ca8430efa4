"""Signing in and out, changing one's password, choosing the language."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

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
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFError
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from app.models import User
from app.services.errors import ServiceError
from app.services.security import accounts, sessions
from app.services.security.passwords import verify_password
from app.services.security.throttling import TooManyAttempts, attempt_keys
from app.unit_of_work import attempt
from app.web.auth.provider import logout_redirect, proconnect_enabled, to_provider
from app.web.auth.signing_in import clear_session, reauth_required, return_path, start_sign_in
from app.web.auth.signing_in import safe_next as _safe_next
from app.web.auth.throttle import limit_anonymous_posts, throttle_policy
from app.web.context import LANGUAGE, SESSION_TOKEN, actor, dbs
from app.web.errors import csrf_error
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


@bp.route("/login", methods=["GET", "POST"])
@limit_anonymous_posts
def login() -> ResponseReturnValue:
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = _check_credentials(form.email.data, form.password.data)
        except TooManyAttempts as exc:
            return _refuse_for_a_while(form, exc)
        if user is not None:
            return start_sign_in(user, _safe_next(form.next.data))
        # One message for every failure: unknown account, wrong password, closed account.
        flash(_("Wrong e-mail address or password, or account locked for a while."), "error")
    return _login_page(form)


@bp.errorhandler(CSRFError)
def _expired_form(exc: CSRFError) -> ResponseReturnValue:
    """A sign-in page left open past its form's lifetime (or a new browser session since):
    the page again with the address typed and a fresh form, not an error page that loses
    it. A sign-out button of an expired page: back to that page, whose button now works.
    Any other form of these pages: the error page every expired form gets."""
    if request.endpoint == "auth.login":
        typed = str(request.form.get("email", ""))[:254]
        form = LoginForm(formdata=None, email=typed, next=str(request.form.get("next", "")))
        flash(_("The sign-in page had expired: sign in again."), "error")
        return _login_page(form), 400
    if request.endpoint == "auth.logout":
        flash(_("The page had expired: choose Sign out again."), "error")
        return redirect(return_path())
    return csrf_error(exc)


def _login_page(form: LoginForm) -> str:
    return render_template("auth/login.html", form=form, proconnect=proconnect_enabled())


def _check_credentials(email: str, password: str) -> User | None:
    """The password check, behind the back-off of this login and this client address."""
    return accounts.authenticate(
        dbs(),
        email,
        password,
        keys=attempt_keys(current_app.config["SECRET_KEY"], email, request.remote_addr or ""),
        policy=throttle_policy(),
        now=datetime.now(UTC),
    )


def _refuse_for_a_while(form: LoginForm, exc: TooManyAttempts) -> ResponseReturnValue:
    """429 with when to try again; the same for every login, existing or not."""
    seconds = max(1, math.ceil(exc.wait.total_seconds()))
    when = format_timedelta(timedelta(seconds=seconds), add_direction=True)
    flash(_(exc.message, when=when), "error")
    page = _login_page(form)
    return page, 429, {"Retry-After": str(seconds)}


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    form = EmptyForm()
    if form.validate_on_submit():
        token = session.get(SESSION_TOKEN)
        ended = sessions.sign_out(dbs(), actor(), str(token or ""), now=datetime.now(UTC))
        logout_user()
        clear_session()
        flash(_("You are signed out."), "info")
        # A session opened with ProConnect also ends at the provider, which comes back here.
        provider_logout = logout_redirect(ended)
        if provider_logout:
            return to_provider(provider_logout, leaving=True)
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@reauth_required()
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
                clear_session()
                flash(_("Password changed. Sign in again with the new one."), "info")
                return redirect(url_for("auth.login"))
    return render_template("auth/password.html", form=form)


@bp.post("/language")
@limit_anonymous_posts
def set_language() -> ResponseReturnValue:
    form = EmptyForm()
    choice = request.form.get("lang", "")
    if form.validate_on_submit() and choice in current_app.config["LANGUAGES"]:
        session[LANGUAGE] = choice
        if current_user.is_authenticated:  # kept with the account: its mails, its next sign-in
            accounts.set_language(actor(), choice)
    return redirect(_safe_next(request.form.get("next")))
