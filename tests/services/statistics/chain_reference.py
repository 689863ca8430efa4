"""Chains of redirects: a random world of them, and the query that counted them before
``queries.chains_query`` (one recursive walk from every hand-off of the period), kept to check
that the new one gives the same counts."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import Select, case, func, literal, select

from app.domain.handoffs import HandoffStatus
from app.models import Handoff
from app.services.statistics.scope import Scope, handoffs_in
from tests.world import World, at

ENDS = (
    HandoffStatus.SENT,
    HandoffStatus.ACCEPTED,
    HandoffStatus.COMPLETED,
    HandoffStatus.DECLINED,
    HandoffStatus.WITHDRAWN,
    HandoffStatus.EXPIRED,
)


def random_chains(world: World, seed: int, chains: int = 60) -> None:
    """Chains of 1 to 6 hand-offs, started from late 2025 to early 2027 (some before or after
    the period), each redirect a few days after the one it redirects."""
    rng = random.Random(seed)
    structures = (world.a, world.b, world.c)
    for _ in range(chains):
        person = world.person()
        sent = date(2025, 11, 1) + timedelta(days=rng.randrange(0, 480))
        length = rng.choice((1, 1, 1, 2, 2, 3, 4, 6))
        parent = None
        for position in range(length):
            sender, receiver = rng.sample(structures, 2)
            last = position == length - 1
            status = rng.choice(ENDS) if last else HandoffStatus.REDIRECTED
            answered = (
                None
                if status in (HandoffStatus.SENT, HandoffStatus.WITHDRAWN, HandoffStatus.EXPIRED)
                else 2
            )
            parent = world.handoff(
                person,
                sender,
                receiver,
                status,
                at(sent),
                answered_after=answered,
                contact_after=3 if status is HandoffStatus.COMPLETED else None,
                reason="no_capacity" if status is HandoffStatus.DECLINED else None,
                parent=parent,
            )
            sent += timedelta(days=rng.randrange(1, 20))
    world.session.flush()


def old_chains_query(scope: Scope) -> Select[int, int, int]:
    """Chains of redirects started in the period: their length and how they ended.

    A chain starts with a hand-off that no redirect created; each redirect adds one. Only the
    last hand-off of a chain is not ``redirected``, so its state is the chain's end.
    """
    end_code = case(
        (
            Handoff.status.in_(
                [
                    HandoffStatus.ACCEPTED,
                    HandoffStatus.IN_PROGRESS,
                    HandoffStatus.COMPLETED,
                    HandoffStatus.NOT_COMPLETED,
                ]
            ),
            3,
        ),
        (Handoff.status == HandoffStatus.SENT, 2),
        (Handoff.status == HandoffStatus.REDIRECTED, 0),
        else_=1,
    )
    roots = (
        select(
            Handoff.id.label("root"),
            Handoff.id.label("id"),
            literal(1).label("depth"),
            end_code.label("end_code"),
        )
        .where(Handoff.parent_id.is_(None), *handoffs_in(scope))
        .cte("chain", recursive=True)
    )
    chain = roots.union_all(
        select(roots.c.root, Handoff.id, roots.c.depth + 1, end_code).where(
            Handoff.parent_id == roots.c.id
        )
    )
    per_chain = (
        select(
            func.max(chain.c.depth).label("length"),
            func.max(chain.c.end_code).label("end_code"),
        )
        .group_by(chain.c.root)
        .subquery()
    )
    capped = case((per_chain.c.length >= 4, 4), else_=per_chain.c.length)
    return select(capped, per_chain.c.end_code, func.count()).group_by(capped, per_chain.c.end_code)
