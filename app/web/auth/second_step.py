"""The code asked after the password (second step of signing in) and the re-authentication
asked before sensitive actions. Wrong codes and passwords count as sign-in failures."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import logout_user
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.domain.audit import AuditAction
from app.models import OidcSignIn, User
from app.services.security import (
    accounts,
    audit,
    proconnect,
    second_factor,
    sessions,
    throttling,
)
from app.services.security.passwords import verify_password
from app.services.security.throttling import attempt_keys
from app.web.auth.proconnect import finish_proconnect_sign_in
from app.web.auth.signing_in import (
    complete_sign_in,
    forget_pending_sign_in,
    mark_fresh,
    pending_oidc_attempt,
    pending_sign_in,
    safe_next,
)
from app.web.auth.throttle import throttle_policy
from app.web.auth.views import bp
from app.web.context import actor, dbs, vault
from app.web.form_base import RelaisForm

CODE_DESCRIPTION = _l("The 6-digit code of your authenticator app, or one of your recovery codes.")


class CodeForm(RelaisForm):
    code = StringField(
        _l("Code"), validators=[DataRequired(), Length(max=32)], description=CODE_DESCRIPTION
    )


class ReauthForm(RelaisForm):
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    code = StringField(_l("Code"), validators=[Length(max=32)], description=CODE_DESCRIPTION)
    next = HiddenField()


def _now() -> datetime:
    return datetime.now(UTC)


def _keys(user: User) -> throttling.AttemptKeys:
    return attempt_keys(current_app.config["SECRET_KEY"], user.email, request.remote_addr or "")


def _waiting(user: User) -> bool:
    """Whether the account's login (or this address) is in back-off after failures."""
    wait = throttling.wait_before(dbs(), _keys(user), throttle_policy(), _now(), code=True)
    return wait is not None


def _failed(user: User, *, action: AuditAction = AuditAction.SECOND_FACTOR_FAILED) -> bool:
    """Count a wrong code (or password) as a failed sign-in of ``user``, in the same back-off
    as wrong passwords; whether the login must now wait."""
    if action is AuditAction.SECOND_FACTOR_FAILED:
        throttling.record_code_failure(dbs(), _keys(user), _now())
    else:
        throttling.record_failure(dbs(), _keys(user), _now())
    audit.record(dbs(), None, action, user)
    return _waiting(user)


def _pending_user(pending: tuple[int, int, str] | None) -> User | None:
    """The account of an open second step, if still active and its sessions not ended since."""
    user = accounts.get_account(dbs(), pending[0]) if pending else None
    if pending is None or user is None or not user.active:
        return None
    return user if user.session_version == pending[1] else None


def _proconnect_attempt(user: User) -> OidcSignIn | None:
    """The ProConnect sign-in this second step completes, if it started there."""
    attempt_id = pending_oidc_attempt()
    found = proconnect.pending(dbs(), attempt_id) if attempt_id else None
    return found if found is not None and found.user_id == user.id else None


def _back_to_login(message: str) -> ResponseReturnValue:
    forget_pending_sign_in()
    flash(message, "error")
    return redirect(url_for("auth.login"))


@bp.route("/login/code", methods=["GET", "POST"])
def second_step() -> ResponseReturnValue:
    """The code after the right password. Nobody is signed in until it is right."""
    pending = pending_sign_in()
    user = _pending_user(pending)
    if pending is None or user is None:
        return _back_to_login(_("Your sign-in has expired. Sign in again."))
    locked_message = _("Wrong e-mail address or password, or account locked for a while.")
    if _waiting(user):
        return _back_to_login(locked_message)
    form = CodeForm()
    if form.validate_on_submit():
        now = _now()
        if second_factor.check_code(dbs(), vault().keys, user, form.code.data, now=now):
            started = _proconnect_attempt(user)
            if started is not None:
                return finish_proconnect_sign_in(user, started, now)
            accounts.finish_sign_in(dbs(), user, keys=_keys(user), now=now)
            return complete_sign_in(user, pending[2])
        if _failed(user):
            return _back_to_login(locked_message)
        form.code.errors.append(_("This code is not valid or was already used."))
    return render_template("auth/second_step.html", form=form)


@bp.route("/account/confirm", methods=["GET", "POST"])
def reauthenticate() -> ResponseReturnValue:
    """Prove again who one is (password, and code when enrolled) before a sensitive action."""
    user = actor()
    form = ReauthForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        now = _now()
        problem = _check(user, form, now)
        if problem is None:
            mark_fresh()
            audit.record(dbs(), user, AuditAction.REAUTHENTICATE, user)
            return redirect(safe_next(form.next.data))
        if _failed(user, action=problem):
            sessions.end_all(dbs(), user, now=now)
            logout_user()
            return _back_to_login(
                _("Wrong e-mail address or password, or account locked for a while.")
            )
        form.password.errors.append(_("The password or the code is wrong."))
    return render_template("auth/reauthenticate.html", form=form, user=user)


def _check(user: User, form: ReauthForm, now: datetime) -> AuditAction | None:
    """``None`` when the password (and the code, when enrolled) are right; otherwise the
    audit tag of the failure."""
    if _waiting(user):
        return AuditAction.LOGIN_FAILED
    if not verify_password(user.password_hash, form.password.data):
        return AuditAction.LOGIN_FAILED
    if not user.has_second_factor:
        return None
    code = form.code.data or ""
    if second_factor.check_code(dbs(), vault().keys, user, code, now=now):
        return None
    return AuditAction.SECOND_FACTOR_FAILED
