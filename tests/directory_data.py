"""The demo's directory built through the services (structures, QPVs and cards; no accounts,
no people), for the directory tests. Flush, never commit."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.demo.data.directory import CARDS
from app.demo.data.network import QPVS, STRUCTURES
from app.demo.directory import card_input
from app.models import ReferenceItem, ReferenceKind, Structure
from app.services.directory.cards import confirm_card, update_capacity, update_card
from app.services.structures import add_reference_item, create_structure

PARIS = ZoneInfo("Europe/Paris")


def paris_today() -> date:
    return datetime.now(PARIS).date()


def moment(today: date, days_ago: int) -> datetime:
    return datetime.combine(today - timedelta(days=days_ago), time(10), PARIS)


def add_qpvs(session: Session) -> None:
    for qpv in QPVS:
        exists = session.scalar(
            select(ReferenceItem.id).where(
                ReferenceItem.kind == ReferenceKind.QPV, ReferenceItem.code == qpv.code
            )
        )
        if exists is None:
            add_reference_item(
                session, None, ReferenceKind.QPV, qpv.code, qpv.label_fr, qpv.label_en
            )


def build_demo_directory(session: Session, today: date | None = None) -> dict[str, Structure]:
    """The 21 demo structures with their cards, checked as in the demo."""
    today = today or paris_today()
    add_qpvs(session)
    structures = {
        spec.code: create_structure(
            session,
            None,
            code=spec.code,
            name=spec.name,
            type_code=spec.type_code,
            missions=spec.missions,
            contact=spec.contact,
            city=spec.city,
            capacity=spec.capacity,
        )
        for spec in STRUCTURES
    }
    for spec in CARDS:
        structure = structures[spec.code]
        update_card(session, None, structure, card_input(spec, structure), now=moment(today, 420))
        if spec.capacity_days_ago is not None and structure.capacity is not None:
            update_capacity(
                session,
                None,
                structure,
                structure.capacity,
                now=moment(today, spec.capacity_days_ago),
            )
        confirm_card(session, None, structure, now=moment(today, spec.checked_days_ago))
    session.flush()
    return structures
