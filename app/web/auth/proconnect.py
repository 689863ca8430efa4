"""Sign in with ProConnect (OpenID Connect; docs/security.md, "ProConnect").

``/login/proconnect`` (a POST from the sign-in page's button) keeps a pending sign-in and sends
the browser to the provider; the provider sends it back to ``/login/proconnect/callback``,
which checks the state (against the signed cookie, and single use in the database), lets
``oidc.authenticate`` check the provider's answer, finds the account (``proconnect.link``) and
signs in through ``complete_sign_in`` - after the TOTP code when the account has one and the
provider does not say the person used several factors. Failed callbacks count in the sign-in
back-off of the client address. Both routes are 404 while ProConnect is not configured.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.models import OidcSignIn, User
from app.services.security import accounts, oidc, proconnect, sessions, throttling
from app.services.security.throttling import attempt_keys
from app.web.auth.provider import external_url, oidc_settings
from app.web.auth.signing_in import ask_second_step, complete_sign_in, safe_next
from app.web.auth.throttle import limit_anonymous_posts, throttle_policy
from app.web.auth.views import EmptyForm, bp
from app.web.context import dbs

STATE_KEY = "proconnect_state"


def _settings() -> oidc.OidcSettings:
    settings = oidc_settings()
    if settings is None:
        abort(404)
    return settings


def _keys(login: str = "") -> throttling.AttemptKeys:
    return attempt_keys(current_app.config["SECRET_KEY"], login, request.remote_addr or "")


def _failed(message: str) -> ResponseReturnValue:
    """Back to the sign-in page with ``message``; the failure counts for this address."""
    throttling.record_client_failure(dbs(), _keys(), datetime.now(UTC))
    flash(message, "error")
    return redirect(url_for("auth.login"))


@bp.post("/login/proconnect")
@limit_anonymous_posts
def proconnect_start() -> ResponseReturnValue:
    settings = _settings()
    if not EmptyForm().validate_on_submit():
        abort(400)
    now = datetime.now(UTC)
    if throttling.client_wait_before(dbs(), _keys(), throttle_policy(), now) is not None:
        flash(_("Too many failed sign-ins from here. Try again in a few minutes."), "error")
        return redirect(url_for("auth.login"))
    try:
        started = oidc.authorisation_request(settings, external_url("auth.proconnect_callback"))
    except oidc.OidcRefused:
        flash(
            _("ProConnect cannot be reached. Try again later, or sign in with your password."),
            "error",
        )
        return redirect(url_for("auth.login"))
    proconnect.begin(dbs(), started, safe_next(request.form.get("next")), now=now)
    session[STATE_KEY] = started.state
    return redirect(started.url)


@bp.get("/login/proconnect/callback")
def proconnect_callback() -> ResponseReturnValue:
    settings = _settings()
    now = datetime.now(UTC)
    failed = _("The sign-in with ProConnect failed. Try again.")
    if throttling.client_wait_before(dbs(), _keys(), throttle_policy(), now) is not None:
        flash(_("Too many failed sign-ins from here. Try again in a few minutes."), "error")
        return redirect(url_for("auth.login"))
    expected = session.pop(STATE_KEY, None)
    state = request.args.get("state", "")[:200]
    if not isinstance(expected, str) or not hmac.compare_digest(expected, state):
        # Not the sign-in this browser started (forged, or another tab's): nothing is claimed.
        return _failed(failed)
    try:
        attempt = proconnect.claim(dbs(), state, now=now)
    except proconnect.SignInRefused:
        return _failed(failed)  # already used (a replay) or too old
    if request.args.get("error"):
        # Cancelled or refused at the provider: no code to check.
        proconnect.record_refusal(dbs(), attempt, "provider_error")
        flash(_("The sign-in with ProConnect was cancelled."), "info")
        return redirect(url_for("auth.login"))
    try:
        answer = oidc.authenticate(
            settings,
            code=request.args.get("code", "")[:2000],
            redirect_uri=external_url("auth.proconnect_callback"),
            code_verifier=attempt.code_verifier,
            nonce=attempt.nonce,
        )
    except oidc.OidcRefused as exc:
        proconnect.record_refusal(dbs(), attempt, exc.reason)
        return _failed(failed)
    return _sign_in(settings, attempt, answer, now)


def _sign_in(
    settings: oidc.OidcSettings,
    attempt: OidcSignIn,
    answer: oidc.Authentication,
    now: datetime,
) -> ResponseReturnValue:
    try:
        user = proconnect.link(
            dbs(), attempt, answer, require_email_verified=settings.require_email_verified, now=now
        )
    except proconnect.SignInRefused as exc:
        throttling.record_client_failure(dbs(), _keys(), now)
        return render_template("auth/proconnect_refused.html", reason=exc.reason)
    if user.has_second_factor and not answer.multi_factor:
        # The provider does not vouch for a second factor: the account's own code is asked.
        return ask_second_step(user, attempt.next_path, oidc_attempt=attempt.id.hex)
    return finish_proconnect_sign_in(user, attempt, now)


def finish_proconnect_sign_in(
    user: User, attempt: OidcSignIn, now: datetime
) -> ResponseReturnValue:
    """Record the sign-in (method, ACR, AMR in the audit event) and open the session."""
    accounts.finish_sign_in(
        dbs(),
        user,
        keys=_keys(user.email),
        now=now,
        method="proconnect",
        acr=attempt.acr,
        amr=attempt.amr,
    )
    origin = sessions.Origin(
        method="proconnect", acr=attempt.acr, amr=attempt.amr, id_token=attempt.id_token
    )
    return complete_sign_in(user, attempt.next_path, origin=origin)
