"""The steps of signing in, kept in the signed session cookie (the app holds no state between
requests, whichever worker answers):

* ``second_step`` - after the right password of an account with a second factor: who, which
  session version, until when (five minutes) and where to go next. Nobody is signed in yet.
* ``auth_at`` - when the person last proved who they are (password, and code if enrolled): at
  sign-in and at each re-authentication. ``reauth_required`` asks again when it is older than
  ``RELAIS_REAUTH_MINUTES``.

``enrolment_gate`` keeps a coordinator or an administrator without a second factor on the
enrolment page until they have one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_user
from werkzeug.wrappers import Response

from app.models import User
from app.services.security import accounts, sessions
from app.web import access
from app.web.auth.devices import device_summary
from app.web.context import LANGUAGE, SESSION_TOKEN, dbs

P = ParamSpec("P")
R = TypeVar("R")

PENDING_KEY = "second_step"
AUTH_AT_KEY = "auth_at"
SECOND_STEP_SECONDS = 5 * 60

# What a coordinator or an administrator without a second factor may open.
ENROLMENT_ENDPOINTS = frozenset(
    {
        "auth.two_factor",
        "auth.start_two_factor",
        "auth.reauthenticate",
        "auth.logout",
        "auth.set_language",
        "auth.login",
        "auth.second_step",
        "static",
        "home.health",
    }
)


def safe_next(target: str | None) -> str:
    """Only local paths are followed after sign-in (no open redirect); never one with a
    backslash (another host for browsers) or a control character (no header injection)."""
    if target and any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return url_for("home.index")
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("home.index")


# Flask-Login's key of the signed-in account in the session cookie: still there when the
# session behind it has ended (idle, too old, ended from another device, password changed).
_SIGNED_IN_KEY = "_user_id"
_READING = frozenset({"GET", "HEAD"})


def sign_in_again() -> Response:
    """Flask-Login's handler of a request that needs an account: to the sign-in page, then
    back. A page asked for comes back as it was; a form sent (whose target may answer only
    to the form: a button's ``POST``) comes back to the page it was sent from, when that
    page is Relais's own (else the home page). A cookie whose session has ended says so,
    and, for a form, that what was sent was not saved - it was not: nothing ran."""
    ended = session.get(_SIGNED_IN_KEY) is not None
    target = return_path()
    if not ended:
        message = _("Sign in to see this page.")
    elif request.method in _READING:
        message = _("Your session has ended. Sign in again to go on.")
    else:
        message = _(
            "Your session has ended: what you just sent was not saved. Sign in again, then "
            "do it again."
        )
    # The keep-alive of a page being typed in (keepalive.js) is not a page: its script shows
    # its own notice, and a message flashed here would be said twice by the sign-in page the
    # form then leads to.
    if request.endpoint != "auth.keep_alive":
        flash(message, "info" if not ended else "error")
    return redirect(url_for("auth.login", next=target))


def return_path() -> str:
    """The page to come back to after a detour (signing in, the language switch): the page
    asked for, or, for a form sent (whose address may answer only to the form: a hand-off's
    ``POST .../complete`` shown again with its error), the page it was sent from when that
    page is Relais's own; else the home page."""
    if request.method in _READING:
        return _local(request.full_path.rstrip("?")) or url_for("home.index")
    return _local_referrer() or url_for("home.index")


def _local(path: str) -> str | None:
    return path if safe_next(path) == path else None


def _local_referrer() -> str | None:
    """The page a form was sent from, when it is one of this host's."""
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.netloc != request.host or parts.scheme not in ("http", "https"):
        return None
    return _local(parts.path + (f"?{parts.query}" if parts.query else ""))


def start_sign_in(user: User, target: str) -> Response:
    """The password was right: sign in, or ask for the code first when the account has a
    second factor."""
    if not user.has_second_factor:
        return complete_sign_in(user, target)
    return ask_second_step(user, target)


def _leave_previous_session() -> None:
    """A sign-in in a browser signed in to another session (an invitation opened there, the
    sign-in page again) ends that session: its cookie is replaced, and its row stayed open,
    listed and valid until its idle limit."""
    token = session.get(SESSION_TOKEN)
    if token and current_user.is_authenticated:
        previous: User = current_user._get_current_object()
        sessions.sign_out(dbs(), previous, str(token), now=datetime.now(UTC))


def ask_second_step(user: User, target: str, *, oidc_attempt: str | None = None) -> Response:
    """Ask for the code before signing in. ``oidc_attempt``: the ProConnect sign-in whose
    ACR, AMR and ID token the session will carry once the code is right."""
    _leave_previous_session()
    clear_session()
    pending: dict[str, object] = {
        "user": user.id,
        "version": user.session_version,
        "until": int(time.time()) + SECOND_STEP_SECONDS,
        "next": target,
    }
    if oidc_attempt:
        pending["oidc"] = oidc_attempt
    session[PENDING_KEY] = pending
    return redirect(url_for("auth.second_step"))


def pending_oidc_attempt() -> str | None:
    """The ProConnect sign-in of the open second step, if it started there."""
    pending = session.get(PENDING_KEY)
    found = pending.get("oidc") if isinstance(pending, dict) else None
    return found if isinstance(found, str) else None


def complete_sign_in(user: User, target: str, *, origin: sessions.Origin | None = None) -> Response:
    """Open the session: a new cookie (nothing of the visitor's session is kept, no fixation)
    holding a new server-side session token (app/services/security/sessions.py); ``origin``
    says how it was opened when not by password (ProConnect).

    The language chosen before signing in (on the sign-in page) is kept, and recorded on the
    account; without one, the session opens in the account's language."""
    _leave_previous_session()
    clear_session()
    chosen = session.get(LANGUAGE)
    if isinstance(chosen, str) and chosen in current_app.config["LANGUAGES"]:
        accounts.set_language(user, chosen)
    elif user.locale in current_app.config["LANGUAGES"]:
        session[LANGUAGE] = user.locale
    token = sessions.start(
        dbs(),
        user,
        device=device_summary(request.user_agent.string),
        now=datetime.now(UTC),
        origin=origin,
    )
    session[SESSION_TOKEN] = token
    login_user(user)
    mark_fresh()
    return redirect(safe_next(target))


def clear_session() -> None:
    """Empty the session (signing in or out): nothing of the visitor's session is kept but the
    language chosen, which says nothing about anyone."""
    language = session.get(LANGUAGE)
    session.clear()
    if language is not None:
        session[LANGUAGE] = language


def pending_sign_in() -> tuple[int, int, str] | None:
    """The (user id, session version, next page) of a second step still open, or ``None``."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    user_id, version = pending.get("user"), pending.get("version")
    until, target = pending.get("until"), pending.get("next")
    if not (isinstance(user_id, int) and isinstance(version, int) and isinstance(until, int)):
        return None
    if until < time.time():
        return None
    return user_id, version, target if isinstance(target, str) else ""


def forget_pending_sign_in() -> None:
    session.pop(PENDING_KEY, None)


def mark_fresh() -> None:
    session[AUTH_AT_KEY] = int(time.time())


def is_fresh() -> bool:
    """Whether the signed-in person proved who they are within ``RELAIS_REAUTH_MINUTES``."""
    at = session.get(AUTH_AT_KEY)
    if not isinstance(at, int):
        return False
    minutes: int = current_app.config["REAUTH_MINUTES"]
    return time.time() - at <= minutes * 60


def reauth_required(
    form_endpoint: str | None = None, *, with_args: bool = True
) -> Callable[[Callable[P, R]], Callable[P, R | Response]]:
    """Ask for the password (and the code when enrolled) again before a sensitive action,
    unless given within the last ``RELAIS_REAUTH_MINUTES``; come back afterwards.

    A GET comes back to the same address (with its query). A POST comes back to its form:
    ``form_endpoint`` (with the same path arguments unless ``with_args`` is false), or the
    same path when it is omitted.
    """

    def decorate(view: Callable[P, R]) -> Callable[P, R | Response]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | Response:
            if is_fresh():
                return view(*args, **kwargs)
            if request.method == "GET":
                target = request.full_path.rstrip("?")
            elif form_endpoint:
                path_args = (request.view_args or {}) if with_args else {}
                target = url_for(form_endpoint, **path_args)
            else:
                target = request.path
            flash(_("Confirm your identity to continue."), "info")
            return redirect(url_for("auth.reauthenticate", next=target))

        return wrapped

    return decorate


def enrolment_gate() -> ResponseReturnValue | None:
    """A coordinator or an administrator without a second factor only reaches the enrolment
    page (and signing out) until they have one."""
    if request.endpoint in ENROLMENT_ENDPOINTS or request.endpoint is None:
        return None
    if access.is_api(request.endpoint):
        return None  # the API is reached with a token, never with the session
    user = current_user._get_current_object()
    if not isinstance(user, User) or not user.must_have_second_factor:
        return None
    if user.has_second_factor:
        return None
    flash(_("Set up your second factor to use Relais."), "info")
    return redirect(url_for("auth.two_factor"))
