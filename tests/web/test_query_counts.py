"""The SQL each list page runs, pinned, and flat: the same with 3 rows as with 12.

Each test fills its pages with a few rows, counts the statements of one request per page, adds
more rows and counts again. ``pin_flat`` fails when the two differ - a query per row - with a
diff of the statements; ``pin`` fails when the count moved, with the numbered list of the
statements. A count that goes down after a change is good news: pin the new number. The
filters of a list are requested too: each builds its own query.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffEvent, HandoffStatus
from app.domain.pathway import BarrierStatus
from app.domain.roles import Role
from app.models import (
    Beneficiary,
    NetworkEvent,
    ReferenceKind,
    StructureCard,
    StructureService,
    User,
)
from app.services.handoffs import apply_event, send_handoff
from app.services.pathways import add_barrier, add_step
from app.services.security.vault import Vault
from app.services.structures import add_reference_item, reference_item
from tests import factories
from tests.sql_count import Queries, count_queries, pin, pin_flat
from tests.web.helpers import login
from tests.world import World, at

FEW, MORE = 3, 9  # pages of 3 rows, then of 12
REPORT = os.environ.get("RELAIS_QUERY_REPORT") == "1"


@dataclass(frozen=True)
class Page:
    """A page requested by ``email``, its count (SQLite, PostgreSQL) and what marks a row."""

    email: str
    path: str
    sqlite: int
    postgresql: int | None = None
    row: str | None = 'class="pseudonym"'  # None: the page as a whole must change


@dataclass(frozen=True)
class Seen:
    queries: Queries
    html: str


def _get(client: FlaskClient, path: str) -> Seen:
    with count_queries() as queries:
        response = client.get(path)
    assert response.status_code == 200, path
    return Seen(queries, response.get_data(as_text=True))


def _run(client: FlaskClient, pages: list[Page]) -> dict[Page, Seen]:
    seen: dict[Page, Seen] = {}
    signed_in = None
    for page in pages:
        if page.email != signed_in:
            login(client, page.email)
            signed_in = page.email
        seen[page] = _get(client, page.path)
    return seen


def _shows_more_rows(page: Page, few: str, many: str) -> None:
    if page.row is None:
        assert few != many, f"{page.path} does not change with the rows"
    else:
        assert many.count(page.row) > few.count(page.row) > 0, f"{page.path}: rows missing"


def check_pages(client: FlaskClient, fill: Callable[[int], object], pages: list[Page]) -> None:
    """Request ``pages`` with FEW rows, then FEW + MORE: each flat, each pinned.

    With ``RELAIS_QUERY_REPORT=1``, print the counts and the statements instead.
    """
    fill(FEW)
    few = _run(client, pages)
    fill(MORE)
    many = _run(client, pages)
    for page in pages:
        before, after = few[page].queries, many[page].queries
        if REPORT:
            print(f"\n{page.email} {page.path}: {before.count} -> {after.count}")
            print(after.listing())
            continue
        _shows_more_rows(page, few[page].html, many[page].html)
        pin_flat(before, after)
        pin(after, sqlite=page.sqlite, postgresql=page.postgresql)


# -- caseworkers: the caseload and the hand-off boxes ----------------------------------------

CASEWORKER = "busy@relais.example"
PARTNER = "partner@relais.example"


@pytest.fixture
def caseload(db_session: Session, vault: Vault) -> Callable[[int], None]:
    """Adds people followed by CASEWORKER's structure, each with a step, a barrier and a
    hand-off to PARTNER's structure: a stage or a barrier, some overdue, some accepted."""
    worker = factories.user(db_session, email=CASEWORKER)
    partner = factories.user(db_session, email=PARTNER)
    target = partner.structure
    assert target is not None
    now = datetime.now(UTC)
    made = [0]

    def add(count: int) -> None:
        for _ in range(count):
            n = made[0] = made[0] + 1
            person = factories.person(
                db_session,
                vault,
                worker,
                last_name=f"Person{n}",
                email=f"p{n}@exemple.fr",
                cohorts=("young_dropout",) if n % 2 else ("young_graduate",),
            )
            add_step(
                db_session,
                vault,
                worker,
                person,
                stage_code="orientation",
                started_on=factories.TODAY,
            )
            barrier = add_barrier(
                db_session, worker, person, category_code="mobility", identified_on=factories.TODAY
            )
            handoff = send_handoff(
                db_session,
                vault,
                worker,
                person,
                to_structure=target,
                now=now - timedelta(days=20) if n % 3 == 0 else now,  # overdue
                purpose_barrier=barrier if n % 2 else None,
                purpose_stage_code=None if n % 2 else "training",
                note=f"Note {n}",
                consent_confirmed=True,
            )
            if n % 4 == 1:  # the partner follows the first person: its inbox shows names
                apply_event(db_session, vault, partner, handoff, HandoffEvent.ACCEPT, now=now)
        db_session.commit()

    db_session.commit()
    return add


def test_the_caseload(client: FlaskClient, caseload: Callable[[int], None]) -> None:
    """The reveals of a page: one key read, and at commit one append to the audit chain (the
    head read - on PostgreSQL with its row lock, ``FOR UPDATE`` - and moved, the page's event,
    its people index). The current stage and the last event are on the people's rows: one
    query for the page's stages."""
    paths = ("/people/", "/people/?cohort=young_dropout", "/people/?stage=orientation")
    check_pages(client, caseload, [Page(CASEWORKER, path, 15) for path in paths])


def test_the_caseload_sorted(client: FlaskClient, caseload: Callable[[int], None]) -> None:
    """Each order is one query for the page, whatever the caseload (by name: one query for
    the last names and keys of the caseload, up to ``NAME_ORDER_LIMIT`` and one more,
    decrypted in memory, one for the first names of the page's people and their namesakes,
    then the page by id)."""
    paths = ("/people/?sort=last_event", "/people/?sort=idle", "/people/?sort=stage")
    pages = [Page(CASEWORKER, path, 15) for path in paths]
    check_pages(client, caseload, [*pages, Page(CASEWORKER, "/people/?sort=name", 16)])


def test_the_work_queue(client: FlaskClient, caseload: Callable[[int], None]) -> None:
    """One query per list (its shown rows and its count), which of their people the structure
    follows, and the reveal of those shown (one key read, one append to the audit chain).
    The over-capacity warning reuses the count of the hand-offs to answer: no query."""
    check_pages(client, caseload, [Page(PARTNER, "/work/", 17)])


HANDOFF_FILTERS = ("", "&status=sent", "&purpose=stage", "&purpose=barrier", "&overdue=1")


def test_the_handoff_inbox_and_sent_list(
    client: FlaskClient, caseload: Callable[[int], None]
) -> None:
    """The count of the box, its page of rows, then the names of the people the structure
    follows on that page: one key read and one append to the audit chain (with the page's
    people index). The sent list shows every name; the inbox those of the hand-offs it
    accepted (for a barrier), so its other filters show none and reveal nothing."""
    named = {"", "&purpose=barrier"}
    pages = [
        Page(PARTNER, f"/handoffs/?box=in{f}", 11)
        if f in named
        else Page(PARTNER, f"/handoffs/?box=in{f}", 6)
        for f in HANDOFF_FILTERS
    ]
    pages += [Page(CASEWORKER, f"/handoffs/?box=out{f}", 11) for f in HANDOFF_FILTERS]
    check_pages(client, caseload, pages)


# -- coordinators: pathways, dashboard, network events ---------------------------------------

COORDINATOR = "coord@relais.example"
ADMIN = "admin@relais.example"


@pytest.fixture
def accounts(db_session: Session) -> None:
    factories.user(db_session, Role.COORDINATOR, email=COORDINATOR)
    factories.user(db_session, Role.ADMIN, email=ADMIN)
    db_session.commit()


def test_the_coordinators_pathways(
    client: FlaskClient, db_session: Session, accounts: None, caseload: Callable[[int], None]
) -> None:
    qpv = add_reference_item(db_session, None, ReferenceKind.QPV, "QP090001", "Glacis", "Glacis")
    db_session.commit()

    def add(count: int) -> None:
        caseload(count)
        people = db_session.scalars(select(Beneficiary).where(Beneficiary.qpv_id.is_(None)))
        for n, person in enumerate(people):
            person.qpv_id = qpv.id if n % 2 == 0 else None  # some live in the QPV
        db_session.commit()

    worker = db_session.scalars(select(User).where(User.email == CASEWORKER)).one()
    assert worker.structure is not None
    paths = (
        "/pathways/",
        "/pathways/?cohort=young_dropout",
        "/pathways/?stage=orientation",
        "/pathways/?qpv=QP090001",
        f"/pathways/?structure={worker.structure.code}",
    )
    check_pages(client, add, [Page(COORDINATOR, path, 11) for path in paths])


def test_the_dashboard(client: FlaskClient, accounts: None, world: World) -> None:
    """Grouped queries: their number does not depend on the number of people."""

    def add(count: int) -> None:
        for n in range(count):
            person = world.person()
            world.follow(person, world.a)
            world.step(person, "orientation", date(2026, 3, 2), world.a)
            world.barrier(person, "mobility", BarrierStatus.LIFTED, date(2026, 3, 3), world.b)
            receiver = world.b if n % 3 else world.c
            world.handoff(person, world.a, receiver, HandoffStatus.SENT, at(date(2026, 3, 4)))
        world.session.commit()

    check_pages(
        client,
        add,
        # 15 indicator and page queries, + the stage flows and the cohort outcomes, + the
        # quarterly trends (people, medians: the stage medians come from the same counted
        # days), the answers by quarter and the overdue hand-offs (exact view).
        [Page(COORDINATOR, "/dashboard/?start=2026-01-01&end=2026-12-31", 21, row=None)],
    )


def test_the_network_events(client: FlaskClient, db_session: Session, accounts: None) -> None:
    worker = factories.user(db_session, email=CASEWORKER)
    others = [factories.structure(db_session) for _ in range(3)]
    mine = worker.structure
    assert mine is not None

    def add(count: int) -> None:
        for n in range(count):
            present = [mine, *others] if n % 2 else others[: 1 + n % 3]
            db_session.add(
                NetworkEvent(
                    theme=f"Rencontre {n}",
                    held_on=date(2026, 3, 1) + timedelta(days=n),
                    participants=10 + n,
                    structures=present,
                )
            )
        db_session.commit()

    row = 'href="/network-events/'
    pages = [
        Page(COORDINATOR, "/network-events/", 3, row=row),
        Page(CASEWORKER, "/network-events/", 4, row=row),
    ]
    check_pages(client, add, pages)


# -- the directory ---------------------------------------------------------------------------


def test_the_directory_search(client: FlaskClient, db_session: Session, accounts: None) -> None:
    """Active structures with their cards (some without one, some stale)."""
    items = [
        reference_item(db_session, ReferenceKind.BARRIER_CATEGORY, "mobility"),
        reference_item(db_session, ReferenceKind.STAGE, "training"),
        reference_item(db_session, ReferenceKind.COHORT, "young_dropout"),
    ]
    now = datetime.now(UTC)

    def add(count: int) -> None:
        for n in range(count):
            structure = factories.structure(db_session)
            structure.city = "Belfort"
            if n % 3 == 0:
                continue  # no card yet
            db_session.add(
                StructureCard(
                    structure_id=structure.id,
                    public_notes="Permis et mobilité",
                    checked_at=now - timedelta(days=30 if n % 2 else 900),
                    items=items[: 1 + n % 3],
                    services=[StructureService(name=f"Atelier {n}", summary="Code de la route")],
                )
            )
        db_session.commit()

    paths = (
        "/directory/",
        "/directory/?q=permis",
        "/directory/?barrier=mobility",
        "/directory/?cohort=young_dropout&stale=1",
    )
    field_worker = "field@relais.example"
    factories.user(db_session, Role.FIELD_WORKER, email=field_worker)
    row = 'class="card result'
    pages = [Page(ADMIN, path, 11, row=row) for path in paths]
    pages.append(Page(field_worker, "/directory/", 8, row=row))
    check_pages(client, add, pages)


# -- administrators --------------------------------------------------------------------------


def test_the_admin_lists(client: FlaskClient, db_session: Session, accounts: None) -> None:
    made = [0]

    def add(count: int) -> None:
        for _ in range(count):
            n = made[0] = made[0] + 1
            structure = factories.structure(db_session)
            factories.user(db_session, structure_=structure)
            factories.user(db_session, Role.COORDINATOR)
            add_reference_item(
                db_session, None, ReferenceKind.QPV, f"QP0900{n:02d}", f"QPV {n}", f"QPV {n}"
            )
        db_session.commit()

    pages = [
        Page(ADMIN, "/admin/structures", 3, row="<td><code>"),
        # The structures (the filter's choices), the accounts, and the invitations of the
        # accounts with no structure.
        Page(ADMIN, "/admin/users", 4, row='<th scope="row">'),
        Page(ADMIN, "/admin/reference", 2, row="<td><code>"),  # every list in one query
    ]
    check_pages(client, add, pages)


def test_a_structure_accounts_page(
    client: FlaskClient, db_session: Session, accounts: None
) -> None:
    """The accounts of a structure, their caseload counts and its invitations: the same
    queries whatever the number of accounts."""
    structure = factories.structure(db_session, "QCA")
    db_session.commit()

    def add(count: int) -> None:
        for _ in range(count):
            factories.user(db_session, structure_=structure)
        db_session.commit()

    check_pages(
        client, add, [Page(ADMIN, "/structures/QCA/accounts", 5, row='data-testid="account-row"')]
    )


def test_the_development_outbox(
    client: FlaskClient, db_session: Session, accounts: None, caseload: Callable[[int], None]
) -> None:
    """The mails of the hand-offs, as the development outbox shows them: the texts of unsent
    mails are composed for the whole page at once."""
    page = Page(ADMIN, "/dev/outbox", 0)
    caseload(FEW)
    few = _run(client, [page])
    caseload(MORE)
    many = _run(client, [page])
    pin_flat(few[page].queries, many[page].queries)
    pin(many[page].queries, sqlite=5)
