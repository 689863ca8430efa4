"""The grouped queries of a partner's own figures (``partner``).

Each reads the period once and returns a few groups, never a person: the hand-offs by whether
this structure received and sent them, state, decline reason and whether they were answered
within ten days (``handoff_counts_query``: the received, sent and answered-in-time tables in one
pass); the whole days they took to be answered and to a first contact, by whether this
structure received them (``delay_days_query``: the medians of this structure and of the
network, from their histograms); and the furthest stage the people followed reached
(``furthest_stage_query``).

The network's columns need every hand-off of the period, and this structure's are part of
them: one pass over the period gives both (reading this structure's hand-offs along its
inbox and outbox indexes as well would read them twice). See docs/scaling.md, "Dashboards
and figures at 100,000 people".
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union_all,
)

from app.domain.handoffs import HandoffStatus
from app.models import FollowUp, Handoff, PathwayStep
from app.services.statistics.scope import Scope, handoffs_in
from app.services.statistics.sql import days_between, utc_date

# Days a receiver has to answer a hand-off, from the (UTC) day it was sent.
ANSWER_DAYS = 10

# The classes of ``in_time_class`` (a column of ``handoff_counts_query``).
WITHIN, LATE, NOT_DUE = 1, 2, 3
# The furthest stage of ``furthest_stage_query`` (its second column): 0 neither.
REACHED_TRAINING, REACHED_EMPLOYMENT = 1, 2


def in_time_class(today: date) -> ColumnElement[int]:
    """``WITHIN``: answered (accepted, declined or redirected) by the tenth day after the day of
    sending; ``NOT_DUE``: not answered, and withdrawn by its sender or sent less than ten days
    before ``today`` (its receiver still has time); ``LATE``: every other one (answered after
    the tenth day, or never)."""
    sent_day = utc_date(Handoff.sent_at)
    recent = datetime.combine(today - timedelta(days=ANSWER_DAYS), time.min, tzinfo=UTC)
    answered = Handoff.answered_on.is_not(None)
    return case(
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


def handoff_counts_query(
    scope: Scope, structure_id: int, today: date
) -> Select[int, int, str, int | None, int, int]:
    """Hand-offs sent in the period by (received by ``structure_id``: 1 or 0, sent by it: 1 or
    0, state as stored, decline reason, ``in_time_class``), with a count."""
    received = case((Handoff.to_structure_id == structure_id, 1), else_=0)
    sent = case((Handoff.from_structure_id == structure_id, 1), else_=0)
    status = type_coerce(Handoff.status, String)  # its stored text, mapped once per code
    in_time = in_time_class(today)
    return (
        select(received, sent, status, Handoff.decline_reason_id, in_time, func.count())
        .where(*handoffs_in(scope))
        .group_by(received, sent, status, Handoff.decline_reason_id, in_time)
    )


TO_ANSWER, TO_FIRST_CONTACT = 1, 2  # the metrics of ``delay_days_query`` (its first column)


def delay_days_query(scope: Scope, structure_id: int) -> Select[int, int, float, int]:
    """(metric, received by ``structure_id``: 1 or 0, whole days, hand-offs): the answered
    hand-offs of the period by the days from the (UTC) day of sending to the answer
    (``TO_ANSWER``) and to the first contact (``TO_FIRST_CONTACT``), their effective days,
    as ``queries.handoff_delays_query`` measures them."""
    sent_day = utc_date(Handoff.sent_at)
    received = case((Handoff.to_structure_id == structure_id, 1), else_=0)
    answered = [Handoff.answered_on.is_not(None), *handoffs_in(scope)]
    to_answer = days_between(sent_day, Handoff.answered_on)
    to_contact = days_between(sent_day, Handoff.first_contact_on)
    found = union_all(
        select(
            literal(TO_ANSWER).label("metric"),
            received.label("received"),
            to_answer.label("days"),
        ).where(*answered),
        select(literal(TO_FIRST_CONTACT), received, to_contact).where(
            *answered, Handoff.first_contact_on.is_not(None)
        ),
    ).subquery()
    f = found.c
    return select(f.metric, f.received, f.days, func.count()).group_by(f.metric, f.received, f.days)


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
