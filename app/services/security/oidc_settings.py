"""The ``RELAIS_OIDC_*`` settings of sign-in with ProConnect, and the production check of them
(``proconnect`` in ``app.security_checks``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class OidcSettings:
    """``RELAIS_OIDC_*``: the provider, this client's registration and what to ask."""

    issuer: str
    client_id: str
    client_secret: str
    scopes: str
    acr_values: str | None = None
    require_email_verified: bool = False
    timeout: float = 10

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> OidcSettings | None:
        """The settings, or ``None`` when sign-in with ProConnect is off (no issuer, client id
        or secret: ``app.security_checks`` reports the incomplete case in production)."""
        issuer = str(config.get("OIDC_ISSUER") or "").strip().rstrip("/")
        client_id = str(config.get("OIDC_CLIENT_ID") or "").strip()
        secret = client_secret(config)
        if not (issuer and client_id and secret):
            return None
        return cls(
            issuer=issuer,
            client_id=client_id,
            client_secret=secret,
            scopes=str(config.get("OIDC_SCOPES") or "openid email").strip(),
            acr_values=str(config.get("OIDC_ACR_VALUES") or "").strip() or None,
            require_email_verified=bool(config.get("OIDC_REQUIRE_EMAIL_VERIFIED")),
            timeout=float(config.get("OIDC_TIMEOUT") or 10),
        )


def client_secret(config: Mapping[str, Any]) -> str:
    """``RELAIS_OIDC_CLIENT_SECRET``, or the content of ``RELAIS_OIDC_CLIENT_SECRET_FILE``
    (empty when neither is set or the file cannot be read)."""
    secret = str(config.get("OIDC_CLIENT_SECRET") or "").strip()
    path = str(config.get("OIDC_CLIENT_SECRET_FILE") or "").strip()
    if secret or not path:
        return secret
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError:
        return ""


_PARTS = (
    ("OIDC_ISSUER", "RELAIS_OIDC_ISSUER"),
    ("OIDC_CLIENT_ID", "RELAIS_OIDC_CLIENT_ID"),
    ("OIDC_CLIENT_SECRET", "RELAIS_OIDC_CLIENT_SECRET"),
)


def configuration_problem(config: Mapping[str, Any]) -> str | None:
    """The ``proconnect`` production check (``app.security_checks``): off (nothing set) or
    whole - an https issuer, a client id and its secret. Half a configuration would leave the
    button off without saying why. Never shows the secret."""
    given = {setting: str(config.get(setting) or "").strip() for setting, _variable in _PARTS}
    if not given["OIDC_CLIENT_SECRET"] and str(config.get("OIDC_CLIENT_SECRET_FILE") or ""):
        given["OIDC_CLIENT_SECRET"] = "(file)"  # noqa: S105 - a marker, not a secret
    if not any(given.values()):
        return None
    missing = [variable for setting, variable in _PARTS if not given[setting]]
    if missing:
        return (
            f"{' and '.join(missing)} missing: sign-in with ProConnect needs the issuer, the "
            "client id and its secret (RELAIS_OIDC_CLIENT_SECRET or _FILE)"
        )
    parts = urlsplit(given["OIDC_ISSUER"])
    if parts.scheme != "https" or not parts.hostname:
        return (
            "RELAIS_OIDC_ISSUER must be an https:// address: the provider's keys and the "
            "tokens would cross the network without TLS"
        )
    return None
