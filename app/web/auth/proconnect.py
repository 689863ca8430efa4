"""Sign in with ProConnect (OpenID Connect; docs/security.md, "ProConnect").

``/login/proconnect`` (a POST from the sign-in page's button) keeps a pending sign-in and sends
the browser to the provider; the provider sends it back to ``/login/proconnect/callback``,
which checks the state (against the signed cookie, and single use in the database), lets
``oidc.authenticate`` check the provider's answer, finds the account (``proconnect.link``) and
signs in through ``complete_sign_in`` - after the TOTP code when the account has one and the
provider does not say the person used several factors. Failed callbacks count in the sign-in
back-off of the client address. A sign-in that does not happen (ProConnect not configured or
unreachable, a failed or cancelled callback) gets a page that says so, with the way back.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

from flask import abort, current_app, render_template, request, session
from flask.typing import ResponseReturnValue

from app.models import OidcSignIn, User
from app.services.security import accounts, oidc, proconnect, sessions, throttling
from app.services.security.throttling import attempt_keys
from app.web.auth.provider import external_url, oidc_settings, to_provider
from app.web.auth.signing_in import ask_second_step, complete_sign_in, safe_next
from app.web.auth.throttle import limit_anonymous_posts, throttle_policy
from app.web.auth.views import EmptyForm, bp
from app.web.context import dbs

STATE_KEY = "proconnect_state"


def _not_done(reason: str, status: int = 200) -> ResponseReturnValue:
    """The page of a sign-in that did not happen (``reason``: ``unavailable``, ``failed``,
    ``cancelled``, ``wait``), with a way back to the sign-in page."""
    return render_template("auth/proconnect_failed.html", reason=reason), status


def _keys(login: str = "") -> throttling.AttemptKeys:
    return attempt_keys(current_app.config["SECRET_KEY"], login, request.remote_addr or "")


def _failed() -> ResponseReturnValue:
    """The sign-in failed; the failure counts in the back-off of this address."""
    throttling.record_client_failure(dbs(), _keys(), datetime.now(UTC))
    return _not_done("failed")


@bp.post("/login/proconnect")
@limit_anonymous_posts
def proconnect_start() -> ResponseReturnValue:
    if not EmptyForm().validate_on_submit():
        abort(400)
    settings = oidc_settings()
    if settings is None:
        return _not_done("unavailable")
    now = datetime.now(UTC)
    if throttling.client_wait_before(dbs(), _keys(), throttle_policy(), now) is not None:
        return _not_done("wait", 429)
    try:
        started = oidc.authorisation_request(settings, external_url("auth.proconnect_callback"))
    except oidc.OidcRefused:
        return _not_done("unavailable")
    proconnect.begin(dbs(), started, safe_next(request.form.get("next")), now=now)
    session[STATE_KEY] = started.state
    return to_provider(started.url)


@bp.get("/login/proconnect/callback")
def proconnect_callback() -> ResponseReturnValue:
    settings = oidc_settings()
    if settings is None:
        return _not_done("unavailable")
    now = datetime.now(UTC)
    if throttling.client_wait_before(dbs(), _keys(), throttle_policy(), now) is not None:
        return _not_done("wait", 429)
    expected = session.pop(STATE_KEY, None)
    state = request.args.get("state", "")[:200]
    if not isinstance(expected, str) or not hmac.compare_digest(expected, state):
        # Not the sign-in this browser started (forged, or another tab's): nothing is claimed.
        return _failed()
    try:
        attempt = proconnect.claim(dbs(), state, now=now)
    except proconnect.SignInRefused:
        return _failed()  # already used (a replay) or too old
    if request.args.get("error"):
        # Cancelled or refused at the provider: no code to check.
        proconnect.record_refusal(dbs(), attempt, "provider_error")
        return _not_done("cancelled")
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
        return _failed()
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
    proconnect.spend(attempt)
    return complete_sign_in(user, attempt.next_path, origin=origin)
