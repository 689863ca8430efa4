"""The demo network's directory: a complete card for every structure, a search that answers,
the structures' editors and the network events."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.demo.data.directory import CARDS, EVENTS
from app.demo.data.network import STRUCTURES
from app.demo.loading import DemoReport, load_demo
from app.domain.opening_hours import parse_opening_hours
from app.extensions import db
from app.models import ReferenceKind, Structure, User
from app.services.directory.network_events import events_by_quarter
from app.services.directory.search import DirectoryQuery, directory_entry, search_directory
from app.services.security.vault import Vault

TODAY = date.today()  # noqa: DTZ011 - the demo is dated relative to the local day, like the CLI


@pytest.fixture(scope="class")
def demo(app: Flask) -> Iterator[tuple[Session, DemoReport]]:
    """The demo loaded once for the class, in a transaction rolled back afterwards."""
    vault: Vault = app.extensions["relais_vault"]
    connection = db.engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield session, load_demo(session, vault, today=TODAY)
    finally:
        session.close()
        outer.rollback()
        connection.close()


def _codes(session: Session, **criteria: object) -> set[str]:
    entries = search_directory(
        session,
        DirectoryQuery(**criteria),  # type: ignore[arg-type]
        today=TODAY,
        stale_months=6,
    )
    return {e.structure.code for e in entries}


class TestDemoDirectory:
    def test_every_structure_has_a_complete_card(self, demo: tuple[Session, DemoReport]) -> None:
        session, report = demo
        assert report.cards == len(STRUCTURES) == 21
        assert {c.code for c in CARDS} == {s.code for s in STRUCTURES}
        for spec in STRUCTURES:
            entry = directory_entry(session, spec.code, today=TODAY, stale_months=6)
            s, card = entry.structure, entry.card
            assert entry.has_card, s.code
            for text in (s.missions, s.contact, s.city, card.address, card.postcode, card.phone,
                         card.email, card.territory, card.opening_hours, card.public_notes):  # fmt: skip
                assert text, s.code
            assert parse_opening_hours(card.opening_hours), s.code
            assert card.codes(ReferenceKind.COHORT), s.code
            assert card.codes(ReferenceKind.BARRIER_CATEGORY) or card.codes(ReferenceKind.STAGE)
            assert card.covers_all_qpvs or card.codes(ReferenceKind.QPV), s.code
            assert card.zone_type is not None, s.code
            assert card.zone_code, s.code
            assert card.referral_modes, s.code
            assert card.reception_modes, s.code
            assert card.referral_delay_days is not None, s.code
            assert card.services, s.code
            assert card.checked_at is not None, s.code
            assert card.updated_at is not None, s.code
            assert (s.capacity is None) == (card.capacity_updated_at is None), s.code

    def test_a_search_by_barrier_and_neighbourhood_answers(
        self, demo: tuple[Session, DemoReport]
    ) -> None:
        session, _report = demo
        assert _codes(session, barrier="childcare", qpv="QN09004X") == {"CD90", "GARDE90"}
        assert _codes(session, barrier="childcare", qpv="QN09002X") == {"CD90"}
        assert _codes(session, barrier="housing", qpv="QN09005X") == {
            "ML90",
            "CD90",
            "EPIDE90",
            "LOGE90",
        }
        assert _codes(session, barrier="health", qpv="QN09005X") == {"ML90", "CAPE90"}
        assert _codes(session, barrier="health", qpv="QN09001X") == {"ML90", "CAPE90", "SANTE90"}
        assert _codes(session, barrier="language") == {"E2C90", "LANG90"}

    def test_some_cards_are_due_for_a_check(self, demo: tuple[Session, DemoReport]) -> None:
        session, _report = demo
        assert _codes(session, stale_only=True) == {
            c.code for c in CARDS if c.checked_days_ago > 182
        }

    def test_caseworkers_keep_their_own_card(self, demo: tuple[Session, DemoReport]) -> None:
        session, _report = demo
        editors = session.scalars(select(User).where(User.can_edit_card.is_(True))).all()
        assert {u.structure.code for u in editors if u.structure} == {
            c.code for c in CARDS if c.editor
        }
        assert all(u.email.startswith("conseil@") for u in editors)

    def test_network_events_are_on_the_timeline(self, demo: tuple[Session, DemoReport]) -> None:
        session, report = demo
        assert report.network_events == len(EVENTS)
        quarters = events_by_quarter(session, start=TODAY - timedelta(days=540), end=TODAY)
        marks = [m for q in quarters for m in q.events]
        assert len(marks) == len(EVENTS)
        first = min(marks, key=lambda m: m.held_on)
        assert first.participants == 80
        assert {"ML90", "E2C90", "EPIDE90"} <= set(first.structure_codes)
        ids = {s.code: s.id for s in session.scalars(select(Structure))}
        assert set(first.structure_ids) == {ids[c] for c in first.structure_codes}


class TestDemoCapacityAndLostFromView:
    def test_statuses_some_full_some_stale_and_people_lost(
        self, demo: tuple[Session, DemoReport]
    ) -> None:
        from app.domain.capacity import CapacityStatus
        from app.models import StructureCard
        from app.services.directory.capacity import capacity_lines
        from app.services.statistics.lost import lost_people_query

        session, _report = demo
        lines = [
            line
            for card in session.scalars(select(StructureCard))
            for line in capacity_lines(card, today=TODAY, stale_weeks=4)
            if line.status is not None
        ]
        assert any(line.status is CapacityStatus.FULL for line in lines)
        assert any(line.stale for line in lines)
        assert any(not line.stale for line in lines)
        lost = session.execute(lost_people_query(TODAY, 90, 30)).all()
        assert lost, "the demo's stories leave some people lost from view"
