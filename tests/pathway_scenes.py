"""Pathways the chart must read well, built through the services: a busy single day, and a long
pathway over more than a year. Used by the chart's unit tests and, on the browser tests'
server, by ``tests/browser/seed_pathways.py``. Flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffEvent
from app.domain.pathway import BarrierStatus, ConsentMethod
from app.domain.roles import Role
from app.models import Beneficiary, Structure, User
from app.services.handoffs import apply_event, send_handoff
from app.services.pathways import add_barrier, add_step, set_barrier_status
from app.services.people.identity import Identity
from app.services.people.registration import ConsentInput, NewPerson, register_person
from app.services.security.accounts import create_user
from app.services.security.vault import Vault
from app.services.structures import create_structure

PASSWORD = "a long enough test passphrase"
LONG_NAME = "École de la deuxième chance du Territoire de Belfort et du Pays de Montbéliard"


@dataclass(frozen=True)
class Cast:
    """Two structures (the second with a long name) and a caseworker in each."""

    first: Structure
    second: Structure
    first_worker: User
    second_worker: User


def cast(session: Session, tag: str) -> Cast:
    """Two new structures and their caseworkers; ``tag`` keeps codes and e-mails unique."""
    first = create_structure(
        session, None, code=f"A{tag}", name=f"Mission locale {tag}", type_code="association"
    )
    second = create_structure(
        session, None, code=f"B{tag}", name=f"{LONG_NAME} {tag}", type_code="association"
    )
    workers = [
        create_user(
            session,
            None,
            email=f"{prefix}-{tag.lower()}@scenes.example",
            display_name=f"Worker {prefix} {tag}",
            role=Role.CASEWORKER,
            structure=structure,
            password=PASSWORD,
            min_length=12,
        )
        for prefix, structure in (("a", first), ("b", second))
    ]
    return Cast(first, second, workers[0], workers[1])


def _person(session: Session, vault: Vault, actor: User, day: date) -> Beneficiary:
    return register_person(
        session,
        vault,
        actor,
        NewPerson(
            identity=Identity(
                last_name="Zephyrin",
                first_name="Aurélie",
                birth_date=date(2004, 3, 14),
                phone=None,
                email=None,
                address=None,
            ),
            cohort_codes=("young_dropout",),
            consent=ConsentInput(ConsentMethod.ORAL, day),
        ),
        today=day,
    )


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _moment(day: date, hour: int) -> datetime:
    """When an event of ``day`` is recorded: now when ``day`` is today (so that it comes
    after what was recorded before it, as it would), else at ``hour``."""
    now = datetime.now(UTC)
    return now if now.date() == day else _at(day, hour)


def one_busy_day(session: Session, vault: Vault, people: Cast, day: date) -> Beneficiary:
    """Everything on ``day``: registered by the first structure (its follow-up), an
    orientation, a mobility barrier for the second structure, the hand-off sent for it, its
    acceptance (the second structure's follow-up), the first contact, a barriers stage at
    the second structure - eight lines of the chronology, six marks on the chart."""
    a, b = people.first_worker, people.second_worker
    person = _person(session, vault, a, day)
    add_step(session, vault, a, person, stage_code="orientation", started_on=day, today=day)
    barrier = add_barrier(
        session,
        a,
        person,
        category_code="mobility",
        identified_on=day,
        acting_structure_id=people.second.id,
        today=day,
    )
    handoff = send_handoff(
        session,
        vault,
        a,
        person,
        to_structure=people.second,
        now=_moment(day, 9),
        purpose_barrier=barrier,
        consent_confirmed=True,
    )
    apply_event(session, vault, b, handoff, HandoffEvent.ACCEPT, now=_moment(day, 10), on=day)
    apply_event(
        session, vault, b, handoff, HandoffEvent.FIRST_CONTACT, now=_moment(day, 11), on=day
    )
    add_step(session, vault, b, person, stage_code="barriers", started_on=day, today=day)
    return person


def long_pathway(session: Session, vault: Vault, people: Cast, until: date) -> Beneficiary:
    """Fourteen months to ``until``: an orientation, a barrier lifted months later, a hand-off
    declined then another accepted, contacted and completed by a training, then employment;
    two of its days hold several events."""
    a, b = people.first_worker, people.second_worker
    start = until - timedelta(days=420)
    person = _person(session, vault, a, start)
    add_step(session, vault, a, person, stage_code="orientation", started_on=start, today=until)
    barrier = add_barrier(
        session,
        a,
        person,
        category_code="mobility",
        identified_on=start + timedelta(days=20),
        today=until,
    )
    first = send_handoff(
        session,
        vault,
        a,
        person,
        to_structure=people.second,
        now=_at(start + timedelta(days=20), 11),
        purpose_stage_code="training",
        consent_confirmed=True,
    )
    apply_event(
        session,
        vault,
        b,
        first,
        HandoffEvent.DECLINE,
        now=_at(start + timedelta(days=26), 9),
        reason_code="followed_elsewhere",
    )
    add_step(
        session,
        vault,
        a,
        person,
        stage_code="barriers",
        started_on=start + timedelta(days=40),
        today=until,
    )
    day = start + timedelta(days=150)
    set_barrier_status(session, a, barrier, BarrierStatus.LIFTED, on=day, today=until)
    second = send_handoff(
        session,
        vault,
        a,
        person,
        to_structure=people.second,
        now=_at(day, 15),
        purpose_stage_code="training",
        consent_confirmed=True,
    )
    apply_event(session, vault, b, second, HandoffEvent.ACCEPT, now=_at(day + timedelta(3), 9))
    contact = day + timedelta(days=10)
    apply_event(session, vault, b, second, HandoffEvent.FIRST_CONTACT, now=_at(contact, 9))
    done = start + timedelta(days=330)
    apply_event(
        session,
        vault,
        b,
        second,
        HandoffEvent.COMPLETE,
        now=_at(done, 9),
        reason_code="training_entered",
    )
    add_step(session, vault, a, person, stage_code="employment", started_on=until, today=until)
    return person
