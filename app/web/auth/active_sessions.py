"""The account's signed-in browsers (/account/sessions): see them and end them; and the
keep-alive of a page where someone is typing (``/account/alive``, ``app/static/keepalive.js``)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext

from app.services.errors import NotFound
from app.services.security import sessions
from app.web.auth.views import EmptyForm, bp
from app.web.context import actor, dbs, session_limits, this_session


@bp.get("/account/sessions")
def active_sessions() -> ResponseReturnValue:
    now = datetime.now(UTC)
    current = this_session()
    rows = sessions.open_sessions(dbs(), actor(), limits=session_limits(), now=now)
    rows.sort(key=lambda row: row.id != current.id)  # this one first, then the others
    return render_template(
        "auth/sessions.html",
        sessions=rows,
        this_session=current,
        idle_minutes=session_limits().idle.total_seconds() // 60,
        form=EmptyForm(),
    )


@bp.post("/account/sessions/<public_id>/end")
def end_session(public_id: str) -> ResponseReturnValue:
    """End one of one's own sessions; another account's (or an unknown) session is a 404."""
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    if public_id == this_session().public_id:
        return redirect(url_for("auth.active_sessions"))  # signing out is the button for that
    try:
        sessions.end(dbs(), actor(), public_id, now=datetime.now(UTC))
    except NotFound:
        abort(404)
    flash(_("The session is ended: that browser must sign in again."), "success")
    return redirect(url_for("auth.active_sessions"))


@bp.post("/account/sessions/end-others")
def end_other_sessions() -> ResponseReturnValue:
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    ended = sessions.end_others(dbs(), actor(), this_session(), now=datetime.now(UTC))
    flash(
        ngettext("%(num)d other session ended.", "%(num)d other sessions ended.", ended),
        "success",
    )
    return redirect(url_for("auth.active_sessions"))


@bp.post("/account/alive")
def keep_alive() -> ResponseReturnValue:
    """Someone is typing in a form of a page (``app/static/keepalive.js``, at most once every
    few minutes): typing is activity, and the session ending for lack of it would throw away
    what they typed when they send it. Signing in touched the session already (the account's
    loader writes when it was last seen); nothing else to do. A session that has ended sends
    to the sign-in page instead (``sign_in_again``, no message flashed), which the script
    tells the person before they send."""
    return "", 204
