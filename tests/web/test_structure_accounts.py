"""A structure's accounts in the web UI (issue 13, item 2): a manager invites, the person
accepts through the link and is signed in; wrong, used, expired and revoked links; refusals
(another structure, a caseworker who does not manage, the last manager); the hand-over; the
administrators' pages; a coordinator invited by an administrator sets up a second factor.

Assertions read status codes, addresses, element ids and the database, never the text of
strings this feature added (the French catalogue is completed at merge)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.roles import Role
from app.models import AuditEvent, FollowUp, Invitation, MailKind, MailMessage, Structure, User
from app.services.security.managers import set_manager
from app.services.security.vault import Vault
from tests import factories
from tests.web.helpers import csrf_token, login, logout, region_names

PASSWORD = "Une phrase de passe assez longue pour Relais"
LINK = re.compile(r"/invitation/([A-Za-z0-9_-]+)")
NEW_EMAIL = "nouvelle.collegue@relais.example"


@pytest.fixture
def team(db_session: Session) -> dict[str, User]:
    """Structure A: a manager and a colleague; structure B: a manager."""
    a, b = factories.structure(db_session, "ACC"), factories.structure(db_session, "BCC")
    manager = factories.user(db_session, structure_=a, email="manager@relais.example")
    set_manager(db_session, None, manager, True)
    colleague = factories.user(db_session, structure_=a, email="colleague@relais.example")
    other = factories.user(db_session, structure_=b, email="other@relais.example")
    set_manager(db_session, None, other, True)
    admin = factories.user(db_session, Role.ADMIN, email="admin@relais.example")
    db_session.commit()
    return {"manager": manager, "colleague": colleague, "other": other, "admin": admin}


def _post(client: FlaskClient, path: str, data: dict[str, str], page: str | None = None) -> object:
    token = csrf_token(client, page or path)
    return client.post(path, data={**data, "csrf_token": token})


def _invitation_token(db_session: Session, email: str) -> str:
    db_session.expire_all()
    mail = db_session.scalars(
        select(MailMessage)
        .where(MailMessage.kind == MailKind.INVITATION, MailMessage.to_address == email)
        .order_by(MailMessage.created_at.desc())
    ).first()
    assert mail is not None
    assert mail.body_text is not None
    found = LINK.search(mail.body_text)
    assert found
    return found.group(1)


def _accept(client: FlaskClient, token: str, password: str = PASSWORD) -> object:
    path = f"/invitation/{token}"
    return _post(
        client, path, {"display_name": "Nadia Colin", "password": password, "confirm": password}
    )


def _count(db_session: Session, model: type, *where: object) -> int:
    db_session.expire_all()
    return int(db_session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_the_account_pages_name_each_region_once(
    client: FlaskClient, team: dict[str, User]
) -> None:
    # A screen reader lists the regions of a page: the same name twice is a region within a
    # region saying nothing more (the accounts' table and its section, the invitations').
    for email, path in (
        ("manager@relais.example", "/structures/ACC/accounts"),
        ("admin@relais.example", "/admin/users"),
    ):
        login(client, email)
        names = region_names(client.get(path).get_data(as_text=True))
        assert "Invitations en attente de réponse" in names, path
        assert sorted(n for n in set(names) if names.count(n) > 1) == [], path
        logout(client)


def test_a_manager_invites_and_the_colleague_is_signed_in(
    client: FlaskClient, app: object, db_session: Session, team: dict[str, User]
) -> None:
    login(client, "manager@relais.example")
    page = client.get("/structures/ACC/accounts")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="nav-my-structure"' in html
    assert html.count('data-testid="account-row"') == 2
    answer = _post(
        client,
        "/structures/ACC/accounts/invite",
        {"email": NEW_EMAIL, "name_hint": "Nadia"},
    )
    assert answer.status_code == 302  # type: ignore[attr-defined]
    token = _invitation_token(db_session, NEW_EMAIL)
    assert 'data-testid="invitation-row"' in client.get("/structures/ACC/accounts").get_data(True)

    visitor = client.application.test_client()
    page = visitor.get(f"/invitation/{token}")
    assert page.status_code == 200
    assert 'id="invitation-form"' in page.get_data(as_text=True)
    answer = _accept(visitor, token)
    assert answer.status_code == 302  # type: ignore[attr-defined]
    assert visitor.get("/people/").status_code == 200  # signed in, as a caseworker
    user = db_session.scalars(select(User).where(User.email == NEW_EMAIL)).one()
    assert user.structure.code == "ACC"
    assert user.display_name == "Nadia Colin"
    assert not user.manages_structure
    invitation = db_session.scalars(select(Invitation).where(Invitation.email == NEW_EMAIL)).one()
    assert invitation.used_at is not None
    assert invitation.user_id == user.id
    # Used: the same link now gets the page that says so, and creates nothing more.
    again = client.application.test_client()
    assert 'data-testid="invitation-invalid"' in again.get(f"/invitation/{token}").get_data(True)


def test_wrong_expired_and_revoked_links_create_nothing(
    client: FlaskClient, db_session: Session, team: dict[str, User]
) -> None:
    login(client, "manager@relais.example")
    _post(client, "/structures/ACC/accounts/invite", {"email": NEW_EMAIL})
    token = _invitation_token(db_session, NEW_EMAIL)
    visitor = client.application.test_client()
    for wrong in ("t" * 43, token[:-1], "x"):
        page = visitor.get(f"/invitation/{wrong}")
        assert page.status_code == 200
        assert 'data-testid="invitation-invalid"' in page.get_data(as_text=True)
    # Expired.
    db_session.execute(
        update(Invitation)
        .where(Invitation.email == NEW_EMAIL)
        .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
    )
    db_session.commit()
    assert 'data-testid="invitation-invalid"' in visitor.get(f"/invitation/{token}").get_data(True)
    # Revoked from the accounts page.
    _post(client, "/structures/ACC/accounts/invite", {"email": NEW_EMAIL})
    token = _invitation_token(db_session, NEW_EMAIL)
    pending = db_session.scalars(
        select(Invitation).where(Invitation.email == NEW_EMAIL, Invitation.revoked_at.is_(None))
    ).all()
    live = [i for i in pending if i.expires_at > datetime.now(UTC)]
    assert len(live) == 1
    answer = _post(
        client,
        f"/structures/ACC/invitations/{live[0].id}/revoke",
        {"confirm": "y"},
        "/structures/ACC/accounts",
    )
    assert answer.status_code == 302  # type: ignore[attr-defined]
    page = visitor.get(f"/invitation/{token}")
    assert 'data-testid="invitation-invalid"' in page.get_data(as_text=True)
    assert _count(db_session, User, User.email == NEW_EMAIL) == 0
    actions = set(db_session.scalars(select(AuditEvent.action)))
    assert AuditAction.INVITATION_REVOKE in actions


def test_a_newer_invitation_replaces_the_pending_one_and_resend_gives_a_new_link(
    client: FlaskClient, db_session: Session, team: dict[str, User]
) -> None:
    login(client, "manager@relais.example")
    _post(client, "/structures/ACC/accounts/invite", {"email": NEW_EMAIL})
    first = _invitation_token(db_session, NEW_EMAIL)
    invitation = db_session.scalars(select(Invitation).where(Invitation.email == NEW_EMAIL)).one()
    answer = _post(
        client,
        f"/structures/ACC/invitations/{invitation.id}/resend",
        {"confirm": "y"},
        "/structures/ACC/accounts",
    )
    assert answer.status_code == 302  # type: ignore[attr-defined]
    second = _invitation_token(db_session, NEW_EMAIL)
    assert second != first
    visitor = client.application.test_client()
    assert "invitation-invalid" in visitor.get(f"/invitation/{first}").get_data(True)
    assert _accept(visitor, second).status_code == 302  # type: ignore[attr-defined]
    assert _count(db_session, User, User.email == NEW_EMAIL) == 1


def test_a_manager_s_invitation_never_revokes_another_structure_s(
    client: FlaskClient, db_session: Session, team: dict[str, User]
) -> None:
    """Structure B's manager invited the address structure A had just invited: A's link
    stopped working ("replaced", with B's manager as the actor), a manager acting on another
    structure's invitation."""
    login(client, "manager@relais.example")
    _post(client, "/structures/ACC/accounts/invite", {"email": NEW_EMAIL, "name_hint": ""})
    token_a = _invitation_token(db_session, NEW_EMAIL)
    other = client.application.test_client()
    login(other, "other@relais.example")
    answer = _post(other, "/structures/BCC/accounts/invite", {"email": NEW_EMAIL, "name_hint": ""})
    assert answer.status_code == 302  # type: ignore[attr-defined]
    token_b = _invitation_token(db_session, NEW_EMAIL)
    assert token_b != token_a
    assert _count(db_session, Invitation, Invitation.revoked_at.is_not(None)) == 0
    assert 'data-testid="invitation-row"' in client.get("/structures/ACC/accounts").get_data(True)
    # The first link used creates the account; the other then creates nothing.
    visitor = client.application.test_client()
    assert _accept(visitor, token_a).status_code == 302  # type: ignore[attr-defined]
    late = client.application.test_client()
    _accept(late, token_b)
    accounts = db_session.scalars(select(User).where(User.email == NEW_EMAIL)).all()
    assert [u.structure.code for u in accounts] == ["ACC"]


def test_an_address_in_use_is_refused_on_the_form(
    client: FlaskClient, db_session: Session, team: dict[str, User]
) -> None:
    login(client, "manager@relais.example")
    answer = _post(client, "/structures/ACC/accounts/invite", {"email": "OTHER@relais.example"})
    assert answer.status_code == 200  # type: ignore[attr-defined]
    assert 'aria-invalid="true"' in answer.get_data(as_text=True)  # type: ignore[attr-defined]
    assert _count(db_session, Invitation) == 0
    assert _count(db_session, MailMessage, MailMessage.kind == MailKind.INVITATION) == 0


def test_a_weak_password_is_refused_and_the_link_still_works(
    client: FlaskClient, db_session: Session, team: dict[str, User]
) -> None:
    login(client, "manager@relais.example")
    _post(client, "/structures/ACC/accounts/invite", {"email": NEW_EMAIL})
    token = _invitation_token(db_session, NEW_EMAIL)
    visitor = client.application.test_client()
    answer = _accept(visitor, token, password="motdepasse")
    assert answer.status_code == 200  # type: ignore[attr-defined]
    assert 'aria-invalid="true"' in answer.get_data(as_text=True)  # type: ignore[attr-defined]
    assert _count(db_session, User, User.email == NEW_EMAIL) == 0
    assert _accept(visitor, token).status_code == 302  # type: ignore[attr-defined]


def test_a_manager_of_a_cannot_touch_b_and_a_caseworker_gets_404(
    client: FlaskClient, db_session: Session, team: dict[str, User]
) -> None:
    other = team["other"]
    login(client, "manager@relais.example")
    token = csrf_token(client, "/structures/ACC/accounts")
    assert client.get("/structures/BCC/accounts").status_code == 404
    assert client.get("/structures/BCC/accounts/invite").status_code == 404
    assert client.get(f"/structures/ACC/accounts/{other.id}/deactivate").status_code == 404
    answer = client.post(
        f"/structures/ACC/accounts/{other.id}/deactivate",
        data={"confirmed": "y", "csrf_token": token},
    )
    assert answer.status_code == 404
    answer = client.post(
        f"/structures/BCC/accounts/{other.id}/deactivate",
        data={"confirmed": "y", "csrf_token": token},
    )
    assert answer.status_code == 404
    assert client.get("/admin/users").status_code == 404
    db_session.expire_all()
    assert db_session.get(User, other.id).active  # type: ignore[union-attr]

    colleague = client.application.test_client()
    login(colleague, "colleague@relais.example")
    assert colleague.get("/structures/ACC/accounts").status_code == 404
    assert colleague.get("/structures/ACC/accounts/hand-over").status_code == 404
    # A colleague who manages nothing: "My structure" opens the structure's figures, and
    # its tabs show no management page.
    html = colleague.get("/people/").get_data(as_text=True)
    link = html.split('data-testid="nav-my-structure"')[0].rsplit("<a ", 1)[1]
    assert 'href="/structures/ACC/figures"' in link
    figures = colleague.get("/structures/ACC/figures").get_data(as_text=True)
    assert 'data-tab="figures.index"' in figures
    assert 'data-tab="accounts.index"' not in figures


def test_deactivation_reactivation_and_the_last_manager(
    client: FlaskClient, db_session: Session, team: dict[str, User]
) -> None:
    manager, colleague = team["manager"], team["colleague"]
    login(client, "manager@relais.example")
    path = f"/structures/ACC/accounts/{colleague.id}/deactivate"
    assert client.get(path).status_code == 200
    # Without the confirmation, nothing happens.
    answer = _post(client, path, {})
    assert answer.status_code == 200  # type: ignore[attr-defined]
    db_session.expire_all()
    assert db_session.get(User, colleague.id).active  # type: ignore[union-attr]
    assert _post(client, path, {"confirmed": "y"}).status_code == 302  # type: ignore[attr-defined]
    db_session.expire_all()
    assert not db_session.get(User, colleague.id).active  # type: ignore[union-attr]
    # Oneself: refused, and said before the confirmation asks for it.
    own = f"/structures/ACC/accounts/{manager.id}/deactivate"
    asked = client.get(own, follow_redirects=True)
    assert "Vous ne pouvez pas désactiver votre propre compte" in html.unescape(
        asked.get_data(as_text=True)
    )
    assert 'id="deactivate-form"' not in asked.get_data(as_text=True)
    _post(client, own, {"confirmed": "y"}, "/structures/ACC/accounts")
    db_session.expire_all()
    assert db_session.get(User, manager.id).active  # type: ignore[union-attr]
    answer = _post(
        client,
        f"/structures/ACC/accounts/{colleague.id}/reactivate",
        {"confirm": "y"},
        "/structures/ACC/accounts",
    )
    assert answer.status_code == 302  # type: ignore[attr-defined]
    db_session.expire_all()
    assert db_session.get(User, colleague.id).active  # type: ignore[union-attr]

    # The administrator cannot deactivate the last active manager either.
    admin = client.application.test_client()
    login(admin, "admin@relais.example")
    for page in (
        f"/structures/ACC/accounts/{manager.id}/deactivate",
        f"/admin/users/{manager.id}/deactivate",
    ):
        asked = admin.get(page, follow_redirects=True).get_data(as_text=True)
        assert "dernier·ère gestionnaire actif·ve" in html.unescape(asked)
        assert 'id="deactivate-form"' not in asked
        _post(admin, page, {"confirmed": "y"}, "/admin/users")
    db_session.expire_all()
    assert db_session.get(User, manager.id).active  # type: ignore[union-attr]
    # Give the role to the colleague (a fresh sign-in: no password asked), then it can.
    answer = _post(
        admin,
        f"/structures/ACC/accounts/{colleague.id}/manager",
        {"allowed": "y"},
        "/structures/ACC/accounts",
    )
    assert answer.status_code == 302  # type: ignore[attr-defined]
    _post(admin, f"/admin/users/{manager.id}/deactivate", {"confirmed": "y"})
    db_session.expire_all()
    assert db_session.get(User, colleague.id).manages_structure  # type: ignore[union-attr]
    assert not db_session.get(User, manager.id).active  # type: ignore[union-attr]
    actions = set(db_session.scalars(select(AuditEvent.action)))
    assert {AuditAction.USER_DEACTIVATE, AuditAction.USER_REACTIVATE} <= actions


def test_the_invitations_of_a_deactivated_account_stop_working(
    client: FlaskClient, db_session: Session, team: dict[str, User]
) -> None:
    """A manager who leaves invited an address of their own beforehand: once their account is
    closed, the link created nothing before; it had made them a new account of the
    structure."""
    manager, colleague = team["manager"], team["colleague"]
    set_manager(db_session, None, colleague, True)
    db_session.commit()
    login(client, "manager@relais.example")
    _post(client, "/structures/ACC/accounts/invite", {"email": NEW_EMAIL, "name_hint": ""})
    token = _invitation_token(db_session, NEW_EMAIL)
    other_manager = client.application.test_client()
    login(other_manager, "colleague@relais.example")
    path = f"/structures/ACC/accounts/{manager.id}/deactivate"
    assert _post(other_manager, path, {"confirmed": "y"}).status_code == 302  # type: ignore[attr-defined]

    visitor = client.application.test_client()
    assert 'data-testid="invitation-invalid"' in visitor.get(f"/invitation/{token}").get_data(True)
    _accept(visitor, token)
    assert _count(db_session, User, User.email == NEW_EMAIL) == 0
    invitation = db_session.scalars(select(Invitation).where(Invitation.email == NEW_EMAIL)).one()
    assert invitation.revoked_at is not None
    revoked = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.INVITATION_REVOKE)
    ).one()
    assert revoked.actor_id == colleague.id
    assert revoked.data == {"reason": "inviter_deactivated"}
    # Nothing waits on the accounts page any more.
    page = other_manager.get("/structures/ACC/accounts").get_data(as_text=True)
    assert 'data-testid="invitation-row"' not in page


def test_giving_the_manager_role_asks_for_the_password_again(
    client: FlaskClient, db_session: Session, team: dict[str, User]
) -> None:
    colleague = team["colleague"]
    login(client, "manager@relais.example")
    token = csrf_token(client, "/structures/ACC/accounts")
    with client.session_transaction() as cookie:
        cookie["auth_at"] = 0  # the last proof is old
    answer = client.post(
        f"/structures/ACC/accounts/{colleague.id}/manager",
        data={"allowed": "y", "csrf_token": token},
    )
    assert answer.status_code == 302
    assert "/account/confirm" in answer.headers["Location"]
    db_session.expire_all()
    assert not db_session.get(User, colleague.id).manages_structure  # type: ignore[union-attr]
    answer = client.post(
        "/structures/ACC/accounts/invite",
        data={"email": NEW_EMAIL, "manager": "y", "csrf_token": token},
    )
    assert "/account/confirm" in answer.headers["Location"]
    assert _count(db_session, Invitation) == 0


def test_a_hand_over_from_the_accounts_page_moves_the_referent(
    client: FlaskClient, db_session: Session, vault: Vault, team: dict[str, User]
) -> None:
    manager, colleague = team["manager"], team["colleague"]
    person = factories.person(db_session, vault, colleague)
    db_session.commit()
    login(client, "manager@relais.example")
    path = f"/structures/ACC/accounts/{colleague.id}/deactivate"
    answer = _post(client, path, {"confirmed": "y"})
    # The deactivated colleague follows someone: on to the hand-over page.
    assert "/structures/ACC/accounts/hand-over" in answer.headers["Location"]  # type: ignore[attr-defined]
    page = "/structures/ACC/accounts/hand-over"
    data = {"from_user": str(colleague.id), "to_user": str(manager.id)}
    counted = _post(client, page, data)
    assert 'data-testid="hand-over-count"' in counted.get_data(as_text=True)  # type: ignore[attr-defined]
    answer = _post(client, page, {**data, "confirmed": "y"})
    assert answer.status_code == 302  # type: ignore[attr-defined]
    db_session.expire_all()
    follow_up = db_session.scalars(
        select(FollowUp).where(FollowUp.beneficiary_id == person.id)
    ).one()
    assert follow_up.referent_id == manager.id
    event = db_session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == AuditAction.FOLLOW_UP_REFERENT)
        .order_by(AuditEvent.seq.desc())
    ).first()
    assert event is not None
    assert event.actor_id == manager.id


def test_an_administrator_invites_a_coordinator_who_sets_up_a_second_factor(
    client: FlaskClient, db_session: Session, team: dict[str, User]
) -> None:
    login(client, "admin@relais.example")
    assert client.get("/admin/users").status_code == 200
    assert 'data-testid="structure-accounts"' in client.get("/admin/structures").get_data(True)
    assert client.get("/structures/BCC/accounts").status_code == 200
    answer = _post(
        client, "/admin/users/invite", {"email": "coord@relais.example", "role": "coordinator"}
    )
    assert answer.status_code == 302  # type: ignore[attr-defined]
    token = _invitation_token(db_session, "coord@relais.example")
    visitor = client.application.test_client()
    assert _accept(visitor, token).status_code == 302  # type: ignore[attr-defined]
    user = db_session.scalars(select(User).where(User.email == "coord@relais.example")).one()
    assert user.role is Role.COORDINATOR
    assert user.structure_id is None
    # Signed in, and held on the second factor's enrolment as at any sign-in.
    answer = visitor.get("/dashboard/")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/account/two-factor")
    # An address in use, a caseworker's role: refused on the form.
    answer = _post(
        client, "/admin/users/invite", {"email": "other@relais.example", "role": "admin"}
    )
    assert answer.status_code == 200  # type: ignore[attr-defined]
    answer = _post(
        client, "/admin/users/invite", {"email": "x@relais.example", "role": "caseworker"}
    )
    assert answer.status_code == 200  # type: ignore[attr-defined]
    assert _count(db_session, Invitation, Invitation.email == "x@relais.example") == 0


def test_the_administrator_deactivates_and_reactivates_a_coordinator(
    client: FlaskClient, db_session: Session, team: dict[str, User]
) -> None:
    coordinator = factories.user(db_session, Role.COORDINATOR)
    db_session.commit()
    login(client, "admin@relais.example")
    path = f"/admin/users/{coordinator.id}/deactivate"
    assert client.get(path).status_code == 200
    assert _post(client, path, {"confirmed": "y"}).status_code == 302  # type: ignore[attr-defined]
    db_session.expire_all()
    assert not db_session.get(User, coordinator.id).active  # type: ignore[union-attr]
    answer = _post(
        client, f"/admin/users/{coordinator.id}/reactivate", {"confirm": "y"}, "/admin/users"
    )
    assert answer.status_code == 302  # type: ignore[attr-defined]
    db_session.expire_all()
    assert db_session.get(User, coordinator.id).active  # type: ignore[union-attr]
    admin = team["admin"]
    own = f"/admin/users/{admin.id}/deactivate"
    assert client.get(own).headers["Location"] == "/admin/users"  # refused before asking
    _post(client, own, {"confirmed": "y"}, "/admin/users")
    db_session.expire_all()
    assert db_session.get(User, admin.id).active  # type: ignore[union-attr]


def test_a_structure_without_accounts_gets_its_first_manager(
    client: FlaskClient, db_session: Session, team: dict[str, User]
) -> None:
    empty = factories.structure(db_session, "NEW")
    db_session.commit()
    login(client, "admin@relais.example")
    answer = _post(client, "/structures/NEW/accounts/invite", {"email": NEW_EMAIL})
    assert answer.status_code == 302  # type: ignore[attr-defined]
    token = _invitation_token(db_session, NEW_EMAIL)
    visitor = client.application.test_client()
    assert _accept(visitor, token).status_code == 302  # type: ignore[attr-defined]
    assert visitor.get("/structures/NEW/accounts").status_code == 200
    user = db_session.scalars(select(User).where(User.email == NEW_EMAIL)).one()
    assert user.manages_structure
    assert user.structure_id == db_session.get(Structure, empty.id).id  # type: ignore[union-attr]


def test_a_sent_invitation_keeps_no_token(
    client: FlaskClient, db_session: Session, team: dict[str, User]
) -> None:
    from app.services.mail.delivery import deliver_pending
    from app.services.mail.transport import OutgoingMail

    class Sent:  # a real transport: the mail leaves the outbox
        def send(self, mail: OutgoingMail) -> None:
            assert "/invitation/" in mail.body_text

        def close(self) -> None:
            pass

    login(client, "manager@relais.example")
    _post(client, "/structures/ACC/accounts/invite", {"email": NEW_EMAIL})
    token = _invitation_token(db_session, NEW_EMAIL)
    report = deliver_pending(db_session, Sent(), base_url="http://localhost", now=datetime.now(UTC))
    db_session.commit()
    assert report.sent >= 1
    db_session.expire_all()
    mail = db_session.scalars(select(MailMessage).where(MailMessage.to_address == NEW_EMAIL)).one()
    assert mail.sent_at is not None
    assert token not in (mail.body_text or "")
    assert "/invitation/[sent]" in (mail.body_text or "")
