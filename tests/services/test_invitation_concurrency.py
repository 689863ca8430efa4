"""One invitation link used twice at the same moment creates one account.

* both databases: the second request read the link as pending before the first one spent it
  (a stale read): its conditional UPDATE finds nothing to spend, nothing is created;
* PostgreSQL: two connections at once, the first holding its transaction open until the
  second has started - the second waits for the first's row lock, then updates nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.domain.roles import Role
from app.extensions import db
from app.models import Invitation, MailMessage, Structure, User, UserSession
from app.services.security import invitations
from tests import factories
from tests.audit_log import mark_audit_log, rewind_audit_log

PASSWORD = "Une phrase de passe assez longue pour Relais"
EMAIL = "double@relais.example"


def _accept(session: Session, token: str, now: datetime) -> User:
    return invitations.accept(
        session, token, display_name="Dora", password=PASSWORD, min_length=12, now=now
    )


def _token(session: Session, structure: Structure, now: datetime) -> str:
    invitations.invite(
        session,
        None,
        email=EMAIL,
        role=Role.CASEWORKER,
        structure=structure,
        manager=False,
        now=now,
        base_url="http://localhost",
    )
    mail = session.scalars(select(MailMessage).where(MailMessage.to_address == EMAIL)).one()
    assert mail.body_text is not None
    return mail.body_text.split("/invitation/")[1].split()[0]


def test_a_stale_read_of_a_pending_link_creates_no_second_account(
    db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    structure = factories.structure(db_session)
    token = _token(db_session, structure, now)
    stale = invitations.find_invitation(db_session, token, now=now)
    assert stale is not None
    _accept(db_session, token, now)
    # The second request saw the link pending (its read came before the first one's write).
    monkeypatch.setattr(invitations, "find_invitation", lambda *_a, **_k: stale)
    with pytest.raises(invitations.InvitationNotValid):
        _accept(db_session, token, now)
    count = db_session.scalar(select(func.count()).select_from(User).where(User.email == EMAIL))
    assert count == 1


@pytest.fixture
def committed(app: Flask) -> Iterator[tuple[int, str]]:
    """A committed structure with an invitation (PostgreSQL); everything removed afterwards."""
    engine = db.engine
    with engine.connect() as connection:
        mark = mark_audit_log(connection)
    with Session(engine) as session:
        structure = factories.structure(session)
        token = _token(session, structure, datetime.now(UTC))
        session.commit()
        structure_id = structure.id
    try:
        yield structure_id, token
    finally:
        with Session(engine) as session:
            rewind_audit_log(session, mark)
            users = select(User.id).where(User.structure_id == structure_id)
            session.execute(delete(UserSession).where(UserSession.user_id.in_(users)))
            session.execute(delete(Invitation).where(Invitation.structure_id == structure_id))
            session.execute(delete(MailMessage).where(MailMessage.to_address == EMAIL))
            session.execute(delete(User).where(User.structure_id == structure_id))
            session.execute(delete(Structure).where(Structure.id == structure_id))
            session.commit()


@pytest.mark.postgres_only
def test_the_same_link_used_twice_at_once_creates_one_account(
    app: Flask, committed: tuple[int, str]
) -> None:
    structure_id, token = committed
    results: list[object] = [None, None]
    first_done = threading.Event()
    second_started = threading.Event()
    now = datetime.now(UTC)

    def first() -> None:
        with Session(db.engine) as session:
            results[0] = _accept(session, token, now).id
            first_done.set()
            second_started.wait(timeout=10)
            time.sleep(0.3)  # the second is blocked on the row lock by now
            session.commit()

    def second() -> None:
        first_done.wait(timeout=10)
        with Session(db.engine) as session:
            second_started.set()
            try:
                results[1] = _accept(session, token, now).id
                session.commit()
            except invitations.InvitationNotValid:
                results[1] = "refused"
                session.rollback()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert isinstance(results[0], int)
    assert results[1] == "refused"
    with Session(db.engine) as session:
        count = session.scalar(
            select(func.count()).select_from(User).where(User.structure_id == structure_id)
        )
    assert count == 1
