"""A random world of pathways, and the stage flows and cohort outcomes counted from its
records in plain Python: what the grouped SQL must equal, cell by cell."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from app.domain.handoffs import HandoffStatus
from app.domain.pathway import BarrierStatus
from app.domain.periods import Quarter
from app.models import Barrier, Handoff, PathwayStep, ReferenceItem, ReferenceKind
from app.services.statistics.cohorts import HORIZON_DAYS, NOT_REACHED
from app.services.statistics.flows import FINAL_STAGES, LOST_AFTER_DAYS
from tests.world import World, at

STAGES = ("orientation", "barriers", "training", "employment", "exit_other")


def add_step(world: World, person_id: uuid.UUID, stage: str, day: date, n: int) -> None:
    """A step recorded at a distinct moment (``n``): steps of one day keep a known order."""
    world.session.add(
        PathwayStep(
            beneficiary_id=person_id,
            structure_id=world.a.id,
            stage_id=world.ref(ReferenceKind.STAGE, stage).id,
            started_on=day,
            created_at=datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=n),
        )
    )


def random_world(world: World, seed: int, people: int = 50) -> list[uuid.UUID]:
    """People with 1 to 6 steps between mid-2025 and early 2027 (same days, repeats), a few
    barriers and hand-offs; a third in the cohort ``single_parent``, a third followed by C."""
    rng = random.Random(seed)
    ids = []
    n = 0
    for i in range(people):
        person = world.person(cohorts=("single_parent",) if i % 3 == 0 else ("young_dropout",))
        if i % 3 == 1:
            world.follow(person, world.c)
        ids.append(person.id)
        day = date(2025, 6, 1) + timedelta(days=rng.randrange(0, 560))
        for _ in range(rng.randint(1, 6)):
            n += 1
            add_step(world, person.id, rng.choice(STAGES), day, n)
            day += timedelta(days=rng.choice((0, 0, 3, 40, 100, 200)))
        if rng.random() < 0.3:
            seen = date(2026, 1, 1) + timedelta(days=rng.randrange(0, 365))
            world.barrier(person, "mobility", BarrierStatus.IDENTIFIED, seen, None)
        if rng.random() < 0.3:
            sent = date(2026, 1, 1) + timedelta(days=rng.randrange(0, 365))
            world.handoff(person, world.a, world.b, HandoffStatus.SENT, at(sent))
    world.session.flush()
    return ids


@dataclass
class Records:
    steps: dict[uuid.UUID, list[tuple[date, datetime, str]]]
    barriers: dict[uuid.UUID, list[date]]
    handoffs: dict[uuid.UUID, list[date]]


def records(world: World, people: set[uuid.UUID]) -> Records:
    code = {item.id: item.code for item in world.session.scalars(select(ReferenceItem))}
    steps: dict[uuid.UUID, list[tuple[date, datetime, str]]] = defaultdict(list)
    for s in world.session.scalars(select(PathwayStep)):
        if s.beneficiary_id in people:
            steps[s.beneficiary_id].append((s.started_on, s.created_at, code[s.stage_id]))
    barriers: dict[uuid.UUID, list[date]] = defaultdict(list)
    for b in world.session.scalars(select(Barrier)):
        barriers[b.beneficiary_id].append(b.identified_on)
    handoffs: dict[uuid.UUID, list[date]] = defaultdict(list)
    for h in world.session.scalars(select(Handoff)):
        handoffs[h.beneficiary_id].append(h.sent_at.astimezone(UTC).date())
    return Records(steps, barriers, handoffs)


def expected_flows(
    found: Records, start: date, end: date, today: date
) -> dict[tuple[str, str], int]:
    as_of = min(end, today)
    cutoff = as_of - timedelta(days=LOST_AFTER_DAYS)
    transitions: dict[tuple[str, str], set[uuid.UUID]] = defaultdict(set)
    ends: dict[tuple[str, str], int] = defaultdict(int)
    for person, steps in found.steps.items():
        ordered = sorted((s for s in steps if s[0] <= end), key=lambda s: (s[0], s[1]))
        merged = [s for i, s in enumerate(ordered) if i == 0 or ordered[i - 1][2] != s[2]]
        for before, after in zip(merged, merged[1:], strict=False):
            if start <= after[0] <= end:
                transitions[(before[2], after[2])].add(person)
        if not ordered or ordered[-1][0] < start:
            continue
        last_on, stage = max(s[0] for s in ordered), merged[-1][2]
        recent = list(found.barriers.get(person, []) + found.handoffs.get(person, []))
        lost = (
            stage not in FINAL_STAGES
            and last_on < cutoff
            and not any(cutoff <= d <= as_of for d in recent)
        )
        ends[(stage, "lost" if lost else "stayed")] += 1
    result = {pair: len(people) for pair, people in transitions.items()}
    result.update(ends)
    return result


def expected_cohorts(
    found: Records, start: date, end: date, today: date
) -> dict[tuple[Quarter, str, int], int]:
    """(quarter, "training" or "employment", band) -> entrants; bands folded as published."""
    result: dict[tuple[Quarter, str, int], int] = defaultdict(int)
    for steps in found.steps.values():
        entered = min(s[0] for s in steps)
        if not start <= entered <= end:
            continue
        quarter = Quarter.of(entered)
        last = min(quarter.ends_on, end)
        elapsed = sum(1 for d in HORIZON_DAYS if last + timedelta(days=d) < today)
        for stage in ("training", "employment"):
            days = [(s[0] - entered).days for s in steps if s[2] == stage]
            band = NOT_REACHED
            if days:
                band = next((b for b, d in enumerate(HORIZON_DAYS) if min(days) <= d), NOT_REACHED)
            result[(quarter, stage, band if band < elapsed else NOT_REACHED)] += 1
    return dict(result)
