"""Directory cards: editing with its history, permissions, free places."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.domain.roles import Role
from app.models import AuditEvent, StructureCardChange
from app.services.directory.card_input import CardInput, ServiceInput
from app.services.directory.cards import card_snapshot, update_capacity, update_card
from app.services.directory.editors import card_editors, set_card_editor
from app.services.directory.history import card_history
from app.services.directory.search import directory_entry
from app.services.errors import Forbidden, InvalidInput
from tests import factories
from tests.directory_data import paris_today

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)


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
        select(AuditEvent)
        .where(AuditEvent.subject_type == "structures", AuditEvent.subject_id == str(structure.id))
        .order_by(AuditEvent.seq)
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
        # Other scripts' digits are digits for ``\d`` without re.ASCII (issue 12).
        ({"postcode": "٩٠٠٠٠"}, "postcode"),
        ({"siret": "１２３４５６７８９０１２３４"}, "siret"),
        ({"zone_code": "٩٠"}, "zone_code"),
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
