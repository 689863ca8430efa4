"""The indicators read the day things happened (effective dates), not the day they were
recorded: a first contact made two days after the sending counts two days, even if the
caseworker recorded it a fortnight later."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.domain.handoffs import HandoffStatus
from app.services.statistics import pathway_export
from app.services.statistics.dashboard import dashboard
from app.services.statistics.headings import Heading
from app.services.statistics.scope import DashboardFilters, Scope, resolve_scope
from tests import factories
from tests.world import END, START, World, at

SENT = at(date(2026, 4, 1))
LATE = SENT + timedelta(days=15)  # when the receiver caught up with its records


def _caught_up(world: World, status: HandoffStatus, answer: int, contact: int) -> None:
    """A hand-off accepted ``answer`` days and contacted ``contact`` days after it was sent,
    both recorded a fortnight after the sending."""
    handoff = world.handoff(
        world.person(), world.a, world.b, status, SENT, answered_after=15, contact_after=15
    )
    assert handoff.answered_at == handoff.first_contact_at == LATE
    handoff.answered_on = SENT.date() + timedelta(days=answer)
    handoff.first_contact_on = SENT.date() + timedelta(days=contact)
    if status is HandoffStatus.COMPLETED:
        handoff.closed_on = SENT.date() + timedelta(days=contact + 1)


def test_delays_count_to_the_day_the_answer_and_the_contact_happened(world: World) -> None:
    _caught_up(world, HandoffStatus.IN_PROGRESS, answer=1, contact=2)
    _caught_up(world, HandoffStatus.IN_PROGRESS, answer=3, contact=4)
    world.session.flush()
    scope = resolve_scope(
        world.session, DashboardFilters(start=START, end=END), today=factories.TODAY
    )
    times = {t.structure: t for t in dashboard(world.session, scope, k=1).receiver_times}
    # Read from the recording moments, both would be 15 days.
    assert times[world.b].to_answer == pytest.approx(2.0)  # 1 and 3 days
    assert times[world.b].to_first_contact == pytest.approx(3.0)  # 2 and 4 days
    assert times[Heading.ALL_STRUCTURES].to_first_contact == pytest.approx(3.0)


def test_the_pathway_export_ends_a_hand_off_on_the_day_it_closed(world: World) -> None:
    _caught_up(world, HandoffStatus.COMPLETED, answer=1, contact=2)
    world.session.flush()
    lines = list(
        pathway_export.pathway_lines(
            world.session, Scope(start=START, end=END), today=factories.TODAY
        )
    )
    handoff = next(x for x in lines if x.event == "handoff")
    assert (handoff.day, handoff.end_day) == (date(2026, 4, 1), date(2026, 4, 4))
