"""The grouped queries of a partner's own figures (``partner``) that the dashboard has not.

The hand-offs by sender, receiver, state and reason, and the delays to answer, come from the
dashboard's own queries (``queries.handoffs_query``, ``queries.handoff_delays_query``); here
are the answers within ten days and the furthest stage the people followed reached. Each
returns a few groups, never a person.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, and_, case, func, literal, or_, select

from app.domain.handoffs import HandoffStatus
from app.models import FollowUp, Handoff, PathwayStep
from app.services.statistics.scope import Scope, handoffs_in
from app.services.statistics.sql import days_between, utc_date

# Days a receiver has to answer a hand-off, from the (UTC) day it was sent.
ANSWER_DAYS = 10

# The classes of ``answers_in_time_query`` (its second column).
WITHIN, LATE, NOT_DUE = 1, 2, 3
# The furthest stage of ``furthest_stage_query`` (its second column): 0 neither.
REACHED_TRAINING, REACHED_EMPLOYMENT = 1, 2


def answers_in_time_query(scope: Scope, today: date) -> Select[int, int, int]:
    """Hand-offs sent in the period by receiver and whether they were answered in time.

    ``WITHIN``: answered (accepted, declined or redirected) by the tenth day after the day of
    sending; ``NOT_DUE``: not answered, and withdrawn by its sender or sent less than ten days
    before ``today`` (its receiver still has time); ``LATE``: every other one (answered after
    the tenth day, or never).
    """
    sent_day = utc_date(Handoff.sent_at)
    recent = datetime.combine(today - timedelta(days=ANSWER_DAYS), time.min, tzinfo=UTC)
    answered = Handoff.answered_on.is_not(None)
    in_time = case(
        (
            and_(answered, days_between(sent_day, Handoff.answered_on) <= ANSWER_DAYS),
            literal(WITHIN),
        ),
        (
            and_(
                Handoff.answered_on.is_(None),
                or_(Handoff.status == HandoffStatus.WITHDRAWN, Handoff.sent_at >= recent),
            ),
            literal(NOT_DUE),
        ),
        else_=literal(LATE),
    )
    return (
        select(Handoff.to_structure_id, in_time, func.count())
        .where(*handoffs_in(scope))
        .group_by(Handoff.to_structure_id, in_time)
    )


def furthest_stage_query(
    scope: Scope, structure_id: int, training: int, employment: int
) -> Select[int, int, int]:
    """People followed during the period, by whether ``structure_id`` followed them (1) or
    only other structures (0), and the furthest stage they started in the period
    (``REACHED_EMPLOYMENT``, ``REACHED_TRAINING``, 0: neither), with a count.

    Followed during the period: a follow-up started by its last day and not ended before its
    first day. The stages count whoever recorded them.
    """
    followed = (
        select(
            FollowUp.beneficiary_id.label("person"),
            func.max(case((FollowUp.structure_id == structure_id, 1), else_=0)).label("here"),
        )
        .where(
            FollowUp.started_on <= scope.end,
            or_(FollowUp.ended_on.is_(None), FollowUp.ended_on >= scope.start),
        )
        .group_by(FollowUp.beneficiary_id)
        .subquery()
    )
    furthest = (
        select(
            PathwayStep.beneficiary_id.label("person"),
            func.max(
                case(
                    (PathwayStep.stage_id == employment, REACHED_EMPLOYMENT),
                    else_=REACHED_TRAINING,
                )
            ).label("stage"),
        )
        .where(
            PathwayStep.stage_id.in_([training, employment]),
            PathwayStep.started_on >= scope.start,
            PathwayStep.started_on <= scope.end,
        )
        .group_by(PathwayStep.beneficiary_id)
        .subquery()
    )
    stage = func.coalesce(furthest.c.stage, 0)
    return (
        select(followed.c.here, stage, func.count())
        .select_from(followed.outerjoin(furthest, furthest.c.person == followed.c.person))
        .group_by(followed.c.here, stage)
    )
