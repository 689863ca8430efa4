"""The people an audit event lists, findable person by person.

A page that displays many people (a caseload, search results, an inbox) is audited by one
event whose ``data["people"]`` lists them, in the order shown (``audit.record_many``). The
MAC covers that list like any other column. ``audit_event_people`` holds one row per (person,
event ``seq``), written with the event, so that "who looked at my data" stays one indexed
lookup: a person's events are those whose ``beneficiary_id`` is the person, and those that
list them (``about_person``).

The index is derived from MAC-covered data, so ``index_mismatch`` (run by ``audit verify``)
checks that it holds exactly the listed people: a row removed from the index (hiding a
consultation from the person's history) or added to it is reported at its event's ``seq``.
Triggers refuse UPDATE and DELETE on the table, like on the log.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any, cast

from sqlalchemy import Select, Table, func, select, union
from sqlalchemy.orm import Session

from app.models import AuditEvent, AuditEventPerson

PEOPLE = cast(Table, AuditEventPerson.__table__)
_EVENTS = cast(Table, AuditEvent.__table__)
LIST_KEY = "people"
CHECK_BATCH = 2000


def listed(data: Mapping[str, Any] | None) -> list[uuid.UUID]:
    """The people an event's ``data`` lists (none for an event about one person)."""
    values = (data or {}).get(LIST_KEY)
    if not isinstance(values, list):
        return []
    return [uuid.UUID(str(value)) for value in values]


def index_rows(chained: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The ``audit_event_people`` rows of chained events (with their ``seq``)."""
    return [
        {"seq": row["seq"], "beneficiary_id": person}
        for row in chained
        for person in listed(row.get("data"))
    ]


def about_person(person_id: uuid.UUID) -> Select[tuple[int]]:
    """The ``seq`` of every event about the person: its own events and the lists naming it.
    Both halves use an index (``ix_audit_events_beneficiary_at``, the index table's key)."""
    own = select(_EVENTS.c.seq).where(_EVENTS.c.beneficiary_id == person_id)
    lists = select(PEOPLE.c.seq).where(PEOPLE.c.beneficiary_id == person_id)
    return select(union(own, lists).subquery().c.seq)


def index_mismatch(
    session: Session, *, batch: int = CHECK_BATCH, start: int = 1, stop: int | None = None
) -> int | None:
    """The first ``seq`` from ``start`` (to ``stop``, else to the end) where
    ``audit_event_people`` differs from the lists of the events (a listed person missing, a
    person added), or None when it matches them exactly. Checked to the end, index rows after
    the last event or before the first kept one (pruned months take their index rows with
    them) are reported too."""
    last = start - 1
    while True:
        query = select(_EVENTS.c.seq, _EVENTS.c.data).where(_EVENTS.c.seq > last)
        if stop is not None:
            query = query.where(_EVENTS.c.seq <= stop)
        page = session.execute(query.order_by(_EVENTS.c.seq).limit(batch)).all()
        if not page:
            break
        low, high = int(page[0].seq), int(page[-1].seq)
        expected = {(int(row.seq), person) for row in page for person in listed(row.data)}
        found = {
            (int(seq), person)
            for seq, person in session.execute(
                select(PEOPLE.c.seq, PEOPLE.c.beneficiary_id).where(PEOPLE.c.seq.between(low, high))
            )
        }
        if expected != found:
            return min(seq for seq, _ in expected ^ found)
        last = high
        if len(page) < batch:
            break
    if stop is not None:
        return None
    # Index rows outside the log's places (before its first row or after its last).
    first = session.execute(select(func.min(_EVENTS.c.seq))).scalar()
    stray = session.execute(
        select(func.min(PEOPLE.c.seq)).where(
            (PEOPLE.c.seq > last) | (PEOPLE.c.seq < (first if first is not None else 1))
        )
    ).scalar()
    return int(stray) if stray is not None else None
