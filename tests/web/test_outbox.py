"""The development outbox page; requests queue mail, the worker sends it."""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime
from typing import NoReturn

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.roles import Role
from app.models import Handoff, MailMessage, WebhookDelivery
from app.services.security.vault import Vault
from tests import factories
from tests.web.helpers import login

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture
def handoff(db_session: Session, vault: Vault) -> Handoff:
    """A hand-off from A to B (one mail queued for B's caseworker), and the staff, committed."""
    a = factories.structure(db_session, "OUTA")
    b = factories.structure(db_session, "OUTB")
    sender = factories.user(db_session, structure_=a, email="sender@relais.example")
    factories.user(db_session, structure_=b, email="receiver@relais.example")
    factories.user(db_session, Role.COORDINATOR, email="coord@relais.example")
    factories.user(db_session, Role.ADMIN, email="admin@relais.example")
    person = factories.person(db_session, vault, sender, last_name="Vandermeersch")
    sent = factories.handoff(db_session, vault, sender, person, b, note="Hébergée rue des Glycines")
    db_session.commit()
    return sent


def _mail(db_session: Session) -> MailMessage:
    db_session.expire_all()
    return db_session.scalars(select(MailMessage)).one()


def test_admins_read_the_outbox(client: FlaskClient, handoff: Handoff) -> None:
    login(client, "admin@relais.example")
    page = client.get("/dev/outbox")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "receiver@relais.example" in html
    assert f"http://localhost/handoffs/{handoff.id}" in html  # the preview of an unsent mail
    assert "Vandermeersch" not in html
    assert "Glycines" not in html


@pytest.mark.parametrize("email", ["sender@relais.example", "coord@relais.example"])
def test_other_roles_get_a_404(client: FlaskClient, handoff: Handoff, email: str) -> None:
    login(client, email)
    assert client.get("/dev/outbox").status_code == 404


def test_visitors_are_sent_to_sign_in(client: FlaskClient, handoff: Handoff) -> None:
    response = client.get("/dev/outbox")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_page_does_not_exist_when_mail_is_really_sent(
    app: Flask, client: FlaskClient, handoff: Handoff, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    login(client, "admin@relais.example")
    assert client.get("/dev/outbox").status_code == 404


def test_a_request_queues_mail_and_the_worker_sends_it(
    client: FlaskClient, runner: FlaskCliRunner, db_session: Session, handoff: Handoff
) -> None:
    login(client, "receiver@relais.example")
    page = client.get(f"/handoffs/{handoff.id.hex}").get_data(as_text=True)
    token = re.search(r'name="accept-csrf_token"[^>]*value="([^"]+)"', page)
    assert token, "accept is not offered"
    accepted = client.post(
        f"/handoffs/{handoff.id.hex}/accept", data={"accept-csrf_token": token.group(1)}
    )
    assert accepted.status_code == 302
    db_session.expire_all()
    mails = db_session.scalars(select(MailMessage)).all()
    assert len(mails) == 2  # received (queued by the fixture), accepted (by the request)
    assert all(mail.sent_at is None for mail in mails)  # nothing is sent inside a request
    result = runner.invoke(args=["mail", "work", "--once"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "sent 2, failed 0"
    db_session.expire_all()
    sent = db_session.scalars(select(MailMessage)).all()
    assert all(mail.sent_at is not None for mail in sent)
    login(client, "admin@relais.example")
    html = client.get("/dev/outbox").get_data(as_text=True)
    assert all(mail.subject is not None and mail.subject in html for mail in sent)


def test_a_request_opens_no_connection_to_the_mail_server(
    app: Flask,
    client: FlaskClient,
    db_session: Session,
    handoff: Handoff,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With real mail (SMTP) configured and the server down, an accept answers at once: it
    queues its mail and its webhook call and opens no network connection at all (smtplib and
    the webhooks' HTTP client go through ``socket.getaddrinfo`` or ``create_connection``)."""
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "SMTP_HOST", "smtp.unreachable.example")
    factories.webhook(db_session, handoff.from_structure)  # the sender's software hears of it
    db_session.commit()
    attempts: list[object] = []

    def refuse(address: object, *_args: object, **_kwargs: object) -> NoReturn:
        attempts.append(address)
        raise ConnectionRefusedError("the mail server is down")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)  # the webhooks resolve first
    login(client, "receiver@relais.example")
    page = client.get(f"/handoffs/{handoff.id.hex}").get_data(as_text=True)
    token = re.search(r'name="accept-csrf_token"[^>]*value="([^"]+)"', page)
    assert token, "accept is not offered"
    accepted = client.post(
        f"/handoffs/{handoff.id.hex}/accept", data={"accept-csrf_token": token.group(1)}
    )
    assert accepted.status_code == 302
    assert attempts == []
    db_session.expire_all()
    queued = db_session.scalars(select(MailMessage).where(MailMessage.sent_at.is_(None))).all()
    assert len(queued) == 2  # received (the fixture), accepted (the request): both waiting
    calls = db_session.scalars(select(WebhookDelivery)).all()
    assert len(calls) == 1  # the answer, for the sender's endpoint
    assert calls[0].delivered_at is None
    assert calls[0].attempts == 0
