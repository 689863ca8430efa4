"""The pages of hand-off links (``/answer/<token>``): what they show (never the identity), the
headers, every refusal (wrong, used, expired, other structure, after withdrawal: one page,
404 or 410, nothing changed), the answer seen by the sender, CSRF and bad input."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.domain.actors import EMAIL_LINK
from app.domain.audit import AuditAction
from app.domain.handoffs import HandoffEvent, HandoffStatus
from app.models import (
    AuditEvent,
    FollowUp,
    Handoff,
    HandoffLink,
    HandoffTransition,
    Invitation,
    LinkScope,
    MailKind,
    MailMessage,
    Structure,
    StructureCard,
    User,
)
from app.services.handoffs import apply_event
from app.services.handoffs.link_tokens import new_link
from app.services.security.vault import Vault
from tests import factories
from tests.web.helpers import TOKEN, login

LINK = re.compile(r"/answer/([A-Za-z0-9_-]{40,})")
CONTACT = "accueil@petits-pas.example"
# The identity of the person (tests.factories.person): none of it may show on a link page.
IDENTITY = (
    "Zephyrin",
    "Aurélie",
    "Aur&#233;lie",
    "14/03/2004",
    "2004-03-14",
    "06 12 34 56 78",
    "0612345678",
    "aurelie.z@exemple.fr",
    "rue des Tilleuls",
)


@pytest.fixture
def net(db_session: Session, vault: Vault) -> dict[str, object]:
    a = factories.structure(db_session)
    b = factories.structure(db_session)
    c = factories.structure(db_session)
    db_session.add(StructureCard(structure_id=b.id, email=CONTACT))
    sender = factories.user(db_session, structure_=a, email="sender@relais.example")
    person = factories.person(db_session, vault, sender)
    handoff = factories.handoff(
        db_session, vault, sender, person, b, now=datetime.now(UTC), note="RDV mardi matin"
    )
    db_session.commit()
    mail = db_session.scalar(
        select(MailMessage).where(MailMessage.kind == MailKind.HANDOFF_ANSWER_LINK)
    )
    assert mail is not None
    assert mail.body_text is not None
    found = LINK.search(mail.body_text)
    assert found
    return {
        "handoff": Ref(handoff.id, person.pseudonym, b.id),
        "token": found.group(1),
        "sender": sender.email,
        "c": c.id,
    }


@dataclass(frozen=True)
class Ref:
    """What a test needs of the hand-off, read before any request detaches it."""

    id: uuid.UUID
    pseudonym: str
    to_structure_id: int


def _no_identity(html: str) -> None:
    for value in IDENTITY:
        assert value not in html, f"{value!r} shown through a link"


def _csrf(client: FlaskClient, path: str) -> str:
    found = TOKEN.search(client.get(path).get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def _state(db_session: Session, handoff: Ref) -> tuple[object, ...]:
    db_session.expire_all()

    def count(model: type) -> int | None:
        return db_session.scalar(select(func.count()).select_from(model))

    links = db_session.execute(
        select(HandoffLink.id, HandoffLink.used_at, HandoffLink.revoked_at).order_by(HandoffLink.id)
    )
    status = db_session.scalar(select(Handoff.status).where(Handoff.id == handoff.id))
    return (
        status,
        count(HandoffTransition),
        count(AuditEvent),
        count(FollowUp),
        count(MailMessage),
        tuple(links),
    )


def test_the_page_shows_what_a_receiver_sees_and_no_identity(
    client: FlaskClient, net: dict[str, object]
) -> None:
    handoff = net["handoff"]
    assert isinstance(handoff, Ref)
    answer = client.get(f"/answer/{net['token']}")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert handoff.pseudonym in html
    assert 'data-testid="link-note"' in html
    assert "RDV mardi matin" in html
    for event in ("accept", "decline", "redirect"):
        assert f'data-testid="link-action-{event}"' in html
    _no_identity(html)
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert answer.headers["Cache-Control"] == "no-store"


def test_accepting_leads_to_the_follow_through_page_and_the_sender_sees_it(
    app: object, client: FlaskClient, db_session: Session, net: dict[str, object]
) -> None:
    handoff, token = net["handoff"], net["token"]
    assert isinstance(handoff, Ref)
    path = f"/answer/{token}"
    answer = client.post(f"{path}/accept", data={"csrf_token": _csrf(client, path)})
    assert answer.status_code == 302
    follow = answer.headers["Location"]
    assert follow.startswith("/answer/")
    assert follow != path
    page = client.get(follow)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="account-invite"' in html
    assert 'id="put-in-touch"' in html
    assert 'data-scope="follow_through"' in html
    assert 'data-testid="link-action-first_contact"' in html
    _no_identity(html)
    # The answer link is spent: the same page for everyone, and nothing else.
    assert client.get(path).status_code == 410
    db_session.expire_all()
    assert db_session.get(Handoff, handoff.id).status is HandoffStatus.ACCEPTED  # type: ignore[union-attr]
    audited = db_session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == AuditAction.HANDOFF_TRANSITION.value,
            AuditEvent.subject_id == str(handoff.id),
            AuditEvent.actor_structure_id == handoff.to_structure_id,
        )
    )
    assert audited is not None
    assert audited.actor_id is None
    assert audited.data["channel"] == EMAIL_LINK
    # The sender, signed in, sees the answer.
    other = client.application.test_client()
    login(other, str(net["sender"]))
    seen = other.get(f"/handoffs/{handoff.id.hex}").get_data(as_text=True)
    assert "state-accepted" in seen
    # First contact, then the outcome, from the follow-through link.
    first = client.post(f"{follow}/first_contact", data={"csrf_token": _csrf(client, follow)})
    assert first.status_code == 302
    html = client.get(follow).get_data(as_text=True)
    assert 'data-testid="link-action-complete"' in html
    _no_identity(html)
    closed = client.post(
        f"{follow}/complete",
        data={"csrf_token": _csrf(client, follow), "complete-outcome": "training_entered"},
    )
    assert closed.status_code == 302
    assert closed.headers["Location"] == "/answer/done"
    _no_identity(client.get("/answer/done").get_data(as_text=True))
    db_session.expire_all()
    assert db_session.get(Handoff, handoff.id).status is HandoffStatus.COMPLETED  # type: ignore[union-attr]
    assert client.get(follow).status_code == 410


def test_declining_without_a_reason_is_refused_with_the_form_and_keeps_the_link(
    client: FlaskClient, db_session: Session, net: dict[str, object]
) -> None:
    handoff, token = net["handoff"], net["token"]
    assert isinstance(handoff, Ref)
    path = f"/answer/{token}"
    before = _state(db_session, handoff)
    answer = client.post(f"{path}/decline", data={"csrf_token": _csrf(client, path)})
    assert answer.status_code == 400
    assert 'class="error-summary' in answer.get_data(
        as_text=True
    ) or "has-error" in answer.get_data(as_text=True)
    _no_identity(answer.get_data(as_text=True))
    assert _state(db_session, handoff) == before
    declined = client.post(
        f"{path}/decline",
        data={"csrf_token": _csrf(client, path), "decline-reason": "no_capacity"},
    )
    assert declined.status_code == 302
    db_session.expire_all()
    assert db_session.get(Handoff, handoff.id).status is HandoffStatus.DECLINED  # type: ignore[union-attr]


def test_a_post_without_csrf_changes_nothing(
    client: FlaskClient, db_session: Session, net: dict[str, object]
) -> None:
    handoff = net["handoff"]
    assert isinstance(handoff, Ref)
    before = _state(db_session, handoff)
    answer = client.post(f"/answer/{net['token']}/accept", data={})
    assert answer.status_code == 400
    assert _state(db_session, handoff) == before


def test_redirecting_from_the_link(
    client: FlaskClient, db_session: Session, net: dict[str, object]
) -> None:
    handoff, c = net["handoff"], net["c"]
    assert isinstance(handoff, Ref)
    assert isinstance(c, int)
    path = f"/answer/{net['token']}"
    answer = client.post(
        f"{path}/redirect",
        data={"csrf_token": _csrf(client, path), "redirect-redirect_to": str(c)},
    )
    assert answer.status_code == 302
    db_session.expire_all()
    assert db_session.get(Handoff, handoff.id).status is HandoffStatus.REDIRECTED  # type: ignore[union-attr]
    new = db_session.scalar(select(Handoff).where(Handoff.parent_id == handoff.id))
    assert new is not None
    assert new.to_structure_id == c


@pytest.mark.parametrize(
    ("case", "status"),
    [("wrong", 404), ("other_structure", 404), ("used", 410), ("expired", 410), ("withdrawn", 410)],
)
def test_refused_links_get_one_page_and_change_nothing(
    client: FlaskClient,
    db_session: Session,
    vault: Vault,
    net: dict[str, object],
    case: str,
    status: int,
) -> None:
    handoff, token = net["handoff"], str(net["token"])
    assert isinstance(handoff, Ref)
    if case == "wrong":
        token = "x" * 43
    elif case == "other_structure":
        token = new_link(
            db_session,
            db_session.get(Handoff, handoff.id),  # type: ignore[arg-type]
            int(net["c"]),  # type: ignore[call-overload]
            LinkScope.ANSWER,
            now=datetime.now(UTC),
            expires_at=datetime.now(UTC) + timedelta(days=3),
        )
    elif case == "used":
        path = f"/answer/{token}"
        client.post(
            f"{path}/decline",
            data={"csrf_token": _csrf(client, path), "decline-reason": "not_interested"},
        )
    elif case == "expired":
        db_session.execute(
            update(HandoffLink).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    elif case == "withdrawn":
        sender = db_session.scalar(select(User).where(User.email == net["sender"]))
        assert sender is not None
        apply_event(
            db_session,
            vault,
            sender,
            db_session.get(Handoff, handoff.id),  # type: ignore[arg-type]
            HandoffEvent.WITHDRAW,
            now=datetime.now(UTC),
            message="Envoyée par erreur",
        )
    db_session.commit()
    before = _state(db_session, handoff)
    path = f"/answer/{token}"
    page = client.get(path)
    assert page.status_code == status
    html = page.get_data(as_text=True)
    assert 'data-testid="link-invalid"' in html
    # The back button after answering: the holder is told the answer is recorded, not that
    # the link is wrong; any other dead or wrong link says only that it does not work.
    used = "Ce lien a servi" in html and "La réponse envoyée depuis ce lien est enregistrée" in html
    assert used is (case == "used")
    assert handoff.pseudonym not in html
    _no_identity(html)
    csrf = _csrf(client, "/login")
    for event in ("accept", "decline", "redirect", "first_contact"):
        answer = client.post(
            f"{path}/{event}", data={"csrf_token": csrf, "decline-reason": "not_interested"}
        )
        assert answer.status_code == status
        assert 'data-testid="link-invalid"' in answer.get_data(as_text=True)
    assert _state(db_session, handoff) == before


def test_the_same_page_for_a_wrong_link_and_another_structures_link(
    client: FlaskClient, db_session: Session, net: dict[str, object]
) -> None:
    handoff, c = net["handoff"], net["c"]
    assert isinstance(handoff, Ref)
    assert isinstance(c, int)
    other = new_link(
        db_session,
        db_session.get(Handoff, handoff.id),  # type: ignore[arg-type]
        c,
        LinkScope.ANSWER,
        now=datetime.now(UTC),
        expires_at=datetime.now(UTC) + timedelta(days=3),
    )
    db_session.commit()
    wrong = client.get("/answer/" + "y" * 43).get_data(as_text=True)
    theirs = client.get(f"/answer/{other}").get_data(as_text=True)
    strip = re.compile(r'name="csrf_token"[^>]*>|name="next" value="[^"]*"')
    assert strip.sub("", wrong) == strip.sub("", theirs)


def test_one_click_invites_the_structures_contact_to_its_first_account(
    client: FlaskClient, db_session: Session, net: dict[str, object]
) -> None:
    handoff, token = net["handoff"], net["token"]
    assert isinstance(handoff, Ref)
    path = f"/answer/{token}"
    # The answer link cannot ask for an account: only the follow-through link, after accepting.
    refused = client.post(
        f"{path}/account", data={"csrf_token": _csrf(client, path), "confirm": "y"}
    )
    assert refused.status_code == 302
    assert db_session.scalar(select(func.count()).select_from(Invitation)) == 0
    follow = client.post(f"{path}/accept", data={"csrf_token": _csrf(client, path)}).headers[
        "Location"
    ]
    page = client.get(follow).get_data(as_text=True)
    assert 'id="request-account"' in page
    assert CONTACT in page
    asked = client.post(
        f"{follow}/account", data={"csrf_token": _csrf(client, follow), "confirm": "y"}
    )
    assert asked.status_code == 302
    db_session.expire_all()
    invitation = db_session.scalars(select(Invitation)).one()
    assert invitation.email == CONTACT
    assert invitation.structure_id == handoff.to_structure_id
    assert invitation.manages_structure
    assert invitation.invited_by_id is None
    mail = db_session.scalars(
        select(MailMessage).where(MailMessage.kind == MailKind.INVITATION)
    ).one()
    assert mail.to_address == CONTACT
    audited = db_session.scalar(
        select(AuditEvent).where(AuditEvent.action == AuditAction.INVITATION_SEND.value)
    )
    assert audited is not None
    assert audited.data["channel"] == "handoff_link"
    _no_identity(client.get(follow).get_data(as_text=True))
    # Once the structure has an account, the link no longer invites anyone.
    factories.user(db_session, structure_=db_session.get(Structure, handoff.to_structure_id))
    db_session.commit()
    page = client.get(follow).get_data(as_text=True)
    assert 'id="request-account"' not in page
    again = client.post(
        f"{follow}/account", data={"csrf_token": _csrf(client, follow), "confirm": "y"}
    )
    assert again.status_code == 302
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Invitation)) == 1
    # A wrong link: the refusal page, nothing sent.
    wrong = client.post("/answer/" + "x" * 43 + "/account", data={"confirm": "y"})
    assert wrong.status_code in (400, 404)
