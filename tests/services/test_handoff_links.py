"""Answering a hand-off from a mailed link, without an account (issue 13, item 1): the link
offered to a structure without accounts, the same use cases as a signed-in receiver with the
structure as actor "by e-mail link", and every refusal (wrong, used, expired, other structure,
after withdrawal, after expiry) changing nothing."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.actors import EMAIL_LINK, StructureByLink
from app.domain.audit import AuditAction
from app.domain.handoffs import HandoffEvent, HandoffStatus, Party
from app.models import (
    AuditEvent,
    FollowUp,
    Handoff,
    HandoffLink,
    HandoffTransition,
    LinkScope,
    MailKind,
    MailMessage,
    Structure,
    StructureCard,
    User,
)
from app.services.errors import Forbidden, InvalidInput
from app.services.handoffs import apply_event, parties, send_handoff
from app.services.handoffs.deadlines import expire_handoffs
from app.services.handoffs.follow_through import remind
from app.services.handoffs.link_tokens import new_link
from app.services.handoffs.links import LinkNotValid, LinkState, act_by_link, check_link
from app.services.security.vault import Vault
from tests import factories

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
LATER = NOW + timedelta(hours=2)
LINK = re.compile(r"/answer/([A-Za-z0-9_-]+)")
CONTACT = "accueil@petits-pas.example"
# The identity of ``factories.person``: in no link mail.
IDENTITY = ("Zephyrin", "Aurélie", "14/03/2004", "06 12 34 56 78", "aurelie.z@", "Tilleuls")


def with_card(session: Session, structure: Structure, email: str = CONTACT) -> Structure:
    """``structure`` with a directory card giving its contact e-mail."""
    session.add(StructureCard(structure_id=structure.id, email=email))
    session.flush()
    return structure


@pytest.fixture
def net(db_session: Session, vault: Vault) -> dict[str, object]:
    """A (a caseworker), B (no account, a contact e-mail), C (no account, a contact e-mail)
    and a person followed by A."""
    a = factories.structure(db_session)
    b = with_card(db_session, factories.structure(db_session))
    c = with_card(db_session, factories.structure(db_session), "contact@c.example")
    sender = factories.user(db_session, structure_=a)
    person = factories.person(db_session, vault, sender)
    return {"a": a, "b": b, "c": c, "sender": sender, "person": person}


def _send(db_session: Session, vault: Vault, net: dict[str, object], to: str = "b") -> Handoff:
    sender, person, target = net["sender"], net["person"], net[to]
    assert isinstance(sender, User)
    assert isinstance(target, Structure)
    return factories.handoff(db_session, vault, sender, person, target, now=NOW, note="RDV mardi")  # type: ignore[arg-type]


def _link_mails(
    db_session: Session, kind: MailKind = MailKind.HANDOFF_ANSWER_LINK
) -> list[MailMessage]:
    return list(
        db_session.scalars(
            select(MailMessage).where(MailMessage.kind == kind).order_by(MailMessage.created_at)
        )
    )


def _token(mail: MailMessage) -> str:
    assert mail.body_text is not None
    found = LINK.search(mail.body_text)
    assert found, "no link in the mail"
    return found.group(1)


def _state(db_session: Session, handoff: Handoff) -> tuple[object, ...]:
    """What a refused link must leave unchanged."""
    db_session.expire_all()
    count = lambda model: db_session.scalar(select(func.count()).select_from(model))  # noqa: E731
    return (
        db_session.get(Handoff, handoff.id).status,  # type: ignore[union-attr]
        count(HandoffTransition),
        count(AuditEvent),
        count(FollowUp),
        count(MailMessage),
        tuple(
            db_session.execute(
                select(HandoffLink.id, HandoffLink.used_at, HandoffLink.revoked_at).order_by(
                    HandoffLink.id
                )
            )
        ),
    )


def test_a_structure_without_accounts_gets_an_answer_link_at_its_contact_address(
    db_session: Session, vault: Vault, net: dict[str, object]
) -> None:
    handoff = _send(db_session, vault, net)
    (mail,) = _link_mails(db_session)
    token = _token(mail)
    assert mail.to_address == CONTACT
    assert mail.handoff_id == handoff.id
    assert len(token) >= 43  # 256 bits in base64url: not guessable
    (link,) = db_session.scalars(select(HandoffLink))
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert link.scope is LinkScope.ANSWER
    assert (link.handoff_id, link.structure_id) == (handoff.id, handoff.to_structure_id)
    assert link.expires_at == handoff.sent_at + timedelta(days=30)
    # The link dies at the hour it was sent, thirty days on: the mail says when, in France
    # (NOW is 09:30 UTC, 10:30 in Paris in winter), not a day the link does not last through.
    assert "jusqu'au 20/12/2026 à 10:30" in str(mail.body_text)
    # The mail says nothing of the identity.
    for value in IDENTITY:
        assert value not in f"{mail.subject}\n{mail.body_text}"
    issued = db_session.scalar(
        select(AuditEvent).where(AuditEvent.action == AuditAction.HANDOFF_LINK_ISSUE.value)
    )
    assert issued is not None
    assert issued.subject_id == str(handoff.id)
    assert token not in str(issued.data)


def test_structures_with_accounts_or_without_an_address_get_no_link(
    db_session: Session, vault: Vault, net: dict[str, object]
) -> None:
    b, c = net["b"], net["c"]
    assert isinstance(b, Structure)
    assert isinstance(c, Structure)
    factories.user(db_session, structure_=b)  # B now answers signed in
    _send(db_session, vault, net)
    bare = factories.structure(db_session)
    net["bare"] = bare
    _send(db_session, vault, net, "bare")
    assert _link_mails(db_session) == []
    assert db_session.scalar(select(func.count()).select_from(HandoffLink)) == 0


def test_accepting_by_link_uses_the_receivers_use_case_as_the_structure_by_e_mail_link(
    db_session: Session, vault: Vault, net: dict[str, object]
) -> None:
    handoff = _send(db_session, vault, net)
    token = _token(_link_mails(db_session)[0])
    answer = act_by_link(db_session, vault, token, HandoffEvent.ACCEPT, now=LATER)
    assert handoff.status is HandoffStatus.ACCEPTED
    follow_up = db_session.scalar(
        select(FollowUp).where(FollowUp.structure_id == handoff.to_structure_id)
    )
    assert follow_up is not None
    assert follow_up.referent_id is None
    transition = db_session.scalar(
        select(HandoffTransition).where(HandoffTransition.event == HandoffEvent.ACCEPT)
    )
    assert transition is not None
    assert (transition.actor_id, transition.actor_structure_id) == (None, handoff.to_structure_id)
    audited = db_session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == AuditAction.HANDOFF_TRANSITION.value,
            AuditEvent.subject_id == str(handoff.id),
            AuditEvent.data["event"].as_string() == "accept",
        )
    )
    assert audited is not None
    assert audited.actor_id is None
    assert audited.actor_structure_id == handoff.to_structure_id
    assert audited.data["channel"] == EMAIL_LINK
    # The sender hears of it as from a signed-in receiver.
    (accepted,) = _link_mails(db_session, MailKind.HANDOFF_ACCEPTED)
    assert accepted.to_address == net["sender"].email  # type: ignore[attr-defined]
    # The answer link is spent; a follow-through link is given, and mailed to the same address.
    assert check_link(db_session, token, now=LATER).state is LinkState.GONE
    assert answer.follow_through_token is not None
    (mailed,) = _link_mails(db_session, MailKind.HANDOFF_FOLLOW_THROUGH_LINK)
    assert mailed.to_address == CONTACT
    assert _token(mailed) == answer.follow_through_token
    for value in IDENTITY:
        assert value not in f"{mailed.subject}\n{mailed.body_text}"
    assert check_link(db_session, answer.follow_through_token, now=LATER).state is LinkState.LIVE


def test_first_contact_then_outcome_from_the_follow_through_link_each_once(
    db_session: Session, vault: Vault, net: dict[str, object]
) -> None:
    handoff = _send(db_session, vault, net)
    token = _token(_link_mails(db_session)[0])
    follow = act_by_link(db_session, vault, token, HandoffEvent.ACCEPT, now=LATER)
    ft = follow.follow_through_token
    assert ft is not None
    # Not before the first contact: the outcome "completed" is not offered yet.
    with pytest.raises(InvalidInput):
        act_by_link(
            db_session, vault, ft, HandoffEvent.COMPLETE, now=LATER, reason_code="training_entered"
        )
    act_by_link(db_session, vault, ft, HandoffEvent.FIRST_CONTACT, now=LATER)
    assert handoff.status is HandoffStatus.IN_PROGRESS
    act_by_link(
        db_session, vault, ft, HandoffEvent.COMPLETE, now=LATER, reason_code="training_entered"
    )
    assert handoff.status is HandoffStatus.COMPLETED
    assert check_link(db_session, ft, now=LATER).state is LinkState.GONE
    with pytest.raises(LinkNotValid):
        act_by_link(db_session, vault, ft, HandoffEvent.FIRST_CONTACT, now=LATER)


def test_declining_needs_a_reason_and_spends_the_link_only_when_recorded(
    db_session: Session, vault: Vault, net: dict[str, object]
) -> None:
    handoff = _send(db_session, vault, net)
    token = _token(_link_mails(db_session)[0])
    with pytest.raises(InvalidInput), db_session.begin_nested():
        act_by_link(db_session, vault, token, HandoffEvent.DECLINE, now=LATER)
    assert check_link(db_session, token, now=LATER).state is LinkState.LIVE
    act_by_link(
        db_session, vault, token, HandoffEvent.DECLINE, now=LATER, reason_code="no_capacity"
    )
    assert handoff.status is HandoffStatus.DECLINED
    assert check_link(db_session, token, now=LATER).state is LinkState.GONE


def test_redirecting_by_link_sends_a_linked_hand_off_from_the_structure(
    db_session: Session, vault: Vault, net: dict[str, object]
) -> None:
    handoff = _send(db_session, vault, net)
    token = _token(_link_mails(db_session)[0])
    c = net["c"]
    assert isinstance(c, Structure)
    answer = act_by_link(db_session, vault, token, HandoffEvent.REDIRECT, now=LATER, redirect_to=c)
    assert handoff.status is HandoffStatus.REDIRECTED
    new = answer.redirected
    assert new is not None
    assert new.parent_id == handoff.id
    assert (new.from_structure_id, new.from_user_id, new.to_structure_id) == (
        handoff.to_structure_id,
        None,
        c.id,
    )
    # C has no account either: it gets its own answer link.
    assert [m.to_address for m in _link_mails(db_session)] == [CONTACT, "contact@c.example"]


@pytest.mark.parametrize("case", ["wrong", "used", "expired", "other_structure", "withdrawn"])
def test_refused_links_change_nothing(
    db_session: Session, vault: Vault, net: dict[str, object], case: str
) -> None:
    handoff = _send(db_session, vault, net)
    token = _token(_link_mails(db_session)[0])
    now, expected = LATER, LinkState.GONE
    if case == "wrong":
        token, expected = token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), LinkState.WRONG
    elif case == "used":
        act_by_link(
            db_session, vault, token, HandoffEvent.DECLINE, now=LATER, reason_code="not_interested"
        )
    elif case == "expired":
        now = handoff.sent_at + timedelta(days=30, seconds=1)
    elif case == "other_structure":
        # A link bound to a structure that is not the hand-off's receiver.
        c = net["c"]
        assert isinstance(c, Structure)
        token = new_link(
            db_session, handoff, c.id, LinkScope.ANSWER, now=NOW, expires_at=LATER + timedelta(1)
        )
        expected = LinkState.WRONG
    elif case == "withdrawn":
        sender = net["sender"]
        assert isinstance(sender, User)
        apply_event(
            db_session, vault, sender, handoff, HandoffEvent.WITHDRAW, now=NOW, message="Erreur"
        )
    db_session.flush()
    before = _state(db_session, handoff)
    assert check_link(db_session, token, now=now).state is expected
    for event in (HandoffEvent.ACCEPT, HandoffEvent.DECLINE, HandoffEvent.REDIRECT):
        with pytest.raises(LinkNotValid) as refused:
            act_by_link(db_session, vault, token, event, now=now, reason_code="not_interested")
        assert refused.value.state is expected
    assert _state(db_session, handoff) == before


def test_every_way_out_of_sent_revokes_the_answer_links(
    db_session: Session, vault: Vault, net: dict[str, object]
) -> None:
    """Withdrawal, the expiry job, an answer from an account: the link is revoked."""
    handoff = _send(db_session, vault, net)
    expire_handoffs(db_session, vault, now=NOW + timedelta(days=31), expiry_days=30)
    assert handoff.status is HandoffStatus.EXPIRED
    (link,) = db_session.scalars(select(HandoffLink))
    db_session.refresh(link)
    assert link.revoked_at is not None
    # A new one, answered by an account of B created since.
    second = _send(db_session, vault, net)
    b = net["b"]
    assert isinstance(b, Structure)
    receiver = factories.user(db_session, structure_=b)
    apply_event(db_session, vault, receiver, second, HandoffEvent.ACCEPT, now=LATER)
    live = db_session.scalars(
        select(HandoffLink).where(
            HandoffLink.handoff_id == second.id, HandoffLink.revoked_at.is_(None)
        )
    ).all()
    assert live == []


def test_a_reminder_mails_a_new_link_and_revokes_the_older_one(
    db_session: Session, vault: Vault, net: dict[str, object]
) -> None:
    handoff = _send(db_session, vault, net)
    first = _token(_link_mails(db_session)[0])
    sender = net["sender"]
    assert isinstance(sender, User)
    remind(db_session, vault, sender, handoff, now=NOW + timedelta(days=4), days=3)
    mails = _link_mails(db_session)
    assert len(mails) == 2
    second = _token(mails[1])
    at = NOW + timedelta(days=4, hours=1)
    assert check_link(db_session, first, now=at).state is LinkState.GONE
    assert check_link(db_session, second, now=at).state is LinkState.LIVE


def test_a_structure_by_link_is_only_ever_the_receiver(
    db_session: Session, vault: Vault, net: dict[str, object]
) -> None:
    """The link's actor may not act as the sender, nor send a hand-off of its own."""
    handoff = _send(db_session, vault, net)
    a, c = net["a"], net["c"]
    assert isinstance(a, Structure)
    assert isinstance(c, Structure)
    assert parties(StructureByLink(handoff.to_structure_id), handoff) == {Party.RECEIVER}
    assert parties(StructureByLink(a.id), handoff) == frozenset()
    with pytest.raises(Forbidden):
        send_handoff(
            db_session,
            vault,
            StructureByLink(handoff.to_structure_id),
            handoff.beneficiary,
            to_structure=c,
            now=LATER,
            purpose_stage_code="training",
            consent_confirmed=True,
        )
