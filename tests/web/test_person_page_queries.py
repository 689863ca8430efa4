"""The person's page runs the same SQL whatever the length of the pathway.

A person with a few timeline entries, then the same person with many more (steps with their
actions and employers, barriers lifted or assessed, hand-offs to several partners with their
answers, decisions): the page must send the same statements (``pin_flat``), pinned
(``pin``), and show the added entries. The forms of the page open on their own pages, so the
page itself holds no per-barrier form.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.domain.employment import ContractType
from app.domain.handoffs import HandoffEvent
from app.domain.pathway import BarrierLevel, BarrierStatus
from app.models import Beneficiary, User
from app.services.handoffs import apply_event, send_handoff
from app.services.pathways import add_barrier, add_step, assess_barrier, set_barrier_status
from app.services.pathways.orientation import decide_pathway
from app.services.security.vault import Vault
from tests import factories
from tests.sql_count import count_queries, pin, pin_flat
from tests.web.helpers import login

CASEWORKER = "timeline@relais.example"
PARTNERS = ("partner-a@relais.example", "partner-b@relais.example")
STAGES = ("orientation", "training", "employment")
CATEGORIES = ("mobility", "housing", "health", "financial", "motivation", "digital")
# The statements of the page (the same on PostgreSQL: the audit chain's head is locked by the
# statement that reads it).
PINNED = (23, 23)
ENTRY = re.compile(r'<li class="tl-[a-z_]+" id="entry-\d+"')


def _grow(
    session: Session,
    vault: Vault,
    worker: User,
    partners: list[User],
    person: Beneficiary,
    rounds: range,
) -> None:
    """Add ``rounds`` of pathway to ``person``: each a step, a barrier (assessed, then lifted),
    a hand-off (accepted every other round) and a decision every third round."""
    start = factories.TODAY - timedelta(days=400)
    for k in rounds:
        day = start + timedelta(days=k * 3 + 1)
        stage = STAGES[k % len(STAGES)]
        add_step(
            session,
            vault,
            worker,
            person,
            stage_code=stage,
            started_on=day,
            action=f"Action {k}",
            contract_type=ContractType.CDI if stage == "employment" else None,
            employer=f"Employer {k}" if stage == "employment" else None,
        )
        barrier = add_barrier(
            session,
            worker,
            person,
            category_code=CATEGORIES[k % len(CATEGORIES)],
            identified_on=day,
        )
        assess_barrier(session, vault, worker, barrier, level=BarrierLevel.STRONG, detail=f"D{k}")
        set_barrier_status(
            session, worker, barrier, BarrierStatus.LIFTED, on=day + timedelta(days=1)
        )
        partner = partners[k % len(partners)]
        assert partner.structure is not None
        handoff = send_handoff(
            session,
            vault,
            worker,
            person,
            to_structure=partner.structure,
            now=datetime.now(UTC) - timedelta(days=30 - k % 20),
            purpose_barrier=barrier,
            note=f"Note {k}",
            consent_confirmed=True,
        )
        if k % 2 == 0:
            apply_event(
                session, vault, partner, handoff, HandoffEvent.ACCEPT, now=datetime.now(UTC)
            )
        if k % 3 == 0:
            decide_pathway(
                session,
                worker,
                person,
                pathway_type_code=("social", "professional")[k % 2],
                decided_on=day,
                today=factories.TODAY,
            )
    session.commit()


def test_the_person_page_is_flat_in_its_timeline(
    client: FlaskClient, db_session: Session, vault: Vault
) -> None:
    worker = factories.user(db_session, email=CASEWORKER)
    partners = [factories.user(db_session, email=email) for email in PARTNERS]
    person = factories.person(db_session, vault, worker, last_name="Longue")
    db_session.commit()
    ids = (worker.id, [p.id for p in partners], person.id)
    _grow(db_session, vault, worker, partners, person, range(1))
    login(client, CASEWORKER)
    path = f"/people/{person.pseudonym}"
    with count_queries() as few:
        first = client.get(path)
    worker, partners, person = (
        db_session.get_one(User, ids[0]),
        [db_session.get_one(User, i) for i in ids[1]],
        db_session.get_one(Beneficiary, ids[2]),
    )
    _grow(db_session, vault, worker, partners, person, range(1, 21))
    with count_queries() as many:
        second = client.get(path)
    assert first.status_code == second.status_code == 200
    entries = len(ENTRY.findall(first.get_data(as_text=True)))
    more = len(ENTRY.findall(second.get_data(as_text=True)))
    assert entries >= 3
    assert more >= 60
    pin_flat(few, many)
    pin(many, sqlite=PINNED[0], postgresql=PINNED[1])
