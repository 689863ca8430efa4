"""The delays page's one statement (``delays_query``: every leg, counts and days by group)
gives the counts and medians of the eight statements it replaced (``delay_reference``), on a
random world: several structures, cohorts and QPVs, decisions before and after the first
follow-up, hand-offs answered, contacted, open, withdrawn."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from datetime import date, timedelta

import pytest

from app.domain.handoffs import HandoffStatus
from app.models import FollowUp, OrientationDecision, ReferenceItem, ReferenceKind
from app.services.statistics.delay_queries import LEGS, delays_query
from app.services.statistics.scope import DashboardFilters, resolve_scope
from app.services.statistics.sql import uses_percentile
from app.services.statistics.tables import histogram_median
from tests import factories
from tests.services.statistics import delay_reference
from tests.world import END, START, World, at

TODAY = factories.TODAY
STATUSES = (
    HandoffStatus.SENT,
    HandoffStatus.ACCEPTED,
    HandoffStatus.IN_PROGRESS,
    HandoffStatus.COMPLETED,
    HandoffStatus.DECLINED,
    HandoffStatus.WITHDRAWN,
    HandoffStatus.REDIRECTED,
)

Found = tuple[dict[tuple[int, int, int], int], dict[tuple[int, int], tuple[float, int]]]


def random_delays_world(world: World, seed: int) -> None:
    rng = random.Random(seed)
    qpv = ReferenceItem(
        kind=ReferenceKind.QPV, code="QP-VANTERIAN", label_fr="Q", label_en="Q", position=1
    )
    world.session.add(qpv)
    world.session.flush()
    cohorts = (("young_dropout",), ("single_parent",), ("young_dropout", "rsa"), ())
    structures = (world.a, world.b, world.c)
    for i in range(60):
        person = world.person(cohorts=cohorts[i % 4], qpv=qpv if i % 3 == 0 else None)
        registered = date(2025, 10, 1) + timedelta(days=rng.randrange(0, 450))
        world.session.add(
            FollowUp(
                beneficiary_id=person.id,
                structure_id=rng.choice(structures).id,
                started_on=registered,
            )
        )
        if rng.random() < 0.7:
            world.session.add(
                OrientationDecision(
                    id=uuid.uuid4(),
                    beneficiary_id=person.id,
                    structure_id=world.a.id,
                    pathway_type_id=world.ref(ReferenceKind.PATHWAY_TYPE, "professional").id,
                    decided_on=registered + timedelta(days=rng.randrange(-20, 90)),
                )
            )
        for _ in range(rng.randint(0, 3)):
            sender, receiver = rng.sample(structures, 2)
            status = rng.choice(STATUSES)
            answered = None
            contact = None
            if status not in (HandoffStatus.SENT, HandoffStatus.WITHDRAWN) or rng.random() < 0.2:
                answered = rng.randrange(0, 45)
            if status in (HandoffStatus.IN_PROGRESS, HandoffStatus.COMPLETED) and answered:
                contact = answered + rng.randrange(0, 50)
            sent = date(2025, 12, 1) + timedelta(days=rng.randrange(0, 380))
            world.handoff(
                person,
                sender,
                receiver,
                status,
                at(sent),
                answered_after=answered,
                contact_after=contact,
                reason="no_capacity" if status is HandoffStatus.DECLINED else None,
            )
    world.session.flush()


def eight_statements(world: World, target: int, contract: int) -> Found:
    scope = resolve_scope(world.session, DashboardFilters(start=START, end=END), today=TODAY)
    counts: dict[tuple[int, int, int], int] = defaultdict(int)
    medians: dict[tuple[int, int], tuple[float, int]] = {}
    percentile = uses_percentile(world.session)
    for code, leg in enumerate(LEGS):
        query = delay_reference.counts_query(
            scope, leg, today=TODAY, target=target, contract=contract
        )
        for group, band, n in world.session.execute(query):
            counts[(code, int(group), int(band))] += n
        query = delay_reference.medians_query(scope, leg, today=TODAY, percentile=percentile)
        for group, value, n in world.session.execute(query):
            medians[(code, int(group))] = (round(float(value), 6), int(n))
    return dict(counts), medians


def one_statement(world: World, target: int, contract: int) -> Found:
    scope = resolve_scope(world.session, DashboardFilters(start=START, end=END), today=TODAY)
    counts: dict[tuple[int, int, int], int] = defaultdict(int)
    days: dict[tuple[int, int], list[tuple[float, int]]] = defaultdict(list)
    query = delays_query(scope, today=TODAY, target=target, contract=contract)
    for code, group, band, taken, n in world.session.execute(query):
        counts[(int(code), int(group), int(band))] += n
        if taken is not None:
            days[(int(code), int(group))].append((float(taken), n))
    medians = {}
    for key, found in days.items():
        sample = histogram_median(found)
        if sample is not None:
            medians[key] = (round(sample[0], 6), sample[1])
    return dict(counts), medians


@pytest.mark.parametrize("seed", [7, 2026])
def test_one_statement_gives_what_the_eight_gave(world: World, seed: int) -> None:
    random_delays_world(world, seed)
    for target, contract in ((15, 30), (3, 10)):
        old_counts, old_medians = eight_statements(world, target, contract)
        new_counts, new_medians = one_statement(world, target, contract)
        assert sum(old_counts.values()) > 200  # the world is not empty
        assert new_counts == old_counts
        assert new_medians == old_medians
