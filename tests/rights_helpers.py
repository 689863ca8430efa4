"""A small network for the tests of the people's rights: a person with every kind of record.

Structure A registered the person and records a step (with an action text) and a barrier;
a hand-off A -> B was accepted and answered with a message (B follows too); a hand-off A -> C
is still waiting for an answer. Every free text is sealed with the person's key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffEvent
from app.models import Beneficiary, Handoff, Structure, User
from app.services.handoffs import apply_event, send_handoff
from app.services.pathways import add_barrier, add_step
from app.services.rights.erasure import RegisterFile
from app.services.security.vault import Vault
from tests import factories

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
TODAY = date(2026, 11, 27)
SECRETS = ("Zephyrin", "Aurélie", "secret action text", "secret note", "secret answer")


@dataclass
class Network:
    a: Structure
    b: Structure
    c: Structure
    worker_a: User
    worker_b: User
    worker_c: User
    person: Beneficiary
    accepted: Handoff
    pending: Handoff
    bystander: Beneficiary  # another person of A, untouched


def network(session: Session, vault: Vault) -> Network:
    a, b, c = (factories.structure(session) for _ in range(3))
    worker_a = factories.user(session, structure_=a)
    worker_b = factories.user(session, structure_=b)
    worker_c = factories.user(session, structure_=c)
    person = factories.person(session, vault, worker_a)
    add_step(
        session,
        vault,
        worker_a,
        person,
        stage_code="orientation",
        started_on=date(2026, 11, 2),
        action="secret action text",
    )
    add_barrier(
        session, worker_a, person, category_code="mobility", identified_on=date(2026, 11, 3)
    )
    accepted = send_handoff(
        session,
        vault,
        worker_a,
        person,
        to_structure=b,
        now=NOW,
        purpose_stage_code="training",
        note="secret note",
        consent_confirmed=True,
    )
    apply_event(session, vault, worker_b, accepted, HandoffEvent.ACCEPT, now=NOW)
    apply_event(
        session,
        vault,
        worker_b,
        accepted,
        HandoffEvent.FIRST_CONTACT,
        now=NOW,
        message="secret answer",
    )
    pending = send_handoff(
        session,
        vault,
        worker_a,
        person,
        to_structure=c,
        now=NOW,
        purpose_stage_code="employment",
        consent_confirmed=True,
    )
    bystander = factories.person(
        session, vault, worker_a, last_name="Bystander", email="bystander@exemple.fr"
    )
    session.flush()
    return Network(a, b, c, worker_a, worker_b, worker_c, person, accepted, pending, bystander)


def register_in(folder: Path) -> RegisterFile:
    return RegisterFile(folder / "erasure-register.txt")
