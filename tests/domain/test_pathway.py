"""Barrier statuses and the order of pathway stages."""

from __future__ import annotations

import itertools

import pytest

from app.domain.pathway import (
    CLOSED_BARRIER_STATUSES,
    STAGE_ORDER,
    BarrierStatus,
    barrier_can_move,
    stage_rank,
)

# Written out by hand: from each status, where a barrier may go next.
EXPECTED_MOVES: dict[str, set[str]] = {
    "identified": {"in_progress", "lifted", "not_addressed"},
    "in_progress": {"lifted", "persisting", "not_addressed"},
    # A closed barrier can be re-opened: stages are not strictly linear.
    "lifted": {"in_progress"},
    "persisting": {"in_progress"},
    "not_addressed": {"in_progress"},
}

EVERY_PAIR = list(itertools.product(BarrierStatus, BarrierStatus))


@pytest.mark.parametrize(
    ("current", "target"), EVERY_PAIR, ids=[f"{a.value}-{b.value}" for a, b in EVERY_PAIR]
)
def test_barrier_moves(current: BarrierStatus, target: BarrierStatus) -> None:
    assert barrier_can_move(current, target) is (target.value in EXPECTED_MOVES[current.value])


def test_every_barrier_status_is_covered() -> None:
    assert {s.value for s in BarrierStatus} == set(EXPECTED_MOVES)


def test_closed_barrier_statuses() -> None:
    assert {s.value for s in CLOSED_BARRIER_STATUSES} == {"lifted", "persisting", "not_addressed"}
    assert [s for s in BarrierStatus if not s.is_closed] == [
        BarrierStatus.IDENTIFIED,
        BarrierStatus.IN_PROGRESS,
    ]


def test_a_barrier_never_moves_to_its_own_status() -> None:
    assert not any(barrier_can_move(status, status) for status in BarrierStatus)


def test_stage_order() -> None:
    assert STAGE_ORDER == ("orientation", "barriers", "training", "employment", "exit_other")
    assert [stage_rank(code) for code in STAGE_ORDER] == [0, 1, 2, 3, 4]
    assert stage_rank("added_by_an_admin") == len(STAGE_ORDER)
