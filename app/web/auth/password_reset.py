""" "Forgotten password?": asking for a reset link by mail, and choosing a new password through
it (``app.services.security.password_reset``; docs/security.md, "Password reset")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from app.domain.audit import AuditAction
from app.models import User
from app.services.errors import ServiceError
from app.services.security import audit, password_reset, throttling
from app.services.security.throttling import attempt_keys
from app.unit_of_work import attempt
from app.web.auth.second_step import CODE_DESCRIPTION
from app.web.auth.throttle import limit_anonymous_posts, throttle_policy
from app.web.auth.views import bp
from app.web.context import dbs, vault
from app.web.form_base import RelaisForm


class ForgottenForm(RelaisForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])


class ResetForm(RelaisForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=1024)],
        description=_l("At least 12 characters. A sentence of several words is easy to remember."),
    )
    confirm = PasswordField(
        _l("New password, again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )
    code = StringField(_l("Code"), validators=[Length(max=32)], description=CODE_DESCRIPTION)


def _policy() -> password_reset.ResetPolicy:
    config = current_app.config
    return password_reset.ResetPolicy(
        lifetime=timedelta(minutes=int(config["PASSWORD_RESET_MINUTES"])),
        interval=timedelta(minutes=int(config["PASSWORD_RESET_INTERVAL_MINUTES"])),
    )


def _keys(user: User) -> throttling.AttemptKeys:
    return attempt_keys(current_app.config["SECRET_KEY"], user.email, request.remote_addr or "")


@bp.route("/password/forgotten", methods=["GET", "POST"])
@limit_anonymous_posts
def forgotten_password() -> ResponseReturnValue:
    """The same answer whatever the address: whether an account uses it is never said."""
    form = ForgottenForm()
    if form.validate_on_submit():
        base_url = str(current_app.config["PUBLIC_BASE_URL"] or "")
        with attempt():
            password_reset.request_reset(
                dbs(), form.email.data, base_url=base_url, policy=_policy(), now=datetime.now(UTC)
            )
        # The lifetime in minutes as the mail says it (``timedelta.seconds`` drops the days).
        minutes = int(_policy().lifetime.total_seconds() // 60)
        flash(
            ngettext(
                "If an account uses this address, a mail was sent to it with a link to choose "
                "a new password. The link works once, for %(num)d minute.",
                "If an account uses this address, a mail was sent to it with a link to choose "
                "a new password. The link works once, for %(num)d minutes.",
                minutes,
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgotten.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limit_anonymous_posts
def reset_password(token: str) -> ResponseReturnValue:
    """Choose a new password through a mailed link (and the code, for a second factor)."""
    now = datetime.now(UTC)
    link = password_reset.find_link(dbs(), token, now=now)
    if link is None:
        return render_template("auth/reset_invalid.html")
    user = link.user
    needs_code = user.has_second_factor
    form = ResetForm()
    if form.validate_on_submit():
        # Wrong codes count in the sign-in back-off of the account, as on the sign-in page.
        wait = throttling.wait_before(dbs(), _keys(user), throttle_policy(), now, code=True)
        if wait is not None:
            form.code.errors.append(
                _("Too many wrong codes: wait a few minutes before trying again.")
            )
            return render_template("auth/reset.html", form=form, needs_code=needs_code), 429
        try:
            with attempt():
                password_reset.complete_reset(
                    dbs(),
                    vault().keys,
                    token,
                    form.password.data,
                    form.code.data or "",
                    min_length=current_app.config["PASSWORD_MIN_LENGTH"],
                    now=now,
                )
        except password_reset.LinkNotValid:
            return render_template("auth/reset_invalid.html")
        except password_reset.WrongCode as exc:
            # Counted and audited as a wrong code of the second step is.
            throttling.record_code_failure(dbs(), _keys(user), now)
            audit.record(dbs(), None, AuditAction.SECOND_FACTOR_FAILED, user)
            form.code.errors.append(_(exc.message))
        except ServiceError as exc:
            target = form.code if exc.field == "code" else form.password
            target.errors.append(_(exc.message, **exc.params))
        else:
            flash(_("Password changed. Sign in with the new one."), "info")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form, needs_code=needs_code)
