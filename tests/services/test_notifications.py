"""Notification mails: who gets one, what it may say, and how the outbox is delivered."""

from __future__ import annotations

import logging
import smtplib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffEvent
from app.models import Beneficiary, Handoff, MailKind, MailMessage, Structure, User
from app.services.handoffs import apply_event, send_handoff
from app.services.handoffs.follow_through import remind
from app.services.mail.composing import MailFacts, _translations, render
from app.services.mail.delivery import deliver_pending
from app.services.mail.queue import MAX_ATTEMPTS, notify_handoff
from app.services.mail.settings import mail_settings, make_sender
from app.services.mail.transport import (
    MailConfigError,
    MailError,
    OutboxLogSender,
    OutgoingMail,
    SmtpSender,
    SmtpSettings,
)
from app.services.security.accounts import deactivate_user
from app.services.security.vault import Vault
from tests import factories

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
BASE_URL = "https://relais.example.org"

# Distinctive identity values: none of them may reach a mail.
IDENTITY = {
    "last_name": "Quintavalle-Brisebois",
    "first_name": "Philomène",
    "birth_date": date(1998, 2, 27),
    "phone": "06 98 76 54 32",
    "email": "philomene.qb@exemple.fr",
}
NOTE = "Hébergée chez sa tante rue des Glycines"
MESSAGE = "Rappeler Mme Quintavalle au 0698765432"
PERSONAL_VALUES = (
    "Quintavalle",
    "Brisebois",
    "Philomène",
    "Philomene",
    "27/02/1998",
    "1998-02-27",
    "98 76",
    "98765432",
    "philomene.qb",
    "exemple.fr",
    "Tilleuls",  # the factory's address
    "Glycines",
    "Rappeler",
)


@dataclass
class Network:
    a: Structure
    b: Structure
    c: Structure
    sender: User
    colleague: User
    receivers: list[User]
    third: User
    person: Beneficiary


@pytest.fixture
def net(db_session: Session, vault: Vault) -> Network:
    a, b, c = (factories.structure(db_session) for _ in range(3))
    sender = factories.user(db_session, structure_=a)
    colleague = factories.user(db_session, structure_=a)
    receivers = [factories.user(db_session, structure_=b) for _ in range(2)]
    gone = factories.user(db_session, structure_=b)
    deactivate_user(db_session, None, gone)
    third = factories.user(db_session, structure_=c)
    person = factories.person(db_session, vault, sender, **IDENTITY)  # type: ignore[arg-type]
    return Network(a, b, c, sender, colleague, receivers, third, person)


def _send(db_session: Session, vault: Vault, net: Network, stage: str = "training") -> Handoff:
    return send_handoff(
        db_session,
        vault,
        net.sender,
        net.person,
        to_structure=net.b,
        now=NOW,
        purpose_stage_code=stage,
        consent_confirmed=True,
        note=NOTE,
    )


def _mails(db_session: Session, handoff: Handoff) -> list[MailMessage]:
    return list(
        db_session.scalars(
            select(MailMessage)
            .where(MailMessage.handoff_id == handoff.id)
            .order_by(MailMessage.created_at, MailMessage.to_address)
        )
    )


def _kinds_and_addresses(mails: list[MailMessage]) -> set[tuple[MailKind, str]]:
    return {(m.kind, m.to_address) for m in mails}


# -- recipients ----------------------------------------------------------------------------


def test_a_sent_handoff_reaches_every_active_caseworker_of_the_receiver(
    db_session: Session, vault: Vault, net: Network
) -> None:
    handoff = _send(db_session, vault, net)
    assert _kinds_and_addresses(_mails(db_session, handoff)) == {
        (MailKind.HANDOFF_RECEIVED, u.email) for u in net.receivers
    }


@pytest.mark.parametrize(
    ("events", "kind"),
    [
        ([(HandoffEvent.ACCEPT, None)], MailKind.HANDOFF_ACCEPTED),
        ([(HandoffEvent.DECLINE, "no_capacity")], MailKind.HANDOFF_DECLINED),
        (
            [(HandoffEvent.ACCEPT, None), (HandoffEvent.NOT_COMPLETE, "person_stopped")],
            MailKind.HANDOFF_NOT_COMPLETED,
        ),
        (
            [
                (HandoffEvent.ACCEPT, None),
                (HandoffEvent.FIRST_CONTACT, None),
                (HandoffEvent.COMPLETE, "training_entered"),
            ],
            MailKind.HANDOFF_COMPLETED,
        ),
    ],
)
def test_answers_and_closures_reach_the_sending_caseworker(
    db_session: Session,
    vault: Vault,
    net: Network,
    events: list[tuple[HandoffEvent, str | None]],
    kind: MailKind,
) -> None:
    handoff = _send(db_session, vault, net)
    for event, reason in events:
        apply_event(
            db_session, vault, net.receivers[0], handoff, event, now=NOW, reason_code=reason
        )
    to_sender = [m for m in _mails(db_session, handoff) if m.kind is not MailKind.HANDOFF_RECEIVED]
    expected = {(MailKind.HANDOFF_ACCEPTED, net.sender.email)} if len(events) > 1 else set()
    assert _kinds_and_addresses(to_sender) == expected | {(kind, net.sender.email)}


def test_first_contact_and_withdrawal_send_no_mail(
    db_session: Session, vault: Vault, net: Network
) -> None:
    accepted = _send(db_session, vault, net)
    apply_event(db_session, vault, net.receivers[0], accepted, HandoffEvent.ACCEPT, now=NOW)
    apply_event(db_session, vault, net.receivers[0], accepted, HandoffEvent.FIRST_CONTACT, now=NOW)
    assert len(_mails(db_session, accepted)) == len(net.receivers) + 1  # received + accepted
    withdrawn = _send(db_session, vault, net, "employment")
    apply_event(
        db_session, vault, net.sender, withdrawn, HandoffEvent.WITHDRAW, now=NOW, message=MESSAGE
    )
    assert {m.kind for m in _mails(db_session, withdrawn)} == {MailKind.HANDOFF_RECEIVED}
    assert notify_handoff(db_session, withdrawn, HandoffEvent.FIRST_CONTACT) == 0


def test_a_redirect_tells_the_sender_and_the_new_receiver(
    db_session: Session, vault: Vault, net: Network
) -> None:
    handoff = _send(db_session, vault, net)
    child = apply_event(
        db_session,
        vault,
        net.receivers[0],
        handoff,
        HandoffEvent.REDIRECT,
        now=NOW,
        redirect_to=net.c,
        message=MESSAGE,
    )
    assert (MailKind.HANDOFF_REDIRECTED, net.sender.email) in _kinds_and_addresses(
        _mails(db_session, handoff)
    )
    assert _kinds_and_addresses(_mails(db_session, child)) == {
        (MailKind.HANDOFF_RECEIVED, net.third.email)
    }
    mail = next(m for m in _mails(db_session, handoff) if m.kind is MailKind.HANDOFF_REDIRECTED)
    deliver_pending(db_session, OutboxLogSender(), base_url=BASE_URL, now=NOW)
    assert net.c.name in (mail.body_text or "")  # the new receiving structure is named


def test_expiry_reaches_the_sender(db_session: Session, vault: Vault, net: Network) -> None:
    handoff = _send(db_session, vault, net)
    apply_event(db_session, vault, None, handoff, HandoffEvent.EXPIRE, now=NOW + timedelta(days=31))
    assert (MailKind.HANDOFF_EXPIRED, net.sender.email) in _kinds_and_addresses(
        _mails(db_session, handoff)
    )


def test_when_the_sender_left_their_colleagues_are_told(
    db_session: Session, vault: Vault, net: Network
) -> None:
    handoff = _send(db_session, vault, net)
    deactivate_user(db_session, None, net.sender)
    apply_event(db_session, vault, net.receivers[0], handoff, HandoffEvent.ACCEPT, now=NOW)
    accepted = [m for m in _mails(db_session, handoff) if m.kind is MailKind.HANDOFF_ACCEPTED]
    assert [m.to_address for m in accepted] == [net.colleague.email]


def test_mails_are_in_the_recipient_s_language(
    db_session: Session, vault: Vault, net: Network
) -> None:
    net.receivers[1].locale = "en"
    handoff = _send(db_session, vault, net)
    locales = {m.to_address: m.locale for m in _mails(db_session, handoff)}
    assert locales == {net.receivers[0].email: "fr", net.receivers[1].email: "en"}


# -- what a mail says ------------------------------------------------------------------------


def test_no_personal_value_reaches_any_mail(
    db_session: Session, vault: Vault, net: Network
) -> None:
    first = _send(db_session, vault, net)
    apply_event(
        db_session,
        vault,
        net.receivers[0],
        first,
        HandoffEvent.DECLINE,
        now=NOW,
        reason_code="other",
        message=MESSAGE,
    )
    second = _send(db_session, vault, net, "employment")
    child = apply_event(
        db_session,
        vault,
        net.receivers[0],
        second,
        HandoffEvent.REDIRECT,
        now=NOW,
        redirect_to=net.c,
        message=MESSAGE,
    )
    for event, reason in (
        (HandoffEvent.ACCEPT, None),
        (HandoffEvent.FIRST_CONTACT, None),
        (HandoffEvent.COMPLETE, "job_signed"),
    ):
        apply_event(db_session, vault, net.third, child, event, now=NOW, reason_code=reason)
    third = _send(db_session, vault, net, "orientation")
    reminded = NOW + timedelta(days=5)
    remind(db_session, vault, net.sender, third, now=reminded, days=3, message=MESSAGE)
    apply_event(db_session, vault, None, third, HandoffEvent.EXPIRE, now=NOW + timedelta(days=31))

    report = deliver_pending(db_session, OutboxLogSender(), base_url=BASE_URL, now=NOW, limit=100)
    mails = list(db_session.scalars(select(MailMessage)))
    assert report.sent == len(mails)
    assert {m.kind for m in mails} == set(MailKind) - {
        MailKind.HANDOFF_NOT_COMPLETED,
        MailKind.PASSWORD_RESET,  # not about a hand-off
        MailKind.INVITATION,  # not about a hand-off
        # To a structure without accounts only: tests/services/test_handoff_links.py.
        MailKind.HANDOFF_ANSWER_LINK,
        MailKind.HANDOFF_FOLLOW_THROUGH_LINK,
    }
    pseudonym = net.person.pseudonym
    for mail in mails:
        text = f"{mail.subject}\n{mail.body_text}"
        for value in PERSONAL_VALUES:
            assert value.casefold() not in text.casefold(), (mail.kind, value)
        assert pseudonym in (mail.subject or "")
        assert pseudonym in (mail.body_text or "")
        assert f"{BASE_URL}/handoffs/{mail.handoff_id}" in (mail.body_text or "")
        assert net.b.name in text


# Mails whose text is written when they are queued, with their single-use link.
WRITTEN_WHEN_QUEUED = {
    MailKind.PASSWORD_RESET,
    MailKind.INVITATION,
    MailKind.HANDOFF_ANSWER_LINK,
    MailKind.HANDOFF_FOLLOW_THROUGH_LINK,
}


def test_render_uses_only_the_facts_it_is_given() -> None:
    facts = MailFacts(
        pseudonym="P-ABCD-EFGH",
        sender="Mission Locale Nord",
        receiver="Association Relance",
        link=f"{BASE_URL}/handoffs/42",
    )
    mail = render(MailKind.HANDOFF_RECEIVED, facts, "en")
    assert mail.subject == "[Relais] New hand-off from Mission Locale Nord: P-ABCD-EFGH"
    assert mail.body_text.startswith("Hello,\n\n")
    assert (
        "Mission Locale Nord has handed off the person P-ABCD-EFGH to Association Relance."
        in mail.body_text
    )
    assert f"See the hand-off in Relais: {BASE_URL}/handoffs/42" in mail.body_text
    assert "as a caseworker of Association Relance" in mail.body_text
    declined = render(MailKind.HANDOFF_DECLINED, facts, "en")
    assert "as a caseworker of Mission Locale Nord" in declined.body_text
    elsewhere = render(MailKind.HANDOFF_REDIRECTED, facts, "en")
    assert "to another partner." in elsewhere.body_text
    for kind in MailKind:
        if kind in WRITTEN_WHEN_QUEUED:
            continue  # password_reset.py, invitations.py, handoffs/link_offers.py: links in the text
        assert render(kind, facts, "fr").subject  # every kind has a text


def test_subjects_are_one_line() -> None:
    facts = MailFacts("P-ABCD-EFGH", "Ligne\nbrisée", "B" * 400, f"{BASE_URL}/handoffs/1")
    subject = render(MailKind.HANDOFF_ACCEPTED, facts, "en").subject
    assert "\n" not in subject
    assert len(subject) <= 300


def test_texts_are_translated_with_the_application_catalog() -> None:
    french = _translations("fr")
    assert french.gettext("Hand-off accepted") == "Orientation acceptée"
    assert _translations("en").gettext("Hand-off accepted") == "Hand-off accepted"


# -- delivery ----------------------------------------------------------------------------------


def test_delivery_marks_messages_sent_and_logs_no_text(
    db_session: Session, vault: Vault, net: Network, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="app.services.mail.transport")
    handoff = _send(db_session, vault, net)
    report = deliver_pending(db_session, OutboxLogSender(), base_url=BASE_URL, now=NOW)
    assert (report.sent, report.failed) == (2, 0)
    for mail in _mails(db_session, handoff):
        assert mail.sent_at == NOW
        assert mail.attempts == 1
        assert mail.subject
        assert mail.body_text
        assert str(mail.id) in caplog.text
    assert "relais.example" in caplog.text  # the recipients' domain...
    for user in net.receivers:
        assert user.email.partition("@")[0] + "@" not in caplog.text  # ...not their address
    assert net.person.pseudonym not in caplog.text
    again = deliver_pending(db_session, OutboxLogSender(), base_url=BASE_URL, now=NOW)
    assert again.handled == 0


@dataclass
class FakeSender:
    """Fails with ``errors`` (one per message, in order; None = success)."""

    errors: list[MailError | None]
    sent: list[OutgoingMail] = field(default_factory=list)
    closed: int = 0

    def send(self, mail: OutgoingMail) -> None:
        error = self.errors.pop(0) if self.errors else None
        if error is not None:
            raise error
        self.sent.append(mail)

    def close(self) -> None:
        self.closed += 1


def test_a_failed_message_is_retried_later_then_given_up(
    db_session: Session, vault: Vault, net: Network
) -> None:
    handoff = _send(db_session, vault, net)
    first, second = _mails(db_session, handoff)
    sender = FakeSender([MailError("smtp-451"), None])
    report = deliver_pending(db_session, sender, base_url=BASE_URL, now=NOW)
    assert (report.sent, report.failed, report.last_error) == (1, 1, "smtp-451")
    assert report.failed_ids == (first.id,)
    assert sender.closed == 1
    assert first.sent_at is None
    assert (first.attempts, first.last_error) == (1, "smtp-451")
    assert second.sent_at == NOW
    # A request after its commit does not retry; the scheduled job does.
    assert (
        deliver_pending(
            db_session, FakeSender([]), base_url=BASE_URL, now=NOW, retry_failed=False
        ).handled
        == 0
    )
    assert (
        deliver_pending(
            db_session, FakeSender([]), base_url=BASE_URL, now=NOW, skip={first.id}
        ).handled
        == 0
    )
    for _ in range(MAX_ATTEMPTS - 1):
        deliver_pending(db_session, FakeSender([MailError("smtp-451")]), base_url=BASE_URL, now=NOW)
    assert first.attempts == MAX_ATTEMPTS
    assert deliver_pending(db_session, FakeSender([]), base_url=BASE_URL, now=NOW).handled == 0


def test_a_transport_failure_stops_the_batch_and_a_refusal_is_final(
    db_session: Session, vault: Vault, net: Network
) -> None:
    handoff = _send(db_session, vault, net)
    first, second = _mails(db_session, handoff)
    report = deliver_pending(
        db_session,
        FakeSender([MailError("ConnectionRefusedError", stops_batch=True)]),
        base_url=BASE_URL,
        now=NOW,
    )
    assert (report.sent, report.failed, report.stopped) == (0, 1, True)
    assert second.attempts == 0  # not tried: it waits for the next run
    deliver_pending(
        db_session,
        FakeSender([MailError("smtp-recipient-refused", permanent=True)]),
        base_url=BASE_URL,
        now=NOW,
    )
    assert first.attempts == MAX_ATTEMPTS  # retrying cannot help
    assert second.sent_at == NOW


def test_mails_go_with_their_handoff(db_session: Session, vault: Vault, net: Network) -> None:
    handoff = _send(db_session, vault, net)
    assert _mails(db_session, handoff)
    db_session.execute(delete(Handoff).where(Handoff.id == handoff.id))
    db_session.expunge_all()
    assert db_session.scalars(select(MailMessage)).all() == []


# -- SMTP and settings -------------------------------------------------------------------------


class FakeSmtp:
    instances: list[FakeSmtp] = []

    def __init__(self, host: str, port: int, timeout: int) -> None:
        self.address = (host, port, timeout)
        self.calls: list[str] = []
        self.messages: list[EmailMessage] = []
        FakeSmtp.instances.append(self)

    def starttls(self, context: object) -> None:
        self.calls.append("starttls")

    def login(self, user: str, password: str) -> None:
        self.calls.append(f"login {user}:{password}")

    def send_message(self, message: EmailMessage) -> dict[str, Any]:
        if message["To"] == "refused@relais.example":
            raise smtplib.SMTPRecipientsRefused({"refused@relais.example": (550, b"no")})
        self.messages.append(message)
        return {}

    def quit(self) -> None:
        self.calls.append("quit")

    def close(self) -> None:
        self.calls.append("close")


def _outgoing(to: str = "worker@relais.example") -> OutgoingMail:
    return OutgoingMail(uuid.uuid4(), to, "[Relais] Subject", "Bonjour,\n\nCorps.\n")


def test_smtp_sender_uses_starttls_and_login_once_per_run() -> None:
    FakeSmtp.instances.clear()
    settings = SmtpSettings("smtp.example.org", 587, True, 7, "relais", "s3cret")
    sender = SmtpSender(settings, "relais@cite.example", connect=FakeSmtp)  # type: ignore[arg-type]
    assert "s3cret" not in repr(sender)
    assert "s3cret" not in repr(settings)
    first, second = _outgoing(), _outgoing("other@relais.example")
    sender.send(first)
    sender.send(second)
    with pytest.raises(MailError) as refused:
        sender.send(_outgoing("refused@relais.example"))
    assert refused.value.permanent
    assert not refused.value.stops_batch
    assert "refused@" not in refused.value.code
    sender.close()
    (smtp,) = FakeSmtp.instances
    assert smtp.address == ("smtp.example.org", 587, 7)
    assert smtp.calls == ["starttls", "login relais:s3cret", "quit"]
    message = smtp.messages[0]
    assert message["From"] == "relais@cite.example"
    assert message["To"] == "worker@relais.example"
    assert message["Subject"] == "[Relais] Subject"
    assert message["Message-ID"] == f"<{first.id}@cite.example>"
    assert message.get_content() == "Bonjour,\n\nCorps.\n"


def test_smtp_connection_failure_stops_the_batch() -> None:
    def refuse(*_args: object, **_kw: object) -> smtplib.SMTP:
        raise ConnectionRefusedError(111, "Connection refused to smtp.example.org")

    sender = SmtpSender(SmtpSettings("smtp.example.org"), "relais@cite.example", connect=refuse)
    with pytest.raises(MailError) as failure:
        sender.send(_outgoing())
    assert failure.value.stops_batch
    assert failure.value.code == "ConnectionRefusedError"
    sender.close()


PRODUCTION = {
    "MAIL_BACKEND": "smtp",
    "MAIL_FROM": "relais@cite.example",
    "PUBLIC_BASE_URL": BASE_URL,
    "SMTP_HOST": "smtp.example.org",
    "SMTP_PORT": 2525,
    "SMTP_STARTTLS": False,
    "SMTP_TIMEOUT": 5,
    "SMTP_USERNAME": "relais",
    "SMTP_PASSWORD": None,
    "SMTP_PASSWORD_FILE": None,
}


def test_mail_settings(tmp_path: Path) -> None:
    outbox = mail_settings({"MAIL_BACKEND": "outbox", "PUBLIC_BASE_URL": "http://localhost"})
    assert outbox.smtp is None
    assert isinstance(make_sender(outbox), OutboxLogSender)
    secret = tmp_path / "smtp-password"
    secret.write_text("from-a-file\n")
    smtp = mail_settings({**PRODUCTION, "SMTP_PASSWORD_FILE": str(secret)})
    assert smtp.smtp == SmtpSettings("smtp.example.org", 2525, False, 5, "relais", "from-a-file")
    assert isinstance(make_sender(smtp), SmtpSender)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"SMTP_HOST": None}, "RELAIS_SMTP_HOST"),
        ({"MAIL_FROM": ""}, "RELAIS_MAIL_FROM"),
        ({"PUBLIC_BASE_URL": None}, "RELAIS_PUBLIC_BASE_URL"),
        ({"PUBLIC_BASE_URL": "relais.example.org"}, "RELAIS_PUBLIC_BASE_URL"),
        ({"MAIL_BACKEND": "pigeon"}, "MAIL_BACKEND"),
        ({"SMTP_PASSWORD_FILE": "/nonexistent/smtp"}, "RELAIS_SMTP_PASSWORD_FILE"),
    ],
)
def test_mail_settings_name_what_is_wrong(change: dict[str, Any], named: str) -> None:
    with pytest.raises(MailConfigError, match=named):
        mail_settings({**PRODUCTION, **change})
