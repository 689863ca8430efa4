"""Orientation decisions of the played pathways: most people get a first decision a few days
to a few weeks after registration, by their registering structure, and some a change later.

Drawn with a generator of their own (seeded by the person's id), after the pathway is played,
so that the other draws are unchanged. Barrier levels (the criteria) are drawn per barrier from
its category: a heavy category weighs more.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from app.demo.synthetic.network import Network
from app.demo.synthetic.pathway import Pathway
from app.domain.orientation import (
    PROFESSIONAL,
    SOCIAL,
    SOCIO_PROFESSIONAL,
    BarrierAtDate,
    DecisionReason,
    criteria_on,
)
from app.domain.pathway import BarrierLevel
from app.models import ReferenceKind

DECIDED_RATE = 0.85  # people with at least one decision
CHANGE_RATE = 0.25  # of those, people whose pathway type changes later
HEAVY = {"health", "mental_health", "addiction", "housing"}


def barrier_level(barrier_id: uuid.UUID, category: str) -> BarrierLevel:
    """The drawn level of a barrier (the same for its row and for the criteria)."""
    draw = random.Random(barrier_id.int).random()  # noqa: S311 - fictional data
    if category in HEAVY:
        return BarrierLevel.STRONG if draw < 0.6 else BarrierLevel.MODERATE
    if draw < 0.2:
        return BarrierLevel.STRONG
    return BarrierLevel.MODERATE if draw < 0.7 else BarrierLevel.NO_IMPACT


def pathway_type_for(levels: dict[int, BarrierLevel], heavy: frozenset[int] = frozenset()) -> str:
    """Two strong barriers, a strong and a moderate one, or a strong one of a ``heavy``
    category (health, housing...; by id): social; one strong or two moderate:
    socio-professional; otherwise professional."""
    strong = sum(1 for level in levels.values() if level is BarrierLevel.STRONG)
    moderate = sum(1 for level in levels.values() if level is BarrierLevel.MODERATE)
    heavy_strong = any(levels.get(category) is BarrierLevel.STRONG for category in heavy)
    if strong >= 2 or (strong and moderate) or heavy_strong:
        return SOCIAL
    if strong == 1 or moderate >= 2:
        return SOCIO_PROFESSIONAL
    return PROFESSIONAL


def decision_rows(
    person: Pathway, network: Network, now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The decisions of ``person`` and their criteria, as rows."""
    rng = random.Random(person.id.int ^ 0x0D15)  # noqa: S311 - fictional data
    if rng.random() >= DECIDED_RATE:
        return [], []
    categories = network.refs[ReferenceKind.BARRIER_CATEGORY]
    barriers = [
        BarrierAtDate(
            categories[b.category], barrier_level(b.id, b.category), b.identified_on, b.closed_on
        )
        for b in person.barriers
    ]
    types = network.refs[ReferenceKind.PATHWAY_TYPE]
    heavy = frozenset(categories[code] for code in HEAVY if code in categories)
    first = person.start + timedelta(days=round(rng.triangular(1, 60, 10)))
    days: list[tuple[date, str | None, DecisionReason]] = [
        (first, None, DecisionReason.FIRST_ORIENTATION)
    ]
    if rng.random() < CHANGE_RATE:
        reason = rng.choice([DecisionReason.BARRIERS_LIFTED, DecisionReason.NEW_BARRIER,
                             DecisionReason.REVIEW])  # fmt: skip
        days.append((first + timedelta(days=rng.randint(60, 180)), "change", reason))
    decisions: list[dict[str, Any]] = []
    criteria: list[dict[str, Any]] = []
    previous = None
    for day, change, reason in days:
        if day >= person.today:
            break
        levels = criteria_on(barriers, day)
        code = pathway_type_for(levels, heavy)
        if change and code == previous:  # a change: another type than the last one
            code = PROFESSIONAL if previous != PROFESSIONAL else SOCIO_PROFESSIONAL
        previous = code
        decision_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        decisions.append(
            {
                "id": decision_id,
                "beneficiary_id": person.id,
                "structure_id": network.ids[person.entry],
                "pathway_type_id": types[code],
                "decided_on": day,
                "reason": reason,
                "recorded_by_id": network.caseworkers[person.entry],
                "created_at": now,
            }
        )
        criteria += [
            {"decision_id": decision_id, "category_id": category, "level": level}
            for category, level in sorted(levels.items())
        ]
    return decisions, criteria
