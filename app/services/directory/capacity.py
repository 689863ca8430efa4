"""Capacity statuses of a directory card: per service, or for the whole structure.

A status (``app.domain.capacity.CapacityStatus``) says whether the partner can take someone
on; it is dated by its last confirmation. Whoever may edit the card (``editors``) sets it, or
confirms in one click that it still holds; both are kept in the card's history (kind
``capacity``: the field ``capacity_status`` or ``capacity_status:<service name>``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.capacity import CapacityStatus, capacity_is_stale, is_full
from app.domain.handoffs import HandoffStatus
from app.models import (
    Handoff,
    Structure,
    StructureCard,
    StructureCardChange,
    StructureService,
    User,
)
from app.services.directory.cards import card_for, card_to_edit
from app.services.directory.editors import require_editor
from app.services.directory.history import record_change
from app.services.directory.search import local_date
from app.services.errors import N_, InvalidInput

WHOLE = "all"  # the form's value for the whole structure (every service)


@dataclass(frozen=True)
class CapacityLine:
    """One status of a card: a service's (``service`` None: the whole structure)."""

    service: StructureService | None
    status: CapacityStatus | None
    confirmed_on: date | None
    stale: bool

    @property
    def key(self) -> str:
        return str(self.service.id) if self.service is not None else WHOLE


def parse_status(value: str | None) -> CapacityStatus | None:
    """A status from a form (empty: none given); ``InvalidInput`` for anything else."""
    if not value:
        return None
    try:
        return CapacityStatus(value)
    except ValueError:
        raise InvalidInput(N_("Choose a capacity status from the list."), field="status") from None


def _target(card: StructureCard, key: str | None) -> StructureCard | StructureService:
    if not key or key == WHOLE:
        return card
    for service in card.services:
        if str(service.id) == key:
            return service
    raise InvalidInput(N_("Choose a service of this card."), field="service")


def _field(target: StructureCard | StructureService) -> str:
    if isinstance(target, StructureService):
        return f"capacity_status:{target.name}"
    return "capacity_status"


def set_capacity_status(
    session: Session,
    actor: User | None,
    structure: Structure,
    service: str | None,
    status: str | None,
    *,
    now: datetime,
) -> StructureCardChange:
    """Set the status of a service (``service``: its id) or of the whole structure
    (``WHOLE`` or empty), dated now even when unchanged."""
    require_editor(actor, structure)
    new = parse_status(status)
    card = card_to_edit(session, structure)
    target = _target(card, service)
    old = target.capacity_status
    target.capacity_status = new
    target.capacity_confirmed_at = now if new is not None else None
    changes = {} if old == new else {_field(target): [_code(old), _code(new)]}
    if changes:
        card.updated_at = structure.updated_at = now
    return record_change(session, actor, structure, "capacity", changes, now=now)


def confirm_capacity_status(
    session: Session,
    actor: User | None,
    structure: Structure,
    service: str | None,
    *,
    now: datetime,
) -> StructureCardChange:
    """Record that a status still holds ("still true"): its date moves to now."""
    require_editor(actor, structure)
    card = card_to_edit(session, structure)
    target = _target(card, service)
    if target.capacity_status is None:
        raise InvalidInput(N_("No capacity status to confirm."), field="service")
    target.capacity_confirmed_at = now
    code = _code(target.capacity_status)
    return record_change(
        session, actor, structure, "capacity", {_field(target): [code, code]}, now=now
    )


def _code(status: CapacityStatus | None) -> str | None:
    return status.value if status is not None else None


def capacity_lines(
    card: StructureCard | None, *, today: date, stale_weeks: int
) -> list[CapacityLine]:
    """The whole structure's status, then each service's, with their freshness."""
    if card is None:
        return []
    targets: list[StructureCard | StructureService] = [card, *card.services]
    lines = []
    for target in targets:
        confirmed = local_date(target.capacity_confirmed_at)
        lines.append(
            CapacityLine(
                service=target if isinstance(target, StructureService) else None,
                status=target.capacity_status,
                confirmed_on=confirmed,
                stale=target.capacity_status is not None
                and capacity_is_stale(confirmed, today, stale_weeks),
            )
        )
    return lines


def partner_is_full(session: Session, structure: Structure) -> bool:
    """Whether a hand-off to ``structure`` goes to a partner that says it is full (for the
    whole structure, or for every service that gives a status)."""
    card = card_for(session, structure)
    return card is not None and card_says_full(card)


def card_says_full(card: StructureCard) -> bool:
    """Whether ``card`` says its structure is full (for a hand-off naming no service)."""
    return is_full(card.capacity_status, [s.capacity_status for s in card.services])


@dataclass(frozen=True)
class OverCapacity:
    """More hand-offs wait for the structure's answer than it declares free places."""

    structure: Structure
    pending: int
    places: int


def over_capacity(session: Session, structure: Structure) -> OverCapacity | None:
    """The structure's pending hand-offs (sent, not answered) when they exceed its declared
    free places (one query; none when it declares no places)."""
    if structure.capacity is None:
        return None
    pending = session.scalar(
        select(func.count()).where(
            Handoff.to_structure_id == structure.id, Handoff.status == HandoffStatus.SENT
        )
    )
    return pending_over_capacity(structure, int(pending or 0))


def pending_over_capacity(structure: Structure, pending: int) -> OverCapacity | None:
    """``pending`` hand-offs waiting for the structure's answer, when they exceed its declared
    free places (none when it declares no places): for a caller that counted them already."""
    if structure.capacity is None or pending <= structure.capacity:
        return None
    return OverCapacity(structure, pending, structure.capacity)
