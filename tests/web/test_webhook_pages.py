"""The webhooks page of a structure: its managers and the administrators register an address
(after proving who they are again) and see the secret once, send a test event, disable,
renew the secret, delete; refusals leave nothing behind."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.roles import Role
from app.models import AuditEvent, Structure, User, WebhookDelivery, WebhookEndpoint
from app.services.security.managers import set_manager
from app.services.webhooks import endpoints
from app.web.auth.signing_in import AUTH_AT_KEY
from tests import factories
from tests.web.api_helpers import token_for
from tests.web.helpers import csrf_token, duplicate_ids, login, reauthenticate

SECRET = r'data-testid="webhook-secret">(whsec_[A-Za-z0-9+/=]+)<'


@pytest.fixture
def local_addresses(app: Flask) -> Iterator[None]:
    """Let the tests register 127.0.0.1 over http (as RELAIS_WEBHOOK_ALLOW_* do)."""
    saved = app.config["WEBHOOK_ALLOW_HTTP"], app.config["WEBHOOK_ALLOW_PRIVATE"]
    app.config["WEBHOOK_ALLOW_HTTP"] = app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    yield
    app.config["WEBHOOK_ALLOW_HTTP"], app.config["WEBHOOK_ALLOW_PRIVATE"] = saved


@pytest.fixture
def structure(db_session: Session) -> Structure:
    return factories.structure(db_session)


@pytest.fixture
def manager(db_session: Session, structure: Structure) -> User:
    user = factories.user(db_session, structure_=structure)
    set_manager(db_session, None, user, True)
    db_session.commit()
    return user


def _page(structure: Structure) -> str:
    return f"/structures/{structure.code}/webhooks"


def _register(client: FlaskClient, structure: Structure, url: str, **extra: object) -> object:
    token = csrf_token(client, _page(structure))
    data = {"url": url, "description": "Notre logiciel", "events": ["handoff.received"]}
    return client.post(f"{_page(structure)}/new", data={**data, **extra, "csrf_token": token})


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_manager_registers_an_address_and_sees_its_secret_once(
    client: FlaskClient,
    db_session: Session,
    structure: Structure,
    manager: User,
    local_addresses: None,
) -> None:
    assert login(client, manager.email).status_code == 302
    assert client.get(_page(structure)).status_code == 200
    answer = _register(client, structure, "http://127.0.0.1:9/hook")
    assert answer.status_code == 200  # type: ignore[attr-defined]
    page = answer.get_data(as_text=True)  # type: ignore[attr-defined]
    found = re.search(SECRET, page)
    assert found
    (endpoint,) = db_session.scalars(select(WebhookEndpoint)).all()
    assert endpoint.structure_id == structure.id
    assert endpoint.created_by == manager.id
    assert endpoint.events == "handoff.received"
    assert endpoints.open_secret(
        client.application.extensions["relais_vault"].keys, endpoint
    ) == found.group(1)
    # The page of the structure never shows it again.
    assert found.group(1) not in client.get(_page(structure)).get_data(as_text=True)
    assert f'data-testid="webhook-{endpoint.id.hex}"' in client.get(_page(structure)).get_data(
        as_text=True
    )
    event = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.WEBHOOK_CREATE)
    ).one()
    assert event.actor_id == manager.id


def test_the_pages_with_rows_of_forms_have_unique_ids(
    client: FlaskClient,
    db_session: Session,
    structure: Structure,
    manager: User,
    local_addresses: None,
) -> None:
    # Each row's buttons are forms carrying the CSRF token: it must not repeat an id.
    token_for(db_session, structure)
    login(client, manager.email)
    _register(client, structure, "http://127.0.0.1:9/hook")
    for page in (_page(structure), f"/structures/{structure.code}/api-tokens"):
        html = client.get(page).get_data(as_text=True)
        assert "<form" in html
        assert duplicate_ids(html) == [], page


def test_registering_asks_for_the_password_again_when_the_proof_is_old(
    client: FlaskClient,
    db_session: Session,
    structure: Structure,
    manager: User,
    local_addresses: None,
) -> None:
    login(client, manager.email)
    with client.session_transaction() as session:
        session.pop(AUTH_AT_KEY, None)
    answer = _register(client, structure, "http://127.0.0.1:9/hook")
    assert answer.status_code == 302  # type: ignore[attr-defined]
    assert "/account/confirm" in answer.location  # type: ignore[attr-defined]
    assert _count(db_session, WebhookEndpoint) == 0
    assert reauthenticate(client, manager.email, _page(structure)).status_code == 302
    assert _register(client, structure, "http://127.0.0.1:9/hook").status_code == 200  # type: ignore[attr-defined]
    assert _count(db_session, WebhookEndpoint) == 1


@pytest.mark.parametrize(
    ("url", "events"),
    [
        ("http://93.184.216.34/hook", ["handoff.received"]),  # http without the setting
        ("https://127.0.0.1/hook", ["handoff.received"]),  # loopback without the setting
        ("https://10.0.0.1/hook", ["handoff.received"]),
        ("https://169.254.169.254/latest", ["handoff.received"]),
        ("not an address", ["handoff.received"]),
        ("https://93.184.216.34/hook", []),  # no event
        ("https://93.184.216.34/hook", ["handoff.unknown"]),
    ],
)
def test_a_refused_registration_is_shown_on_the_form_and_writes_nothing(
    client: FlaskClient,
    db_session: Session,
    structure: Structure,
    manager: User,
    url: str,
    events: list[str],
) -> None:
    login(client, manager.email)
    audit_before = _count(db_session, AuditEvent)
    answer = _register(client, structure, url, events=events)
    assert answer.status_code == 200  # type: ignore[attr-defined]
    page = answer.get_data(as_text=True)  # type: ignore[attr-defined]
    assert 'class="error-summary"' in page
    assert "whsec_" not in page
    assert _count(db_session, WebhookEndpoint) == 0
    assert _count(db_session, AuditEvent) == audit_before


def test_others_get_404(
    client: FlaskClient, db_session: Session, structure: Structure, manager: User
) -> None:
    hook = factories.webhook(db_session, structure).endpoint
    colleague = factories.user(db_session, structure_=structure)  # not a manager
    other = factories.structure(db_session)
    other_manager = factories.user(db_session, structure_=other)
    set_manager(db_session, None, other_manager, True)
    coordinator = factories.user(db_session, Role.COORDINATOR)
    db_session.commit()
    for user in (colleague, other_manager, coordinator):
        browser = client.application.test_client()
        login(browser, user.email)
        token = csrf_token(browser, "/account/password")
        assert browser.get(_page(structure)).status_code == 404
        assert (
            browser.post(
                f"{_page(structure)}/{hook.id.hex}/ping", data={"csrf_token": token}
            ).status_code
            == 404
        )
    # Another structure's webhook through one's own structure's page: not found.
    browser = client.application.test_client()
    login(browser, other_manager.email)
    token = csrf_token(browser, _page(other))
    assert (
        browser.post(f"{_page(other)}/{hook.id.hex}/ping", data={"csrf_token": token}).status_code
        == 404
    )
    assert (
        browser.post(f"{_page(other)}/not-an-id/ping", data={"csrf_token": token}).status_code
        == 404
    )
    assert browser.get("/structures/NOPE/webhooks").status_code == 404
    assert _count(db_session, WebhookDelivery) == 0


def test_ping_disable_enable_new_secret_and_delete(
    client: FlaskClient, db_session: Session, structure: Structure
) -> None:
    admin = factories.user(db_session, Role.ADMIN)
    registered = factories.webhook(db_session, structure)
    hook_id = registered.endpoint.id
    db_session.commit()
    login(client, admin.email)
    base = f"{_page(structure)}/{hook_id.hex}"

    def endpoint() -> WebhookEndpoint:
        db_session.expire_all()
        found = db_session.get(WebhookEndpoint, hook_id)
        assert found is not None
        return found

    token = csrf_token(client, _page(structure))
    assert client.post(f"{base}/ping", data={"csrf_token": token}).status_code == 302
    (ping,) = db_session.scalars(select(WebhookDelivery)).all()
    assert ping.event_type.value == "ping"
    assert f'data-testid="delivery-{ping.id.hex}"' in client.get(_page(structure)).get_data(
        as_text=True
    )
    assert client.post(f"{base}/active", data={"csrf_token": token}).status_code == 302
    assert not endpoint().active
    assert endpoint().disabled_at is not None
    assert (
        client.post(f"{base}/active", data={"csrf_token": token, "active": "y"}).status_code == 302
    )
    assert endpoint().active
    answer = client.post(f"{base}/secret", data={"csrf_token": token})
    assert answer.status_code == 200
    keys = client.application.extensions["relais_vault"].keys
    renewed = endpoints.open_secret(keys, endpoint())
    assert renewed != registered.secret
    assert renewed in answer.get_data(as_text=True)
    # Deleting needs the box ticked.
    assert client.post(f"{base}/delete", data={"csrf_token": token}).status_code == 302
    assert _count(db_session, WebhookEndpoint) == 1
    assert (
        client.post(f"{base}/delete", data={"csrf_token": token, "confirm": "y"}).status_code == 302
    )
    assert _count(db_session, WebhookEndpoint) == 0
    assert _count(db_session, WebhookDelivery) == 0
    actions = db_session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.action.like("webhook:%"), AuditEvent.actor_id == admin.id)
        .order_by(AuditEvent.seq)
    ).all()
    assert actions == [
        AuditAction.WEBHOOK_PING,
        AuditAction.WEBHOOK_DISABLE,
        AuditAction.WEBHOOK_ENABLE,
        AuditAction.WEBHOOK_NEW_SECRET,
        AuditAction.WEBHOOK_DELETE,
    ]
