"""The check of a free text against the person's identity, as a service: it decrypts for a
structure that follows the person only, and audits that decryption."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.mentions import MentionKind, mentioned_kinds
from app.models import AuditEvent
from app.services.handoffs import send_handoff
from app.services.people.mentions import identity_mentions, may_check
from app.services.security.vault import Vault
from tests import factories

TODAY = date(2026, 11, 25)


def _checks(session: Session) -> int:
    session.flush()
    query = (
        select(func.count()).select_from(AuditEvent).where(AuditEvent.purpose == "free_text_check")
    )
    return session.scalar(query) or 0


def test_a_follower_gets_what_the_text_names_and_the_decryption_is_audited(
    db_session: Session, vault: Vault
) -> None:
    worker = factories.user(db_session)
    person = factories.person(
        db_session,
        vault,
        worker,
        last_name="Zéphyrin",
        first_name="Aurélie",
        phone="06 12 34 56 78",
        email="aurelie.z@exemple.fr",
        birth_date=date(2004, 3, 14),
    )
    texts = ["Mme ZEPHYRIN, 14/03/2004", None, "écrire à Aurelie.Z@exemple.fr, +33 6 12 34 56 78"]
    found = identity_mentions(db_session, vault, worker, person, texts, today=TODAY)
    assert mentioned_kinds(found) == [
        MentionKind.LAST_NAME,
        MentionKind.PHONE,
        MentionKind.EMAIL,
        MentionKind.BIRTH_DATE,
    ]
    assert _checks(db_session) == 1
    event = db_session.scalars(
        select(AuditEvent).where(AuditEvent.purpose == "free_text_check")
    ).one()
    assert event.beneficiary_id == person.id
    assert event.actor_id == worker.id


def test_blank_texts_decrypt_nothing(db_session: Session, vault: Vault) -> None:
    worker = factories.user(db_session)
    person = factories.person(db_session, vault, worker)
    assert identity_mentions(db_session, vault, worker, person, ["  ", None], today=TODAY) == []
    assert _checks(db_session) == 0


def test_a_structure_that_may_not_see_the_identity_is_not_checked(
    db_session: Session, vault: Vault
) -> None:
    sender = factories.user(db_session)
    receiver = factories.user(db_session)
    person = factories.person(db_session, vault, sender, first_name="Aurélie")
    send_handoff(
        db_session,
        vault,
        sender,
        person,
        to_structure=receiver.structure,  # type: ignore[arg-type]
        now=datetime.now(UTC),
        purpose_stage_code="training",
        consent_confirmed=True,
    )
    assert not may_check(db_session, receiver, person, TODAY)
    assert may_check(db_session, sender, person, TODAY)
    found = identity_mentions(db_session, vault, receiver, person, ["Aurélie"], today=TODAY)
    assert found == []
    assert _checks(db_session) == 0
    coordinator = factories.user(db_session, role=factories.Role.COORDINATOR)
    assert identity_mentions(db_session, vault, coordinator, person, ["Aurélie"], today=TODAY) == []
