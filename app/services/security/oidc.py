"""The OpenID Connect client of "Sign in with ProConnect" (docs/security.md, "ProConnect").

Authorisation code flow with PKCE (S256), a random ``state`` and ``nonce`` for every sign-in,
through Authlib's OAuth 2 client (``requests``) and joserfc for the JSON Web Tokens:

* ``authorisation_request`` builds the provider's address for one sign-in (and the secrets the
  callback must check: state, nonce, code verifier);
* ``authenticate`` exchanges the code (with the verifier) for the tokens, checks the ID token
  (signature by a key of the provider's JWKS, ``iss``, ``aud``, ``exp``, ``iat``, ``nonce``,
  ``azp``, ``at_hash``), reads the userinfo (ProConnect signs it: a JWT checked the same way;
  its ``sub`` must be the ID token's) and returns an ``Authentication``;
* ``logout_url`` gives the provider's ``end_session_endpoint`` for a session it opened.

Every failure is an ``OidcRefused`` with a short ``reason`` for the audit log and the
back-off; nothing here knows the database or Flask. The discovery document and the keys are
cached per issuer for an hour (the keys are read again once when a token names an unknown key).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
from authlib.common.urls import add_params_to_uri
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from app.services.errors import N_, ServiceError
from app.services.security.oidc_settings import OidcSettings as OidcSettings  # re-exported

# Signatures accepted on ID tokens and userinfo: asymmetric only (the provider's JWKS).
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
# What counts as a sign-in with more than one factor at the provider (ProConnect documents
# "mfa" in ``amr``; eIDAS substantial and high, and ProConnect's 2FA assurance levels, in ``acr``).
MULTI_FACTOR_AMR = frozenset({"mfa"})
MULTI_FACTOR_ACR = frozenset(
    {
        "eidas2",
        "eidas3",
        "https://proconnect.gouv.fr/assurance/self-asserted-2fa",
        "https://proconnect.gouv.fr/assurance/consistency-checked-2fa",
    }
)
# ProConnect returns ``amr`` only when asked for as an essential claim.
CLAIMS_REQUEST = json.dumps({"id_token": {"amr": {"essential": True}}}, separators=(",", ":"))
CACHE_SECONDS = 3600
LEEWAY_SECONDS = 60


class OidcRefused(ServiceError):
    """The sign-in with the provider failed; ``reason`` is a short code (``state``,
    ``provider``, ``id_token``, ``userinfo``...) for the audit log, never shown."""

    code = "oidc_refused"

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(N_("The sign-in with ProConnect failed. Try again."))
        self.reason = reason
        self.detail = detail[:200]


@dataclass(frozen=True)
class AuthorisationRequest:
    """Where to send the browser, and what the callback must find again."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class Authentication:
    """Who the provider says signed in, and how."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool | None
    acr: str | None
    amr: tuple[str, ...]
    id_token: str

    @property
    def multi_factor(self) -> bool:
        """Whether the provider says the person used more than one factor."""
        return bool(MULTI_FACTOR_AMR & set(self.amr)) or self.acr in MULTI_FACTOR_ACR


# -- the provider's metadata and keys, cached per issuer ---------------------------------------

_cache: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
_cache_lock = threading.Lock()


def _get_json(url: str, timeout: float, reason: str) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=timeout, headers={"Accept": "application/json"})
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise OidcRefused(reason, type(exc).__name__) from exc
    if not isinstance(data, dict):
        raise OidcRefused(reason, "not a JSON object")
    return data


def _cached(kind: str, url: str, timeout: float, *, force: bool = False) -> dict[str, Any]:
    key = (kind, url)
    with _cache_lock:
        found = _cache.get(key)
    if found is not None and not force and time.monotonic() - found[0] < CACHE_SECONDS:
        return found[1]
    data = _get_json(url, timeout, kind)
    with _cache_lock:
        _cache[key] = (time.monotonic(), data)
    return data


def metadata(settings: OidcSettings) -> dict[str, Any]:
    """The provider's discovery document; its ``issuer`` must be the configured one."""
    found = _cached(
        "discovery", f"{settings.issuer}/.well-known/openid-configuration", settings.timeout
    )
    if str(found.get("issuer", "")).rstrip("/") != settings.issuer:
        raise OidcRefused("discovery", "issuer differs from RELAIS_OIDC_ISSUER")
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(found.get(name), str):
            raise OidcRefused("discovery", f"no {name}")
    return found


def _key_set(settings: OidcSettings, *, force: bool = False) -> KeySet:
    data = _cached("jwks", str(metadata(settings)["jwks_uri"]), settings.timeout, force=force)
    try:
        return KeySet.import_key_set(data)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise OidcRefused("jwks", type(exc).__name__) from exc


def _algorithms(settings: OidcSettings, field: str) -> list[str]:
    offered = metadata(settings).get(field) or ["RS256"]
    return [alg for alg in ALGORITHMS if alg in offered]


def _decode(settings: OidcSettings, token: str, field: str, reason: str) -> jwt.Token:
    """A JWT of the provider with a valid signature (its claims are checked by the caller)."""
    registry = JWSRegistry(algorithms=_algorithms(settings, field))
    try:
        try:
            return jwt.decode(token, _key_set(settings), registry=registry)
        except InvalidKeyIdError:
            # The provider may have rotated its keys since they were cached.
            return jwt.decode(token, _key_set(settings, force=True), registry=registry)
    except (JoseError, ValueError, TypeError) as exc:
        raise OidcRefused(reason, f"signature: {type(exc).__name__}") from exc


# -- the flow -----------------------------------------------------------------------------------


def _client(settings: OidcSettings, redirect_uri: str) -> OAuth2Session:
    offered = metadata(settings).get("token_endpoint_auth_methods_supported")
    offered = offered if isinstance(offered, list) else ["client_secret_basic"]
    method = "client_secret_basic" if "client_secret_basic" in offered else "client_secret_post"
    return OAuth2Session(
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        scope=settings.scopes,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method=method,
    )


def authorisation_request(settings: OidcSettings, redirect_uri: str) -> AuthorisationRequest:
    """The provider's authorisation address for one new sign-in (random state, nonce and PKCE
    verifier, 256 bits each)."""
    state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
    extra: dict[str, str] = {"nonce": nonce, "claims": CLAIMS_REQUEST}
    if settings.acr_values:
        extra["acr_values"] = settings.acr_values
    with _client(settings, redirect_uri) as client:
        url, _state = client.create_authorization_url(
            metadata(settings)["authorization_endpoint"],
            state=state,
            code_verifier=verifier,
            **extra,
        )
    return AuthorisationRequest(url=url, state=state, nonce=nonce, code_verifier=verifier)


def authenticate(
    settings: OidcSettings, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
) -> Authentication:
    """Exchange the authorisation code and check everything the provider answers.

    Raises ``OidcRefused``: ``token`` (the provider refused the code: wrong, used, expired,
    or the verifier does not match), ``id_token`` (bad signature, issuer, audience, expiry,
    nonce...), ``userinfo`` (unreadable, or another subject), ``provider`` (unreachable).
    """
    tokens = _exchange(settings, code, redirect_uri, code_verifier)
    raw_id_token = tokens.get("id_token")
    access_token = tokens.get("access_token")
    if not isinstance(raw_id_token, str) or not isinstance(access_token, str):
        raise OidcRefused("token", "no id_token or access_token")
    claims = _id_token_claims(settings, raw_id_token, nonce=nonce, access_token=access_token)
    subject = str(claims["sub"])
    info = _userinfo(settings, access_token, subject)
    amr = claims.get("amr") or info.get("amr") or []
    acr = claims.get("acr") or info.get("acr")
    email = info.get("email", claims.get("email"))
    verified = info.get("email_verified", claims.get("email_verified"))
    return Authentication(
        issuer=settings.issuer,
        subject=subject,
        email=email.strip().lower() if isinstance(email, str) and email.strip() else None,
        email_verified=verified if isinstance(verified, bool) else None,
        acr=str(acr)[:200] if acr else None,
        amr=tuple(str(item) for item in amr) if isinstance(amr, list) else (),
        id_token=raw_id_token,
    )


def _exchange(
    settings: OidcSettings, code: str, redirect_uri: str, code_verifier: str
) -> dict[str, Any]:
    try:
        with _client(settings, redirect_uri) as client:
            token = client.fetch_token(
                metadata(settings)["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier,
                timeout=settings.timeout,
            )
    except OidcRefused:
        raise
    except requests.RequestException as exc:
        raise OidcRefused("provider", type(exc).__name__) from exc
    except Exception as exc:  # noqa: BLE001 - Authlib's OAuthError and malformed answers alike
        raise OidcRefused("token", type(exc).__name__) from exc
    return dict(token)


def _id_token_claims(
    settings: OidcSettings, raw: str, *, nonce: str, access_token: str
) -> dict[str, Any]:
    token = _decode(settings, raw, "id_token_signing_alg_values_supported", "id_token")
    claims = CodeIDToken(
        token.claims,
        token.header,
        {
            "iss": {"essential": True, "value": settings.issuer},
            "aud": {"essential": True, "value": settings.client_id},
        },
        {"nonce": nonce, "client_id": settings.client_id, "access_token": access_token},
    )
    try:
        claims.validate(leeway=LEEWAY_SECONDS)
    except JoseError as exc:
        raise OidcRefused("id_token", f"{exc.error}: {exc.description or ''}") from exc
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise OidcRefused("id_token", "no sub")
    return dict(claims)


def _userinfo(settings: OidcSettings, access_token: str, subject: str) -> dict[str, Any]:
    """The userinfo answer: JSON, or a JWT signed by the provider (ProConnect) whose ``iss``
    and ``aud`` are checked like the ID token's."""
    endpoint = metadata(settings).get("userinfo_endpoint")
    if not isinstance(endpoint, str):
        return {}
    try:
        response = requests.get(
            endpoint,
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=settings.timeout,
        )
        response.raise_for_status()
        if response.headers.get("Content-Type", "").startswith("application/jwt"):
            info = _signed_userinfo(settings, response.text.strip())
        else:
            info = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise OidcRefused("userinfo", type(exc).__name__) from exc
    if not isinstance(info, dict) or info.get("sub") != subject:
        raise OidcRefused("userinfo", "another subject")
    return info


def _signed_userinfo(settings: OidcSettings, raw: str) -> dict[str, Any]:
    token = _decode(settings, raw, "userinfo_signing_alg_values_supported", "userinfo")
    claims = dict(token.claims)
    if "iss" in claims and str(claims["iss"]).rstrip("/") != settings.issuer:
        raise OidcRefused("userinfo", "issuer")
    audience = claims.get("aud")
    if audience is not None and settings.client_id not in (
        audience if isinstance(audience, list) else [audience]
    ):
        raise OidcRefused("userinfo", "audience")
    return claims


def logout_url(
    settings: OidcSettings, *, id_token: str, post_logout_redirect_uri: str
) -> str | None:
    """The provider's ``end_session_endpoint`` for this session (RP-initiated logout), or
    ``None`` when it has none or cannot be reached (the sign-out is then local only)."""
    try:
        endpoint = metadata(settings).get("end_session_endpoint")
    except OidcRefused:
        return None
    if not isinstance(endpoint, str):
        return None
    # ProConnect requires a state; the page it comes back to (sign-in) needs none.
    params = {
        "id_token_hint": id_token,
        "state": secrets.token_urlsafe(32),
        "post_logout_redirect_uri": post_logout_redirect_uri,
    }
    return str(add_params_to_uri(endpoint, params))
