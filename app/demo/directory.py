"""The demo's directory: a complete card for every demo structure, and the network's events.

Cards are filled by the administrator (back-dated), then checked by their structure (or
left unchecked for months, so that the stale flag shows); free places are updated by the
structures' caseworkers, who are given the right to edit their card. Network events are
recorded by the coordinator. Everything goes through the directory services.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.demo.data.directory import CARDS, EVENTS, DemoCard
from app.models import Structure, User
from app.services.directory.capacity import WHOLE, set_capacity_status
from app.services.directory.card_input import CardInput, ServiceInput
from app.services.directory.cards import card_for, confirm_card, update_capacity, update_card
from app.services.directory.editors import set_card_editor
from app.services.directory.network_events import EventInput, record_event

PARIS = ZoneInfo("Europe/Paris")
# When the administrator filled the cards in, in days before the demo's "today".
FILLED_DAYS_AGO = 420
# Capacity statuses (whole structure, first service) by card, in turn, and how many days ago
# they were confirmed: some full, some waiting, some not confirmed for weeks (stale).
STATUSES = (
    ("available", "full", 3),
    ("waiting_list", "available", 10),
    ("full", None, 40),
    ("assessment", "waiting_list", 2),
    (None, "full", 60),
)


def _moment(today: date, days_ago: int, hour: int = 10) -> datetime:
    return datetime.combine(today - timedelta(days=days_ago), time(hour), PARIS)


def _weekday(day: date) -> date:
    """The Tuesday or Thursday on or before ``day``: the network meets on working days."""
    while day.weekday() not in (1, 3):
        day -= timedelta(days=1)
    return day


def card_input(spec: DemoCard, structure: Structure) -> CardInput:
    postcode, insee, city = spec.place
    zone_type, zone_code, territory = spec.zone
    return CardInput(
        missions=structure.missions,
        contact=spec.contact,
        city=city,
        capacity=structure.capacity,
        address=spec.address,
        postcode=postcode,
        insee_code=insee,
        phone=spec.phone,
        email=spec.email,
        website=spec.website,
        opening_hours=spec.hours,
        cohorts=spec.cohorts,
        age_min=spec.ages[0],
        age_max=spec.ages[1],
        public_notes=spec.public_notes,
        barrier_categories=spec.barriers,
        stages=spec.stages,
        territory=territory,
        zone_type=zone_type,
        zone_code=zone_code,
        qpvs=() if spec.all_qpvs else spec.qpvs,
        covers_all_qpvs=spec.all_qpvs,
        referral_conditions="\n".join(spec.conditions),
        referral_documents="\n".join(spec.documents),
        referral_delay_days=spec.delay_days,
        referral_modes=spec.referral,
        reception_modes=spec.reception,
        services=[
            ServiceInput(s.name, s.summary, s.types, s.fees, s.fees_detail) for s in spec.services
        ],
    )


def load_directory(
    session: Session,
    admin: User,
    coordinator: User,
    structures: dict[str, Structure],
    caseworkers: dict[str, User],
    *,
    today: date,
) -> tuple[int, int]:
    """Fill every demo card and record the network events; (cards, events) written."""
    for spec in CARDS:
        structure, caseworker = structures[spec.code], caseworkers[spec.code]
        update_card(
            session,
            admin,
            structure,
            card_input(spec, structure),
            now=_moment(today, FILLED_DAYS_AGO),
        )
        checker = admin
        if spec.editor:
            set_card_editor(session, admin, caseworker, True)
            checker = caseworker
        if spec.capacity_days_ago is not None and structure.capacity is not None:
            moment = _moment(today, spec.capacity_days_ago, 9)
            update_capacity(session, checker, structure, structure.capacity, now=moment)
        confirm_card(session, checker, structure, now=_moment(today, spec.checked_days_ago, 11))
        _capacity_statuses(session, checker, structure, CARDS.index(spec), today)
    for event in EVENTS:
        record_event(
            session,
            coordinator,
            EventInput(
                theme=event.theme,
                held_on=_weekday(today - timedelta(days=event.days_ago)),
                participants=event.participants,
                structure_ids=[structures[code].id for code in event.structures],
                follow_ups=event.follow_ups,
            ),
            today=today,
        )
    return len(CARDS), len(EVENTS)


def _capacity_statuses(
    session: Session, checker: User, structure: Structure, turn: int, today: date
) -> None:
    whole, first, days_ago = STATUSES[turn % len(STATUSES)]
    moment = _moment(today, days_ago, 9)
    if whole is not None:
        set_capacity_status(session, checker, structure, WHOLE, whole, now=moment)
    card = card_for(session, structure)
    if first is not None and card is not None and card.services:
        service = str(card.services[0].id)
        set_capacity_status(session, checker, structure, service, first, now=moment)
