"""Reading the directory: search, cards to check, reminders, partners suggested for a hand-off."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.roles import Role
from app.models import ReferenceItem, ReferenceKind
from app.services.directory.search import (
    DirectoryQuery,
    card_reminder,
    directory_entry,
    search_directory,
)
from app.services.directory.suggestions import suggest_partners
from app.services.errors import NotFound
from app.services.security.vault import Vault
from app.services.structures import create_structure
from tests import factories
from tests.directory_data import build_demo_directory, paris_today


def codes(entries: list) -> set[str]:  # type: ignore[type-arg]
    return {e.structure.code for e in entries}


def search(session: Session, **criteria: object) -> set[str]:
    query = DirectoryQuery(**criteria)  # type: ignore[arg-type]
    return codes(search_directory(session, query, today=paris_today(), stale_months=6))


# -- search ---------------------------------------------------------------------------------


def test_search_by_barrier_and_neighbourhood(db_session: Session) -> None:
    build_demo_directory(db_session)
    # "Who can lift a childcare barrier for someone living in Les Vergers (Offemont)?"
    assert search(db_session, barrier="childcare", qpv="QN09004X") == {"CD90", "GARDE90"}
    # Les Petits Pas does not cover Les Glacis.
    assert search(db_session, barrier="childcare", qpv="QN09002X") == {"CD90"}
    assert search(db_session, barrier="mobility", qpv="QN09004X") == {
        "ML90", "FT90", "CCAS-OFF", "PLIE90", "SIAE90", "MOB90",
    }  # fmt: skip
    assert search(db_session, barrier="childcare", cohort="single_parent", qpv="QN09004X") == {
        "CD90",
        "GARDE90",
    }


def test_search_by_stage_public_and_words(db_session: Session) -> None:
    build_demo_directory(db_session)
    training = search(db_session, stage="training", cohort="young_dropout")
    assert {"E2C90", "EPIDE90", "P1618-90", "UNIS90", "MLDS90", "ML90"} <= training
    assert "CAPE90" not in training
    # Accents and case are ignored; every word must be found.
    assert search(db_session, text="CRECHE") == {"GARDE90"}
    assert search(db_session, text="permis scooters") == {"MOB90"}
    # Labels of the card's lists are searched too.
    assert "GARDE90" in search(db_session, text="garde d'enfants")


def test_cards_not_checked_for_six_months_are_flagged(db_session: Session) -> None:
    build_demo_directory(db_session)
    assert search(db_session, stale_only=True) == {"ADDI90", "CAPE90", "EMP90"}
    entry = directory_entry(db_session, "ml90", today=paris_today(), stale_months=6)
    assert not entry.stale
    assert entry.has_card


def test_a_structure_without_a_card_is_listed_blank_and_stale(db_session: Session) -> None:
    structure = factories.structure(db_session)
    entry = directory_entry(db_session, structure.code, today=paris_today(), stale_months=6)
    assert not entry.has_card
    assert entry.stale
    assert entry.card.services == []
    hidden = create_structure(db_session, None, code="GONE", name="Fermée", type_code="other")
    hidden.active = False
    db_session.flush()
    assert structure.code in search(db_session)
    assert "GONE" not in search(db_session)
    with pytest.raises(NotFound):
        directory_entry(db_session, "GONE", today=paris_today(), stale_months=6)


# -- suggestions and reminders ----------------------------------------------------------------


def _person_in(db_session: Session, vault: Vault, qpv: str, cohorts: tuple[str, ...], birth: date):
    caseworker = factories.user(db_session, Role.CASEWORKER)
    person = factories.person(db_session, vault, caseworker, cohorts=cohorts, birth_date=birth)
    person.qpv = db_session.scalar(
        select(ReferenceItem).where(
            ReferenceItem.kind == ReferenceKind.QPV, ReferenceItem.code == qpv
        )
    )
    person.birth_year = birth.year
    db_session.flush()
    return person, caseworker


def test_suggestions_put_the_purpose_cohort_and_neighbourhood_first(
    db_session: Session, vault: Vault
) -> None:
    structures = build_demo_directory(db_session)
    today = paris_today()
    person, _ = _person_in(
        db_session, vault, "QN09004X", ("single_parent",), date(today.year - 30, 5, 1)
    )
    ranked = suggest_partners(
        db_session,
        person,
        purpose_barrier="childcare",
        purpose_stage=None,
        exclude={structures["ML90"].id},
        today=today,
        stale_months=6,
    )
    order = [s.entry.structure.code for s in ranked]
    # Both act on childcare for single parents in Les Vergers: free places break the tie.
    assert order[:2] == ["GARDE90", "CD90"]
    assert [s.entry.structure.code for s in ranked if s.fit.suggested] == ["GARDE90", "CD90"]
    assert set(order) == search(db_session) - {"ML90"}  # every other partner, after them


def test_an_age_outside_the_card_range_is_not_suggested(db_session: Session, vault: Vault) -> None:
    build_demo_directory(db_session)
    today = paris_today()
    person, _ = _person_in(
        db_session, vault, "QN09001X", ("young_dropout",), date(today.year - 24, 1, 1)
    )
    ranked = suggest_partners(
        db_session, person, purpose_barrier=None, purpose_stage="training", exclude=set(),
        today=today, stale_months=6,
    )  # fmt: skip
    fits = {s.entry.structure.code: s.fit for s in ranked}
    assert not fits["P1618-90"].age
    assert not fits["P1618-90"].suggested
    assert fits["E2C90"].suggested
    assert fits["EPIDE90"].suggested
    suggested = [s.entry.structure.code for s in ranked if s.fit.suggested]
    assert "P1618-90" not in suggested
    assert suggested[0] in {"E2C90", "EPIDE90", "UNIS90", "ML90"}


def test_caseworkers_of_a_stale_card_are_reminded(db_session: Session) -> None:
    structures = build_demo_directory(db_session)
    stale = factories.user(db_session, Role.CASEWORKER, structures["CAPE90"])
    fresh = factories.user(db_session, Role.CASEWORKER, structures["GARDE90"])
    coordinator = factories.user(db_session, Role.COORDINATOR)
    reminder = card_reminder(db_session, stale, today=paris_today(), stale_months=6)
    assert reminder is not None
    assert reminder.structure.code == "CAPE90"
    assert card_reminder(db_session, fresh, today=paris_today(), stale_months=6) is None
    assert card_reminder(db_session, coordinator, today=paris_today(), stale_months=6) is None
    # A longer delay, set in the configuration, forgives the same card.
    assert card_reminder(db_session, stale, today=paris_today(), stale_months=12) is None
