"""One's own second factor: enrolment (QR code drawn on the server as inline SVG, no script,
and the key as text), confirmation by a first code, recovery codes shown once, reset.

Every page here asks for a recent proof of identity (``reauth_required``).
"""

from __future__ import annotations

from datetime import UTC, datetime

import segno
from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.services.errors import ServiceError
from app.services.security import second_factor, sessions
from app.unit_of_work import attempt
from app.web.auth.signing_in import reauth_required
from app.web.auth.views import EmptyForm, bp
from app.web.context import actor, dbs, this_session, vault
from app.web.form_base import RelaisForm
from app.web.forms_support import service_message


class ConfirmCodeForm(RelaisForm):
    code = StringField(
        _l("Code shown by the app"),
        validators=[DataRequired(), Length(max=32)],
        description=_l("6 digits. It changes every 30 seconds."),
    )


def qr_svg(uri: str) -> Markup:
    """The QR code of ``uri`` as an inline SVG element (no script, no image request)."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=4, border=4, dark="#000", light="#fff", svgclass="qr-code", title=_("QR code")
    )
    return Markup(svg)  # noqa: S704 - segno's own markup; the URI is escaped by segno


def grouped(seed: str) -> str:
    """The key in groups of four, easier to type into an app."""
    return " ".join(seed[i : i + 4] for i in range(0, len(seed), 4))


@bp.route("/account/two-factor", methods=["GET", "POST"])
@reauth_required()
def two_factor() -> ResponseReturnValue:
    user = actor()
    keys = vault().keys
    if user.has_second_factor:
        return render_template(
            "auth/two_factor.html",
            user=user,
            left=second_factor.recovery_codes_left(dbs(), user),
            form=EmptyForm(),
        )
    enrolment = second_factor.enrolment(keys, user)
    if enrolment is None:
        # Nothing is written on a GET: the seed is made by the "start" button (a POST).
        return render_template("auth/two_factor_start.html", user=user, form=EmptyForm())
    form = ConfirmCodeForm()
    if form.validate_on_submit():
        now = datetime.now(UTC)
        try:
            with attempt():
                codes = second_factor.confirm_enrolment(
                    dbs(), keys, user, user, form.code.data, now=now
                )
                # The account's other sessions were opened without the second factor.
                ended = sessions.end_others(dbs(), user, this_session(), now=now)
        except ServiceError as exc:
            form.code.errors.append(service_message(exc))
        else:
            flash(_("Your second factor is active."), "success")
            if ended:
                flash(
                    ngettext(
                        "%(num)d other session was ended: sign in there again, with a code.",
                        "%(num)d other sessions were ended: sign in there again, with a code.",
                        ended,
                    ),
                    "info",
                )
            return render_template("auth/recovery_codes.html", codes=codes)
    return render_template(
        "auth/two_factor_enrol.html",
        user=user,
        form=form,
        qr=qr_svg(enrolment.uri),
        key=grouped(enrolment.seed),
    )


@bp.post("/account/two-factor/start")
@reauth_required("auth.two_factor")
def start_two_factor() -> ResponseReturnValue:
    """Make a new seed (replacing one not confirmed yet) and show it."""
    user = actor()
    if EmptyForm().validate_on_submit():
        try:
            with attempt():
                second_factor.start_enrolment(vault().keys, user)
        except ServiceError as exc:
            flash(service_message(exc), "error")
    else:
        flash(_("The form had expired; try again."), "error")
    return redirect(url_for("auth.two_factor"))


@bp.post("/account/two-factor/recovery-codes")
@reauth_required("auth.two_factor")
def recovery_codes() -> ResponseReturnValue:
    """New recovery codes (the old ones stop working), shown once."""
    user = actor()
    if not EmptyForm().validate_on_submit():
        flash(_("The form had expired; try again."), "error")
        return redirect(url_for("auth.two_factor"))
    try:
        with attempt():
            codes = second_factor.issue_recovery_codes(dbs(), user, user, now=datetime.now(UTC))
    except ServiceError as exc:
        flash(service_message(exc), "error")
        return redirect(url_for("auth.two_factor"))
    return render_template("auth/recovery_codes.html", codes=codes)


@bp.post("/account/two-factor/reset")
@reauth_required("auth.two_factor")
def reset_two_factor() -> ResponseReturnValue:
    """Remove one's second factor (a new phone, say); a new enrolment can start at once."""
    user = actor()
    if EmptyForm().validate_on_submit():
        second_factor.reset(dbs(), user, user, end_sessions=False)
        flash(_("Your second factor is removed."), "info")
    else:
        flash(_("The form had expired; try again."), "error")
    return redirect(url_for("auth.two_factor"))
