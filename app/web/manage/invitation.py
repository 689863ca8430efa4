"""The invitation page ``/invitation/<token>``, open to visitors: the person invited gives
their name and a password, the account is created and signed in (coordinators and
administrators then set up their second factor, as at any sign-in). A wrong, used, revoked or
expired link gets one page that says so, and nothing is created."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, flash, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.services.errors import ServiceError
from app.services.security import invitations
from app.unit_of_work import attempt
from app.web.auth.signing_in import complete_sign_in
from app.web.auth.throttle import limit_anonymous_posts
from app.web.context import dbs
from app.web.forms_support import attach_error
from app.web.manage.accounts import bp
from app.web.manage.forms import AcceptForm


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@limit_anonymous_posts
def invitation(token: str) -> ResponseReturnValue:
    now = datetime.now(UTC)
    found = invitations.find_invitation(dbs(), token, now=now)
    if found is None:
        return render_template("manage/invitation_invalid.html")
    form = AcceptForm()
    if not form.is_submitted() and found.name_hint:
        form.display_name.data = found.name_hint
    if form.validate_on_submit():
        try:
            with attempt():
                user = invitations.accept(
                    dbs(),
                    token,
                    display_name=form.display_name.data,
                    password=form.password.data,
                    min_length=current_app.config["PASSWORD_MIN_LENGTH"],
                    now=now,
                )
        except invitations.InvitationNotValid:
            return render_template("manage/invitation_invalid.html")
        except ServiceError as exc:
            if exc.field == "email":  # an account took the address meanwhile
                return render_template("manage/invitation_invalid.html")
            attach_error(form, exc)
        else:
            signed_in = complete_sign_in(user, "/")  # a new session: the message after it
            flash(_("Welcome to Relais: your account is created."), "success")
            return signed_in
    return render_template("manage/invitation.html", invitation=found, form=form)
