"""``flask webhooks work``: the worker that delivers webhook events, from cron or as a service."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import WebhookDelivery
from app.services.security.vault import Vault
from app.services.webhooks.settings import WebhookSettings
from tests import factories
from tests.services.webhook_receiver import Receiver, closed_port, receiver

LOCAL = WebhookSettings(allow_http=True, allow_private=True)


@pytest.fixture
def local_addresses(app: Flask) -> Iterator[None]:
    saved = app.config["WEBHOOK_ALLOW_HTTP"], app.config["WEBHOOK_ALLOW_PRIVATE"]
    app.config["WEBHOOK_ALLOW_HTTP"] = app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    yield
    app.config["WEBHOOK_ALLOW_HTTP"], app.config["WEBHOOK_ALLOW_PRIVATE"] = saved


def _send(db_session: Session, vault: Vault, url: str) -> None:
    """A hand-off sent to a structure whose webhook is at ``url``."""
    a, b = factories.structure(db_session), factories.structure(db_session)
    factories.webhook(db_session, b, url, settings=LOCAL)
    sender = factories.user(db_session, structure_=a)
    factories.handoff(db_session, vault, sender, factories.person(db_session, vault, sender), b)
    db_session.commit()


def _waiting(db_session: Session) -> list[WebhookDelivery]:
    db_session.expire_all()
    return list(
        db_session.scalars(select(WebhookDelivery).where(WebhookDelivery.delivered_at.is_(None)))
    )


def test_once_delivers_what_is_due(
    runner: FlaskCliRunner, db_session: Session, vault: Vault, local_addresses: None
) -> None:
    received: Receiver
    with receiver() as received:
        _send(db_session, vault, received.url("/b"))
        result = runner.invoke(args=["webhooks", "work", "--once"])
        assert result.exit_code == 0, result.output
        assert result.output.strip() == "delivered 1, failed 0"
        assert [json.loads(r.body)["type"] for r in received.requests] == ["handoff.received"]
    assert _waiting(db_session) == []


def test_a_failure_waits_for_its_retry_and_a_loop_stops(
    runner: FlaskCliRunner, db_session: Session, vault: Vault, local_addresses: None
) -> None:
    _send(db_session, vault, f"http://127.0.0.1:{closed_port()}/down")
    result = runner.invoke(args=["webhooks", "work", "--once"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "delivered 0, failed 1"
    (delivery,) = _waiting(db_session)
    assert delivery.attempts == 1
    # Not due again yet: the service loop leaves it alone.
    loop = runner.invoke(args=["webhooks", "work", "--interval", "0.1", "--max-runs", "2"])
    assert loop.exit_code == 0, loop.output
    lines = loop.output.strip().splitlines()
    assert lines[0].startswith("webhook worker started")
    assert lines[-1] == "webhook worker stopped"
    (delivery,) = _waiting(db_session)
    assert delivery.attempts == 1


def test_without_the_settings_a_local_address_is_refused_at_delivery(
    runner: FlaskCliRunner, db_session: Session, vault: Vault
) -> None:
    with receiver() as received:
        _send(db_session, vault, received.url("/b"))
        result = runner.invoke(args=["webhooks", "work", "--once"])
        assert result.exit_code == 0, result.output
        assert received.requests == []
    (delivery,) = _waiting(db_session)
    assert delivery.last_error == "refused-http"


@pytest.mark.parametrize("args", [["--interval", "0"], ["--limit", "0"], ["--limit", "x"]])
def test_bad_options_are_refused_with_the_reason(runner: FlaskCliRunner, args: list[str]) -> None:
    result = runner.invoke(args=["webhooks", "work", *args])
    assert result.exit_code == 2
    assert "Invalid value" in result.output
