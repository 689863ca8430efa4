"""Sign in with ProConnect, end to end against a local OpenID provider (``oidc-provider-mock``
on 127.0.0.1, a free port, in a thread): the authorisation code flow with PKCE S256, state and
nonce, the account found by e-mail then by (issuer, subject), ACR and AMR recorded, the second
step, the provider's logout, and every refusal (unknown or closed account, state or nonce
mismatch, a tampered ID token, a replayed callback)."""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import logging
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
import werkzeug.serving
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from app.domain.audit import AuditAction
from app.domain.roles import Role
from app.models import AuditEvent, LoginThrottle, OidcSignIn, User, UserIdentity, UserSession
from app.services.security.accounts import deactivate_user
from tests import factories
from tests.web.helpers import csrf_token, enter_code, fresh_code

# The mock provider is built on Authlib's server, which warns about its own deprecated
# interfaces (in the provider's thread too): not Relais's concern.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CLIENT_ID = "relais-test"
CALLBACK = "/login/proconnect/callback"


@dataclass
class Recorder:
    """WSGI middleware in front of the provider: keeps every request (path, query, body) and
    can rewrite the token endpoint's answer (a response tampered with on its way)."""

    app: Callable[..., Iterable[bytes]]
    seen: list[tuple[str, dict[str, list[str]], dict[str, list[str]]]] = field(default_factory=list)
    tamper: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        path = environ.get("PATH_INFO", "")
        self.seen.append(
            (path, parse_qs(environ.get("QUERY_STRING", "")), parse_qs(body.decode("latin-1")))
        )
        if self.tamper is None or path != "/oauth2/token":
            return self.app(environ, start_response)
        answer: dict[str, Any] = {}

        def keep(status: str, headers: list[tuple[str, str]], *_: Any) -> Callable[..., None]:
            answer.update(status=status, headers=headers)
            return lambda _data: None

        data = json.loads(b"".join(self.app(environ, keep)))
        out = json.dumps(self.tamper(data)).encode()
        headers = [(k, v) for k, v in answer["headers"] if k.lower() != "content-length"]
        start_response(answer["status"], [*headers, ("Content-Length", str(len(out)))])
        return [out]

    def requests_to(self, path: str) -> list[tuple[dict[str, list[str]], dict[str, list[str]]]]:
        return [(query, form) for seen_path, query, form in self.seen if seen_path == path]


@dataclass
class Provider:
    issuer: str
    recorder: Recorder

    def add_user(self, sub: str, **claims: Any) -> None:
        answer = requests.put(f"{self.issuer}/users/{sub}", json=claims, timeout=5)
        assert answer.status_code == 204

    def authorise(self, url: str, sub: str) -> str:
        """The person signs in at the provider as ``sub``: where it sends the browser back."""
        answer = requests.post(url, data={"sub": sub}, allow_redirects=False, timeout=5)
        assert answer.status_code == 302, answer.text[:500]
        return str(answer.headers["Location"])


class _QuietHandler(werkzeug.serving.WSGIRequestHandler):
    def log_request(self, *_args: Any, **_kwargs: Any) -> None:
        """The provider's access log is not Relais's."""


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import oidc_provider_mock

        recorder = Recorder(oidc_provider_mock.app(require_nonce=True))
    # The provider's own logs (the claims of its users) are the test provider's, not Relais's:
    # kept out of the suite's log capture (tests/log_leaks.py).
    quiet = logging.getLogger("oidc_provider_mock")
    quiet.propagate = False
    server = werkzeug.serving.make_server(
        "127.0.0.1", 0, recorder, threaded=True, request_handler=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield Provider(f"http://127.0.0.1:{server.server_port}", recorder)
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
        quiet.propagate = True


@pytest.fixture
def proconnect(app: Flask, provider: Provider, monkeypatch: pytest.MonkeyPatch) -> Provider:
    """ProConnect configured on the application for one test."""
    monkeypatch.setitem(app.config, "OIDC_ISSUER", provider.issuer)
    monkeypatch.setitem(app.config, "OIDC_CLIENT_ID", CLIENT_ID)
    monkeypatch.setitem(app.config, "OIDC_CLIENT_SECRET", "a-client-secret-for-tests")
    monkeypatch.setitem(app.config, "OIDC_TIMEOUT", 5)
    provider.recorder.tamper = None
    provider.recorder.seen.clear()
    return provider


def _start(client: FlaskClient, next_path: str = "") -> str:
    """Press the ProConnect button of the sign-in page: the provider's address."""
    page = client.get("/login")
    assert b'id="proconnect-button"' in page.data
    answer = client.post(
        "/login/proconnect", data={"csrf_token": csrf_token(client), "next": next_path}
    )
    return _provider_address(answer)


def _provider_address(answer: TestResponse) -> str:
    """The page between Relais and the provider: a meta refresh and a link to the same place
    (a form's answer may not redirect to another origin under the CSP's form-action)."""
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    page = answer.get_data(as_text=True)
    assert 'data-testid="proconnect-redirect"' in page
    link = html.unescape(
        page.split('id="proconnect-continue"', 1)[1].split('href="', 1)[1].split('"', 1)[0]
    )
    refresh = html.unescape(
        page.split('http-equiv="refresh" content="0;url=', 1)[1].split('"', 1)[0]
    )
    assert link == refresh
    return link


def _back(client: FlaskClient, location: str) -> TestResponse:
    """The provider's redirect, followed by the browser to Relais."""
    parts = urlsplit(location)
    assert parts.path == CALLBACK
    return client.get(f"{parts.path}?{parts.query}")


def _sign_in(client: FlaskClient, provider: Provider, sub: str) -> TestResponse:
    return _back(client, provider.authorise(_start(client), sub))


def _events(db_session: Session, action: AuditAction) -> list[AuditEvent]:
    db_session.expire_all()
    return list(
        db_session.scalars(
            select(AuditEvent).where(AuditEvent.action == action.value).order_by(AuditEvent.seq)
        )
    )


def _sessions(db_session: Session, user: User) -> list[UserSession]:
    db_session.expire_all()
    return list(db_session.scalars(select(UserSession).where(UserSession.user_id == user.id)))


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/account/sessions").status_code == 200


def _refused(answer: TestResponse) -> str:
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert 'data-testid="proconnect-refused"' in page
    reason = page.split('data-reason="', 1)[1].split('"', 1)[0]
    return reason


def _client_failures(db_session: Session) -> int:
    db_session.expire_all()
    return sum(
        row.failures
        for row in db_session.scalars(
            select(LoginThrottle).where(LoginThrottle.key.like("client:%"))
        )
    )


@pytest.fixture
def caseworker(db_session: Session) -> User:
    user = factories.user(db_session, email="Camille.Martin@relais.example")
    db_session.commit()
    return user


# -- success --------------------------------------------------------------------------------


def test_the_button_shows_only_when_proconnect_is_configured(client: FlaskClient) -> None:
    assert b'id="proconnect-button"' not in client.get("/login").data
    token = csrf_token(client)
    assert _not_done(client.post("/login/proconnect", data={"csrf_token": token})) == "unavailable"
    assert _not_done(client.get(f"{CALLBACK}?code=x&state=y")) == "unavailable"
    assert not _signed_in(client)


def test_an_existing_active_account_signs_in_and_is_linked(
    client: FlaskClient, db_session: Session, proconnect: Provider, caseworker: User
) -> None:
    # The provider's e-mail differs in case: accounts are found case-insensitively.
    proconnect.add_user(
        "sub-linked",
        email="camille.MARTIN@relais.example",
        given_name="Camille",
        usual_name="Martin",
        acr="eidas1",
        amr=["pwd"],
    )
    answer = _sign_in(client, proconnect, "sub-linked")
    assert answer.status_code == 302
    assert urlsplit(answer.location).path == "/"
    assert _signed_in(client)
    assert b'data-testid="via-proconnect"' in client.get("/account/sessions").data

    identity = db_session.scalar(select(UserIdentity).where(UserIdentity.user_id == caseworker.id))
    assert identity is not None
    assert (identity.issuer, identity.subject) == (proconnect.issuer, "sub-linked")
    (opened,) = _sessions(db_session, caseworker)
    assert (opened.method, opened.acr, opened.amr) == ("proconnect", "eidas1", "pwd")
    assert opened.id_token  # kept server-side for the provider's logout
    # ... and only there: the spent sign-in keeps neither the token nor the account.
    attempt = db_session.scalar(select(OidcSignIn))
    assert attempt is not None
    assert attempt.used_at is not None
    assert (attempt.id_token, attempt.user_id) == (None, None)
    (login_event,) = _events(db_session, AuditAction.LOGIN)
    assert login_event.actor_id == caseworker.id
    assert login_event.data == {"method": "proconnect", "acr": "eidas1", "amr": "pwd"}
    assert len(_events(db_session, AuditAction.IDENTITY_LINK)) == 1


def test_the_flow_uses_pkce_s256_state_and_nonce(
    client: FlaskClient, db_session: Session, proconnect: Provider, caseworker: User
) -> None:
    proconnect.add_user("sub-pkce", email=caseworker.email)
    location = _start(client)
    query = parse_qs(urlsplit(location).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["response_type"] == ["code"]
    assert len(query["state"][0]) >= 32
    assert len(query["nonce"][0]) >= 32
    assert "openid" in query["scope"][0].split()
    assert query["redirect_uri"] == [f"http://localhost{CALLBACK}"]
    # The state is kept hashed, never in clear, on the server.
    stored = db_session.scalar(select(OidcSignIn))
    assert stored is not None
    assert stored.state_hash == hashlib.sha256(query["state"][0].encode()).hexdigest()
    assert stored.nonce == query["nonce"][0]
    assert _back(client, proconnect.authorise(location, "sub-pkce")).status_code == 302

    (authorise_query, _form), *_ = proconnect.recorder.requests_to("/oauth2/authorize")
    ((_query, token_form),) = proconnect.recorder.requests_to("/oauth2/token")
    verifier = token_form["code_verifier"][0]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    assert authorise_query["code_challenge"] == [challenge.rstrip(b"=").decode()]
    assert token_form["grant_type"] == ["authorization_code"]


def test_the_account_is_found_by_subject_after_the_email_changed(
    client: FlaskClient, db_session: Session, proconnect: Provider, caseworker: User
) -> None:
    proconnect.add_user("sub-moved", email=caseworker.email)
    assert _sign_in(client, proconnect, "sub-moved").status_code == 302
    client.delete_cookie("relais_session")
    proconnect.add_user("sub-moved", email="camille.martin@autre-domaine.example")
    assert _sign_in(client, proconnect, "sub-moved").status_code == 302
    assert _signed_in(client)
    assert len(_sessions(db_session, caseworker)) == 2


def test_a_coordinator_without_multi_factor_at_the_provider_gives_the_code(
    client: FlaskClient, db_session: Session, proconnect: Provider
) -> None:
    coordinator = factories.user(db_session, Role.COORDINATOR, email="coord@relais.example")
    db_session.commit()
    proconnect.add_user("sub-coord", email=coordinator.email, acr="eidas1", amr=["pwd"])
    answer = _sign_in(client, proconnect, "sub-coord")
    assert urlsplit(answer.location).path == "/login/code"
    assert not _signed_in(client)
    assert _sessions(db_session, coordinator) == []
    done = enter_code(client, fresh_code(client.application, coordinator.email))
    assert done.status_code == 302
    assert urlsplit(done.location).path == "/"
    (opened,) = _sessions(db_session, coordinator)
    assert (opened.method, opened.acr, opened.amr) == ("proconnect", "eidas1", "pwd")
    (login_event,) = _events(db_session, AuditAction.LOGIN)
    assert login_event.data == {"method": "proconnect", "acr": "eidas1", "amr": "pwd"}


def test_a_coordinator_with_multi_factor_at_the_provider_needs_no_code(
    client: FlaskClient, db_session: Session, proconnect: Provider
) -> None:
    coordinator = factories.user(db_session, Role.COORDINATOR, email="coord2@relais.example")
    db_session.commit()
    proconnect.add_user("sub-mfa", email=coordinator.email, acr="eidas1", amr=["pwd", "mfa"])
    answer = _sign_in(client, proconnect, "sub-mfa")
    assert urlsplit(answer.location).path == "/"
    (opened,) = _sessions(db_session, coordinator)
    assert opened.amr == "pwd mfa"


def test_next_page_is_kept_through_the_provider(
    client: FlaskClient, proconnect: Provider, caseworker: User
) -> None:
    proconnect.add_user("sub-next", email=caseworker.email)
    location = proconnect.authorise(_start(client, "/account/sessions"), "sub-next")
    assert urlsplit(_back(client, location).location).path == "/account/sessions"


def test_sign_out_ends_the_session_at_the_provider_too(
    client: FlaskClient, db_session: Session, proconnect: Provider, caseworker: User
) -> None:
    proconnect.add_user("sub-out", email=caseworker.email)
    _sign_in(client, proconnect, "sub-out")
    (opened,) = _sessions(db_session, caseworker)
    id_token = opened.id_token
    answer = client.post("/logout", data={"csrf_token": csrf_token(client, "/account/sessions")})
    target = urlsplit(_provider_address(answer))
    assert f"{target.scheme}://{target.netloc}" == proconnect.issuer
    assert target.path == "/oauth2/end_session"
    query = parse_qs(target.query)
    assert query["id_token_hint"] == [id_token]
    assert query["post_logout_redirect_uri"] == ["http://localhost/login"]
    assert len(query["state"][0]) >= 32
    assert not _signed_in(client)
    (ended,) = _sessions(db_session, caseworker)
    assert ended.ended_at is not None
    assert ended.id_token is None


# -- refusals -------------------------------------------------------------------------------


def test_an_unknown_email_is_refused_and_nothing_is_created(
    client: FlaskClient, db_session: Session, proconnect: Provider
) -> None:
    users_before = db_session.query(User).count()
    proconnect.add_user("sub-stranger", email="inconnu@ailleurs.example")
    assert _refused(_sign_in(client, proconnect, "sub-stranger")) == "no_account"
    assert not _signed_in(client)
    assert db_session.query(User).count() == users_before
    assert db_session.scalar(select(UserIdentity)) is None
    (refusal,) = _events(db_session, AuditAction.OIDC_REFUSED)
    assert refusal.data == {"reason": "no_account"}
    assert "inconnu" not in json.dumps(refusal.data)
    assert _client_failures(db_session) == 1


def test_a_closed_account_is_refused(
    client: FlaskClient, db_session: Session, proconnect: Provider, caseworker: User
) -> None:
    deactivate_user(db_session, None, caseworker)
    db_session.commit()
    proconnect.add_user("sub-closed", email=caseworker.email)
    assert _refused(_sign_in(client, proconnect, "sub-closed")) == "inactive"
    assert not _signed_in(client)
    assert db_session.scalar(select(UserIdentity)) is None
    assert _sessions(db_session, caseworker) == []


def test_a_linked_account_closed_later_is_refused(
    client: FlaskClient, db_session: Session, proconnect: Provider, caseworker: User
) -> None:
    proconnect.add_user("sub-later", email=caseworker.email)
    _sign_in(client, proconnect, "sub-later")
    client.delete_cookie("relais_session")
    account = db_session.get(User, caseworker.id)
    assert account is not None
    deactivate_user(db_session, None, account)
    db_session.commit()
    assert _refused(_sign_in(client, proconnect, "sub-later")) == "inactive"
    assert not _signed_in(client)


def test_an_account_linked_to_another_subject_is_refused(
    client: FlaskClient, db_session: Session, proconnect: Provider, caseworker: User
) -> None:
    proconnect.add_user("sub-first", email=caseworker.email)
    _sign_in(client, proconnect, "sub-first")
    client.delete_cookie("relais_session")
    # Another identity at the provider now gives the same e-mail.
    proconnect.add_user("sub-second", email=caseworker.email)
    assert _refused(_sign_in(client, proconnect, "sub-second")) == "other_subject"
    assert not _signed_in(client)


def test_an_email_said_unverified_is_refused(
    client: FlaskClient, db_session: Session, proconnect: Provider, caseworker: User
) -> None:
    proconnect.add_user("sub-unverified", email=caseworker.email, email_verified=False)
    assert _refused(_sign_in(client, proconnect, "sub-unverified")) == "email_not_verified"
    assert not _signed_in(client)


def test_a_verified_email_can_be_required(
    app: Flask,
    client: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    proconnect: Provider,
    caseworker: User,
) -> None:
    monkeypatch.setitem(app.config, "OIDC_REQUIRE_EMAIL_VERIFIED", True)
    proconnect.add_user("sub-silent", email=caseworker.email)  # no email_verified claim
    assert _refused(_sign_in(client, proconnect, "sub-silent")) == "email_not_verified"
    proconnect.add_user("sub-checked", email=caseworker.email, email_verified=True)
    assert _sign_in(client, proconnect, "sub-checked").status_code == 302
    assert _signed_in(client)


def _not_done(answer: TestResponse, status: int = 200) -> str:
    """The page of a sign-in that did not happen: its reason."""
    assert answer.status_code == status
    page = answer.get_data(as_text=True)
    assert 'data-testid="proconnect-failed"' in page
    return page.split('data-reason="', 1)[1].split('"', 1)[0]


def _refused_back_to_login(client: FlaskClient, answer: TestResponse) -> None:
    assert _not_done(answer) == "failed"
    assert not _signed_in(client)


def test_a_state_mismatch_is_refused(
    client: FlaskClient, db_session: Session, proconnect: Provider, caseworker: User
) -> None:
    proconnect.add_user("sub-state", email=caseworker.email)
    location = proconnect.authorise(_start(client), "sub-state")
    parts = urlsplit(location)
    query = parse_qs(parts.query)
    query["state"] = ["forged-" + query["state"][0][7:]]
    forged = urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
    _refused_back_to_login(client, _back(client, forged))
    # Nothing was exchanged with the provider, and the failure counts for this address.
    assert proconnect.recorder.requests_to("/oauth2/token") == []
    assert _client_failures(db_session) == 1


def test_a_callback_from_another_browser_is_refused(
    app: Flask, client: FlaskClient, proconnect: Provider, caseworker: User
) -> None:
    """A login CSRF: the attacker's own callback link opened in the victim's browser."""
    proconnect.add_user("sub-csrf", email=caseworker.email)
    location = proconnect.authorise(_start(client), "sub-csrf")
    victim = app.test_client()
    _refused_back_to_login(victim, _back(victim, location))
    assert proconnect.recorder.requests_to("/oauth2/token") == []


def test_a_nonce_mismatch_is_refused(
    client: FlaskClient, db_session: Session, proconnect: Provider, caseworker: User
) -> None:
    """The provider's ID token was minted for another authorisation request's nonce."""
    proconnect.add_user("sub-nonce", email=caseworker.email)
    parts = urlsplit(_start(client))
    query = parse_qs(parts.query)
    query["nonce"] = ["another-nonce-of-another-request-0123456789"]
    location = proconnect.authorise(
        urlunsplit(parts._replace(query=urlencode(query, doseq=True))), "sub-nonce"
    )
    _refused_back_to_login(client, _back(client, location))
    (refusal,) = _events(db_session, AuditAction.OIDC_REFUSED)
    assert refusal.data == {"reason": "id_token"}
    assert db_session.scalar(select(UserIdentity)) is None


def _with_payload(token: str, change: Callable[[dict[str, Any]], None]) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    change(claims)
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{encoded}.{signature}"


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(
            lambda token: _with_payload(token, lambda c: c.update(sub="sub-someone-else")),
            id="claims-changed",
        ),
        pytest.param(lambda token: token[:-6] + "AAAAAA", id="signature-changed"),
        pytest.param(
            lambda token: "eyJhbGciOiJub25lIn0." + token.split(".")[1] + ".", id="alg-none"
        ),
    ],
)
def test_a_tampered_id_token_is_refused(
    client: FlaskClient,
    db_session: Session,
    proconnect: Provider,
    caseworker: User,
    tamper: Callable[[str], str],
) -> None:
    proconnect.add_user("sub-tamper", email=caseworker.email)

    def change(answer: dict[str, Any]) -> dict[str, Any]:
        return {**answer, "id_token": tamper(answer["id_token"])}

    proconnect.recorder.tamper = change
    _refused_back_to_login(client, _sign_in(client, proconnect, "sub-tamper"))
    (refusal,) = _events(db_session, AuditAction.OIDC_REFUSED)
    assert refusal.data == {"reason": "id_token"}
    assert _sessions(db_session, caseworker) == []


def test_a_code_issued_to_another_client_is_refused(
    app: Flask,
    client: FlaskClient,
    db_session: Session,
    monkeypatch: pytest.MonkeyPatch,
    proconnect: Provider,
    caseworker: User,
) -> None:
    """A code the provider issued to another client (another audience) is not for Relais: the
    provider refuses to exchange it for Relais (the ``aud`` check of the ID token itself is
    Authlib's/joserfc's, not reachable with this provider without breaking the signature)."""
    proconnect.add_user("sub-aud", email=caseworker.email)
    location = _start(client)
    parts = urlsplit(location)
    query = parse_qs(parts.query)
    query["client_id"] = ["another-client"]
    back = proconnect.authorise(
        urlunsplit(parts._replace(query=urlencode(query, doseq=True))), "sub-aud"
    )
    _refused_back_to_login(client, _back(client, back))
    assert _sessions(db_session, caseworker) == []


def test_a_replayed_callback_is_refused(
    app: Flask, client: FlaskClient, db_session: Session, proconnect: Provider, caseworker: User
) -> None:
    proconnect.add_user("sub-replay", email=caseworker.email)
    location = _start(client)
    with client.session_transaction() as cookie:
        saved = dict(cookie)  # the browser's cookie, before the callback consumes the state
    back = proconnect.authorise(location, "sub-replay")
    assert _back(client, back).status_code == 302
    assert len(_sessions(db_session, caseworker)) == 1

    # The same callback again, in a browser holding the old cookie (the state in it).
    replay = app.test_client()
    with replay.session_transaction() as cookie:
        cookie.update(saved)
    _refused_back_to_login(replay, _back(replay, back))
    assert len(_sessions(db_session, caseworker)) == 1
    assert len(proconnect.recorder.requests_to("/oauth2/token")) == 1


def test_a_cancelled_sign_in_at_the_provider_returns_to_the_sign_in_page(
    client: FlaskClient, db_session: Session, proconnect: Provider
) -> None:
    location = _start(client)
    state = parse_qs(urlsplit(location).query)["state"][0]
    answer = client.get(f"{CALLBACK}?error=access_denied&state={state}")
    assert _not_done(answer) == "cancelled"
    assert not _signed_in(client)
    (refusal,) = _events(db_session, AuditAction.OIDC_REFUSED)
    assert refusal.data == {"reason": "provider_error"}


def test_failed_callbacks_are_throttled_per_client(
    app: Flask, client: FlaskClient, db_session: Session, proconnect: Provider, caseworker: User
) -> None:
    for _ in range(int(app.config["LOGIN_CLIENT_MAX_FAILURES"])):
        client.get(f"{CALLBACK}?code=x&state=wrong")
    assert _client_failures(db_session) == int(app.config["LOGIN_CLIENT_MAX_FAILURES"])
    # Now even a right answer from the provider waits: nothing reaches the token endpoint.
    proconnect.add_user("sub-wait", email=caseworker.email)
    start = client.post("/login/proconnect", data={"csrf_token": csrf_token(client)})
    assert _not_done(start, 429) == "wait"
    assert _not_done(client.get(f"{CALLBACK}?code=x&state=y"), 429) == "wait"
    assert proconnect.recorder.requests_to("/oauth2/token") == []
    assert not _signed_in(client)


def test_an_unreachable_provider_gets_a_clear_answer(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "OIDC_ISSUER", "http://127.0.0.1:9")  # nothing listens
    monkeypatch.setitem(app.config, "OIDC_CLIENT_ID", CLIENT_ID)
    monkeypatch.setitem(app.config, "OIDC_CLIENT_SECRET", "secret")
    monkeypatch.setitem(app.config, "OIDC_TIMEOUT", 2)
    answer = client.post("/login/proconnect", data={"csrf_token": csrf_token(client)})
    assert _not_done(answer) == "unavailable"


def test_the_start_needs_the_csrf_token(client: FlaskClient, proconnect: Provider) -> None:
    assert client.post("/login/proconnect", data={}).status_code == 400


def test_unlink_lets_a_new_identity_link_by_email(
    app: Flask, client: FlaskClient, db_session: Session, proconnect: Provider, caseworker: User
) -> None:
    proconnect.add_user("sub-old", email=caseworker.email)
    _sign_in(client, proconnect, "sub-old")
    client.delete_cookie("relais_session")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "unlink-proconnect", caseworker.email])
    assert result.exit_code == 0, result.output
    assert db_session.scalar(select(UserIdentity)) is None
    assert len(_events(db_session, AuditAction.IDENTITY_UNLINK)) == 1
    proconnect.add_user("sub-new", email=caseworker.email)
    assert _sign_in(client, proconnect, "sub-new").status_code == 302
    assert _signed_in(client)
    again = runner.invoke(args=["users", "unlink-proconnect", "nobody@relais.example"])
    assert again.exit_code != 0
