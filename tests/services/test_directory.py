"""Directory cards: search, editing with its history, permissions, free places, suggestions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.domain.roles import Role
from app.models import AuditEvent, ReferenceItem, ReferenceKind, StructureCardChange
from app.services.directory import (
    DirectoryQuery,
    card_editors,
    card_reminder,
    directory_entry,
    search_directory,
    suggest_partners,
)
from app.services.directory_cards import (
    CardInput,
    ServiceInput,
    card_history,
    card_snapshot,
    set_card_editor,
    update_capacity,
    update_card,
)
from app.services.errors import Forbidden, InvalidInput, NotFound
from app.services.structures import create_structure
from app.services.vault import Vault
from tests import factories
from tests.directory_data import build_demo_directory, paris_today

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)


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


# -- editing --------------------------------------------------------------------------------


def _input(**changes: object) -> CardInput:
    base = CardInput(
        missions="Aide à la garde des enfants.",
        city="Belfort",
        capacity=3,
        phone="03 84 00 00 01",
        email="accueil@exemple.fr",
        opening_hours="Mo-Fr 09:00-17:00",
        cohorts=["single_parent"],
        barrier_categories=["childcare"],
        stages=["barriers"],
        covers_all_qpvs=True,
        referral_conditions="Être parent\n\n  Habiter le Grand Belfort ",
        referral_modes=["telephoner"],
        reception_modes=["en-presentiel"],
        services=[
            ServiceInput("Garde d'urgence", "Quelques jours", ["accompagnement"], ["gratuit"])
        ],
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_every_change_is_kept_with_old_and_new_values(db_session: Session) -> None:
    admin = factories.user(db_session, Role.ADMIN)
    structure = factories.structure(db_session)
    first = update_card(db_session, admin, structure, _input(), now=NOW)
    assert first.kind == "edit"
    assert first.actor_id == admin.id
    assert first.changes["phone"] == ["", "+33384000001"]
    assert first.changes["referral_conditions"] == ["", "Être parent\nHabiter le Grand Belfort"]
    assert first.changes["cohorts"] == [[], ["single_parent"]]

    later = datetime(2026, 11, 26, 9, tzinfo=UTC)
    second = update_card(
        db_session, admin, structure, _input(capacity=0, cohorts=["other"]), now=later
    )
    assert second.changes == {"capacity": [3, 0], "cohorts": [["single_parent"], ["other"]]}
    unchanged = update_card(
        db_session, admin, structure, _input(capacity=0, cohorts=["other"]), now=later
    )
    assert unchanged.kind == "check"
    assert unchanged.changes == {}

    history = card_history(db_session, structure)
    assert [c.kind for c in history] == ["check", "edit", "edit"]
    card = directory_entry(db_session, structure.code, today=paris_today(), stale_months=6).card
    assert card.checked_at == later
    assert card.capacity_updated_at == later
    assert card.updated_at == later

    # The audit log names the fields, never their values.
    events = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.subject_type == "structures", AuditEvent.subject_id == str(structure.id)
        )
    ).all()
    card_events = [e for e in events if e.action.startswith("structure:card")]
    assert [e.action for e in card_events] == ["structure:card_update"] * 2 + [
        "structure:card_check"
    ]
    assert card_events[1].data == {"fields": "capacity,cohorts"}
    assert "+33384000001" not in str([e.data for e in events])


def test_services_are_replaced_in_order(db_session: Session) -> None:
    structure = factories.structure(db_session)
    update_card(db_session, None, structure, _input(), now=NOW)
    services = [ServiceInput("Accueil du soir", types=["accueil"]), ServiceInput("Garde d'urgence")]
    change = update_card(db_session, None, structure, _input(services=services), now=NOW)
    snapshot = card_snapshot(
        structure,
        directory_entry(db_session, structure.code, today=paris_today(), stale_months=6).card,
    )
    assert [s["name"] for s in snapshot["services"]] == ["Accueil du soir", "Garde d'urgence"]
    assert snapshot["services"][1]["types"] == []
    assert "services" in change.changes


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"phone": "12"}, "phone"),
        ({"email": "pas une adresse"}, "email"),
        ({"website": "www.exemple.fr"}, "website"),
        ({"opening_hours": "Mo-Fr 9h-17h"}, "opening_hours"),
        ({"age_min": 30, "age_max": 25}, "age_max"),
        ({"age_min": -1}, "age_min"),
        ({"cohorts": ["astronauts"]}, "cohorts"),
        ({"qpvs": ["QN00000X"]}, "qpvs"),
        ({"referral_modes": ["pigeon"]}, "referral_modes"),
        ({"zone_type": "planete"}, "zone_type"),
        ({"postcode": "9000"}, "postcode"),
        ({"siret": "123"}, "siret"),
        ({"capacity": -2}, "capacity"),
        ({"services": [ServiceInput("Atelier.")]}, "services"),
        ({"services": [ServiceInput("Atelier", fees=["cher"])]}, "services"),
    ],
)
def test_bad_values_are_refused_naming_the_field(
    db_session: Session, changes: dict[str, object], field: str
) -> None:
    structure = factories.structure(db_session)
    with pytest.raises(InvalidInput) as raised:
        update_card(db_session, None, structure, _input(**changes), now=NOW)
    assert raised.value.field == field


def test_who_may_edit_a_card(db_session: Session) -> None:
    structure = factories.structure(db_session)
    other = factories.structure(db_session)
    caseworker = factories.user(db_session, Role.CASEWORKER, structure)
    for actor in (
        caseworker,
        factories.user(db_session, Role.COORDINATOR),
        factories.user(db_session, Role.FIELD_WORKER),
    ):
        with pytest.raises(Forbidden):
            update_card(db_session, actor, structure, _input(), now=NOW)
    admin = factories.user(db_session, Role.ADMIN)
    assert set_card_editor(db_session, admin, caseworker, True)
    assert not set_card_editor(db_session, admin, caseworker, True)  # no change
    assert card_editors(db_session, structure) == [caseworker]
    change = update_card(db_session, caseworker, structure, _input(name="Renamed"), now=NOW)
    assert "name" not in change.changes  # only administrators rename a structure
    with pytest.raises(Forbidden):
        update_card(db_session, caseworker, other, _input(), now=NOW)
    with pytest.raises(Forbidden):
        update_capacity(db_session, caseworker, other, 2, now=NOW)


def test_only_an_administrator_grants_and_only_to_caseworkers(db_session: Session) -> None:
    caseworker = factories.user(db_session, Role.CASEWORKER)
    coordinator = factories.user(db_session, Role.COORDINATOR)
    with pytest.raises(Forbidden):
        set_card_editor(db_session, coordinator, caseworker, True)
    with pytest.raises(InvalidInput):
        set_card_editor(db_session, None, coordinator, True)
    field_worker = factories.user(db_session, Role.FIELD_WORKER)
    assert field_worker.structure_id is None
    field_worker.can_edit_card = True  # the database refuses it too
    with pytest.raises(IntegrityError):
        db_session.flush()
    db_session.rollback()


def test_free_places_are_dated_even_when_unchanged(db_session: Session) -> None:
    structure = factories.structure(db_session)
    first = update_capacity(db_session, None, structure, 4, now=NOW)
    assert first.kind == "capacity"
    assert first.changes == {"capacity": [None, 4]}
    later = datetime(2026, 12, 1, 8, tzinfo=UTC)
    again = update_capacity(db_session, None, structure, 4, now=later)
    assert again.changes == {}
    card = directory_entry(db_session, structure.code, today=paris_today(), stale_months=6).card
    assert card.capacity_updated_at == later
    assert structure.capacity == 4
    assert card.checked_at is None  # a new count is not a check of the whole card
    with pytest.raises(InvalidInput):
        update_capacity(db_session, None, structure, -1, now=later)
    assert db_session.scalar(
        select(StructureCardChange.id)
        .where(StructureCardChange.structure_id == structure.id)
        .limit(1)
    )


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
