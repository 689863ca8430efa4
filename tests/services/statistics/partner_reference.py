"""A structure's hand-off figures as they were counted before ``partner_queries``'s one pass
(the dashboard's hand-offs grouped by quarter, sender, receiver, state and reason; the answers
in time by receiver; the delay medians of every receiver), kept to check that the new queries
give the same raw counts and medians."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.models import Handoff, ReferenceItem, Structure
from app.services.statistics import partner_queries as pq
from app.services.statistics.headings import GROUP_OF_CODE, HandoffGroup, Label, Metric
from app.services.statistics.partner import IN_TIME_OF_CLASS, NoReason, Side
from app.services.statistics.queries import (
    ALL_RECEIVERS,
    delay_group,
    handoff_durations,
    handoffs_query,
)
from app.services.statistics.scope import Scope, handoffs_in
from app.services.statistics.sql import uses_percentile
from app.services.statistics.tables import Counts
from tests.services.statistics.delay_reference import _medians


def answers_in_time_query(scope: Scope, today: date) -> Select[int, int, int]:
    """The old query: hand-offs of the period by receiver and in-time class."""
    in_time = pq.in_time_class(today)
    return (
        select(Handoff.to_structure_id, in_time, func.count())
        .where(*handoffs_in(scope))
        .group_by(Handoff.to_structure_id, in_time)
    )


def old_counts(
    session: Session,
    structure: Structure,
    scope: Scope,
    reasons: list[ReferenceItem],
    today: date,
) -> tuple[Counts, Counts, Counts, Counts, dict[tuple[Metric, bool], tuple[float, int]]]:
    reason_of = {item.id: item for item in reasons}
    received: Counts = defaultdict(int)
    sent: Counts = defaultdict(int)
    network_sent: Counts = defaultdict(int)
    for _quarter, from_id, to_id, code, reason_id, count in session.execute(handoffs_query(scope)):
        group = GROUP_OF_CODE[code]
        side = Side.THIS_STRUCTURE if to_id == structure.id else Side.REST_OF_NETWORK
        received[(side, group)] += count
        row: Label = NoReason.NONE
        if group is HandoffGroup.DECLINED and reason_id is not None:
            row = reason_of[reason_id]
        network_sent[(row, group)] += count
        if from_id == structure.id:
            sent[(row, group)] += count
    in_time: Counts = defaultdict(int)
    for to_id, found, count in session.execute(answers_in_time_query(scope, today)):
        side = Side.THIS_STRUCTURE if to_id == structure.id else Side.REST_OF_NETWORK
        in_time[(side, IN_TIME_OF_CLASS[found])] += count
    durations = handoff_durations(scope)
    delays = {
        group: (round(float(value), 6), n)
        for group, value, n in session.execute(
            _medians(durations.c.grp, durations.c.answer, percentile=uses_percentile(session))
        )
    }
    medians = {}
    for metric in (Metric.TO_ANSWER, Metric.TO_FIRST_CONTACT):
        for network, key in ((True, ALL_RECEIVERS), (False, structure.id)):
            found = delays.get(delay_group(metric, key))
            if found is not None:
                medians[(metric, network)] = found
    return dict(received), dict(sent), dict(network_sent), dict(in_time), medians
