"""The ProConnect settings and addresses as the web layer needs them (shared by the sign-in
and sign-out views)."""

from __future__ import annotations

from flask import current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app.models import UserSession
from app.services.security import oidc


def oidc_settings() -> oidc.OidcSettings | None:
    """The ``RELAIS_OIDC_*`` settings, or ``None`` when sign-in with ProConnect is off."""
    return oidc.OidcSettings.from_config(current_app.config)


def proconnect_enabled() -> bool:
    return oidc_settings() is not None


def external_url(endpoint: str) -> str:
    """The address of ``endpoint`` as registered at the provider: under
    ``RELAIS_PUBLIC_BASE_URL`` (never taken from the request's Host header when it is set)."""
    base = str(current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")
    return base + url_for(endpoint)


def logout_redirect(ended: UserSession | None) -> str | None:
    """The provider's logout address for a session it opened (with the ID token as
    ``id_token_hint``, coming back to the sign-in page), or ``None``: sign out locally."""
    settings = oidc_settings()
    if ended is None or ended.method != "proconnect" or not ended.id_token or settings is None:
        return None
    return oidc.logout_url(
        settings, id_token=ended.id_token, post_logout_redirect_uri=external_url("auth.login")
    )


def to_provider(target: str, *, leaving: bool = False) -> ResponseReturnValue:
    """Send the browser to the provider through a page (meta refresh and a link) rather than a
    redirect: the answer to a form may only redirect where the CSP's ``form-action`` allows
    (``'self'``), and the provider redirects further on its side (``leaving``: the sign-out)."""
    page = render_template("auth/proconnect_redirect.html", target=target, leaving=leaving)
    return page, 200, {"Cache-Control": "no-store"}
