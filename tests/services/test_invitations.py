"""Invitations and a structure's accounts (issue 13, item 2), at the service level: hashed
single-use links, revocation by a newer invitation, refusals, the first account that manages
its structure, deactivation rules, the caseload hand-over of a structure's page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.roles import Role
from app.models import AuditEvent, FollowUp, Invitation, MailKind, MailMessage, Structure, User
from app.services.errors import Conflict, Forbidden, InvalidInput
from app.services.people import referents
from app.services.security import invitations, staff
from app.services.security.accounts import idle_accounts
from app.services.security.managers import set_manager
from app.services.security.vault import Vault
from tests import factories

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BASE = "https://relais.example.org"
PASSWORD = "Une phrase de passe assez longue pour Relais"
LINK = re.compile(r"/invitation/([A-Za-z0-9_-]+)")


def _invite(
    session: Session,
    actor: User | None,
    structure: Structure | None,
    email: str = "nouvelle@relais.example",
    *,
    role: Role = Role.CASEWORKER,
    manager: bool = False,
    now: datetime = NOW,
    channel: str = invitations.CHANNEL_WEB,
) -> tuple[Invitation, str]:
    invitation = invitations.invite(
        session,
        actor,
        email=email,
        role=role,
        structure=structure,
        manager=manager,
        now=now,
        base_url=BASE,
        channel=channel,
    )
    mail = session.scalars(
        select(MailMessage)
        .where(MailMessage.kind == MailKind.INVITATION, MailMessage.to_address == email)
        .order_by(MailMessage.created_at.desc())
    ).first()
    assert mail is not None
    assert mail.body_text is not None
    found = LINK.search(mail.body_text)
    assert found
    return invitation, found.group(1)


def _accept(session: Session, token: str, *, now: datetime = NOW, name: str = "Nadia") -> User:
    return invitations.accept(
        session, token, display_name=name, password=PASSWORD, min_length=12, now=now
    )


def _actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def test_an_invitation_is_a_hashed_single_use_link_in_a_mail(db_session: Session) -> None:
    structure = factories.structure(db_session)
    manager = factories.user(db_session, structure_=structure)
    set_manager(db_session, None, manager, True)
    invitation, token = _invite(db_session, manager, structure)
    assert len(token) >= 43  # 256 bits
    assert invitation.token_hash == invitations.token_digest(token)
    assert token not in invitation.token_hash
    assert invitation.expires_at == NOW + invitations.DEFAULT_LIFETIME
    assert invitation.invited_by_id == manager.id
    assert invitations.find_invitation(db_session, token, now=NOW) is invitation
    assert invitations.find_invitation(db_session, token + "x", now=NOW) is None

    user = _accept(db_session, token)
    assert user.role is Role.CASEWORKER
    assert user.structure_id == structure.id
    assert user.email == "nouvelle@relais.example"
    assert not user.manages_structure  # the structure had a manager
    db_session.expire_all()
    assert db_session.get(Invitation, invitation.id).used_at == NOW  # type: ignore[union-attr]
    with pytest.raises(invitations.InvitationNotValid):
        _accept(db_session, token)
    actions = _actions(db_session)
    assert AuditAction.INVITATION_SEND in actions
    assert AuditAction.INVITATION_ACCEPT in actions
    send = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.INVITATION_SEND)
    ).one()
    assert send.data["channel"] == "web"
    assert send.actor_id == manager.id
    assert "nouvelle" not in str(send.data)  # ids only


@pytest.mark.parametrize(
    ("days", "french"), [(1, "dans un délai de 1 jour ("), (7, "dans un délai de 7 jours (")]
)
def test_the_mail_says_the_lifetime_in_the_right_number(
    db_session: Session, days: int, french: str
) -> None:
    """RELAIS_INVITATION_DAYS=1 made "dans les 1 jours" ("within 1 days")."""
    structure = factories.structure(db_session)
    invitations.invite(
        db_session, None, email="nouvelle@relais.example", role=Role.CASEWORKER,
        structure=structure, manager=False, now=NOW, base_url=BASE,
        lifetime=timedelta(days=days),
    )  # fmt: skip
    mail = db_session.scalars(select(MailMessage)).one()
    assert mail.locale == "fr"
    assert french in (mail.body_text or "")
    assert "%(" not in (mail.body_text or "")


def test_expired_and_revoked_invitations_do_nothing(db_session: Session) -> None:
    structure = factories.structure(db_session)
    _old, first = _invite(db_session, None, structure)
    _new, second = _invite(db_session, None, structure)  # revokes the first
    with pytest.raises(invitations.InvitationNotValid):
        _accept(db_session, first)
    later = NOW + invitations.DEFAULT_LIFETIME + timedelta(seconds=1)
    with pytest.raises(invitations.InvitationNotValid):
        _accept(db_session, second, now=later)
    invitation = invitations.find_invitation(db_session, second, now=NOW)
    assert invitation is not None
    assert invitations.revoke(db_session, None, invitation, now=NOW)
    with pytest.raises(invitations.InvitationNotValid):
        _accept(db_session, second)
    assert db_session.scalar(select(User).where(User.email == "nouvelle@relais.example")) is None


def test_an_address_in_use_is_refused(db_session: Session) -> None:
    user = factories.user(db_session)
    with pytest.raises(Conflict, match="An active account already uses"):
        _invite(db_session, None, user.structure, user.email.upper())
    with pytest.raises(InvalidInput):
        _invite(db_session, None, user.structure, "pas une adresse")


def test_an_address_in_use_is_said_as_the_inviter_can_act_on_it(db_session: Session) -> None:
    """Reactivate a deactivated account, if it is yours to reactivate; another structure's
    account is only said to exist (not whether it is active)."""
    a, b = factories.structure(db_session), factories.structure(db_session)
    manager = factories.user(db_session, structure_=a)
    set_manager(db_session, None, manager, True)
    admin = factories.user(db_session, Role.ADMIN)
    gone = factories.user(db_session, structure_=a, email="parti@relais.example")
    gone.active = False
    elsewhere = factories.user(db_session, structure_=b, email="ailleurs@relais.example")
    for actor in (manager, admin):
        with pytest.raises(Conflict, match="A deactivated account uses"):
            _invite(db_session, actor, a, gone.email)
    with pytest.raises(Conflict, match="already has an account in Relais"):
        _invite(db_session, manager, a, elsewhere.email)
    with pytest.raises(Conflict, match="An active account already uses"):
        _invite(db_session, admin, a, elsewhere.email)


def test_who_may_invite(db_session: Session) -> None:
    a, b = factories.structure(db_session), factories.structure(db_session)
    manager = factories.user(db_session, structure_=a)
    set_manager(db_session, None, manager, True)
    worker = factories.user(db_session, structure_=a)
    admin = factories.user(db_session, Role.ADMIN)
    with pytest.raises(Forbidden):
        _invite(db_session, manager, b)  # another structure
    with pytest.raises(Forbidden):
        _invite(db_session, worker, a)  # not a manager
    with pytest.raises(Forbidden):
        _invite(db_session, manager, None, role=Role.COORDINATOR)
    with pytest.raises(InvalidInput):
        _invite(db_session, admin, None, manager=True, role=Role.FIELD_WORKER)
    _invite(db_session, admin, b, "b@relais.example")
    _invite(db_session, admin, None, "c@relais.example", role=Role.COORDINATOR)


def test_the_first_account_of_a_structure_manages_it(db_session: Session) -> None:
    """A structure with no account answers a hand-off by link and asks for an account: the
    invitation is audited with its channel, and its first account manages it."""
    structure = factories.structure(db_session)
    _invitation, token = _invite(
        db_session, None, structure, channel=invitations.CHANNEL_HANDOFF_LINK
    )
    first = _accept(db_session, token)
    assert first.manages_structure
    _second, token = _invite(db_session, first, structure, "collegue@relais.example")
    colleague = _accept(db_session, token, name="Colette")
    assert not colleague.manages_structure
    send = db_session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == AuditAction.INVITATION_SEND)
        .order_by(AuditEvent.seq)
    ).first()
    assert send is not None
    assert send.data["channel"] == "handoff_link"
    assert send.actor_id is None


def test_the_password_policy_applies_and_nothing_is_spent(db_session: Session) -> None:
    structure = factories.structure(db_session)
    invitation, token = _invite(db_session, None, structure)
    with pytest.raises(InvalidInput) as refused:
        invitations.accept(
            db_session, token, display_name="Nadia", password="court", min_length=12, now=NOW
        )
    assert refused.value.field == "password"
    with pytest.raises(InvalidInput):
        invitations.accept(
            db_session, token, display_name="  ", password=PASSWORD, min_length=12, now=NOW
        )
    assert invitation.used_at is None
    assert invitations.find_invitation(db_session, token, now=NOW) is not None


def test_deactivation_rules(db_session: Session) -> None:
    structure = factories.structure(db_session)
    manager = factories.user(db_session, structure_=structure)
    set_manager(db_session, None, manager, True)
    colleague = factories.user(db_session, structure_=structure)
    admin = factories.user(db_session, Role.ADMIN)
    other = factories.user(db_session)
    with pytest.raises(InvalidInput):
        staff.deactivate(db_session, manager, manager)  # not oneself
    with pytest.raises(InvalidInput):
        staff.deactivate(db_session, admin, manager)  # the last active manager
    with pytest.raises(InvalidInput):
        staff.change_manager(db_session, admin, manager, False)
    with pytest.raises(Forbidden):
        staff.deactivate(db_session, manager, other)  # another structure
    with pytest.raises(Forbidden):
        staff.deactivate(db_session, colleague, manager)  # not a manager
    assert staff.deactivate(db_session, manager, colleague)
    assert not colleague.active
    assert staff.reactivate(db_session, manager, colleague, now=NOW)
    assert colleague.active
    assert colleague.reactivated_at == NOW
    # Idle from the reactivation at the earliest.
    assert colleague not in idle_accounts(db_session, since=NOW - timedelta(days=1))
    assert staff.change_manager(db_session, manager, colleague, True)
    assert staff.deactivate(db_session, admin, manager)  # no longer the last one
    actions = _actions(db_session)
    assert AuditAction.USER_REACTIVATE in actions
    assert AuditAction.STRUCTURE_MANAGER in actions


def test_a_manager_hands_a_caseload_over(db_session: Session, vault: Vault) -> None:
    structure = factories.structure(db_session)
    manager = factories.user(db_session, structure_=structure)
    set_manager(db_session, None, manager, True)
    leaving = factories.user(db_session, structure_=structure)
    person = factories.person(db_session, vault, leaving)
    staff.deactivate(db_session, manager, leaving)
    admin = factories.user(db_session, Role.ADMIN)
    assert (
        referents.hand_over_size(
            db_session, admin, leaving.id, manager.id, structure_id=structure.id
        )
        == 1
    )
    other = factories.user(db_session)
    set_manager(db_session, None, other, True)
    with pytest.raises(Forbidden):  # a manager of another structure
        referents.hand_over_caseload(
            db_session, other, leaving.id, manager.id, structure_id=structure.id
        )
    moved = referents.hand_over_caseload(
        db_session, manager, leaving.id, manager.id, structure_id=structure.id
    )
    assert moved == 1
    follow_up = db_session.scalars(
        select(FollowUp).where(FollowUp.beneficiary_id == person.id)
    ).one()
    assert follow_up.referent_id == manager.id
    event = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.FOLLOW_UP_REFERENT)
    ).one()
    assert event.actor_id == manager.id
    assert event.data["previous"] == leaving.id
    rows = {row.id: row.referent_of for row in staff.structure_accounts(db_session, structure.id)}
    assert rows == {manager.id: 1, leaving.id: 0}
