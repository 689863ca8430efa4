"""Keyset pagination: a page of a list starts after (or ends before) the keys of a row.

A list is ordered by ``SortKey`` columns, the last of which is unique (a tie breaker, such as
the id), so that every row has one place. The next page is the rows strictly after the last
row's keys, the previous page the rows strictly before the first row's keys: with an index on
the keys, the database reads the page's rows and stops, whatever the page's number and the
size of the table (an ``OFFSET`` reads and drops every row before the page).

Cursors are opaque to the user (base64url of a small JSON object of strings, the shape of the
API's cursors) and checked when read: a cursor that was not given by Relais, or was given for
another order, is ``InvalidInput``, never a server error. They hold the keys of one row -
dates, ranks and ids, never an identity - and its position in the list (``n``), which gives
the page's number when the list is too long to count (``COUNT_LIMIT``).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import QueryableAttribute, Session

from app.services.errors import N_, InvalidInput

_NOT_OURS = N_("This cursor was not given by Relais.")
MAX_CURSOR = 400  # characters: far more than any cursor Relais gives
# Rows a list counts exactly (40 pages of the caseload): a longer list is "more than 1,000",
# so that a page costs the same whatever the size of the caseload.
COUNT_LIMIT = 1000


def encode_cursor(values: dict[str, str]) -> str:
    raw = json.dumps(values, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, fields: tuple[str, ...], *, field: str) -> dict[str, str]:
    """The values of a cursor made by ``encode_cursor``; ``InvalidInput`` naming ``field``
    for anything else."""
    values: object = None
    if len(cursor) <= MAX_CURSOR:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            values = json.loads(raw.decode())
        except (binascii.Error, ValueError, UnicodeDecodeError):
            values = None
    if not isinstance(values, dict) or set(values) != set(fields):
        raise InvalidInput(_NOT_OURS, field=field)
    if not all(isinstance(values[name], str) for name in fields):
        raise InvalidInput(_NOT_OURS, field=field)
    return values


class Kind(StrEnum):
    """How a key's value is written in a cursor."""

    MOMENT = "moment"  # a tz-aware datetime, ISO 8601
    DAY = "day"  # a date, ISO 8601
    NUMBER = "number"  # an integer
    ID = "id"  # a UUID, hex


def _written(kind: Kind, value: Any) -> str:
    if kind is Kind.ID:
        return str(value.hex)
    if kind is Kind.NUMBER:
        return str(int(value))
    return str(value.isoformat())


def _read(kind: Kind, text: str) -> Any:
    """The value ``text`` writes, ``ValueError`` when it is not one of ``kind``."""
    if kind is Kind.ID:
        return uuid.UUID(hex=text)
    if kind is Kind.NUMBER:
        if not text.lstrip("-").isascii() or not text.lstrip("-").isdigit() or len(text) > 12:
            raise ValueError(text)
        return int(text)
    if kind is Kind.DAY:
        return date.fromisoformat(text)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(text)
    return moment


@dataclass(frozen=True)
class SortKey:
    """One column of a list's order; never NULL (``coalesce`` a nullable one)."""

    column: ColumnElement[Any] | QueryableAttribute[Any]
    kind: Kind
    descending: bool = False


@dataclass(frozen=True)
class Window:
    """Which page a request asks for: after a cursor, before one, or by number (``OFFSET``:
    links typed by hand and older bookmarks)."""

    page: int = 1
    after: str | None = None
    before: str | None = None


FIRST_PAGE = Window()


@dataclass(frozen=True)
class Slice:
    """The rows of a page (the key columns taken off) and where they are in the list."""

    rows: list[Any]
    position: int  # rows of the list before the page's first row
    total: int  # rows of the list; when not ``exact``, the list holds more than that
    after: str | None  # the cursor of the next page, if any
    before: str | None  # the cursor of the previous page, if any
    exact: bool = True


def ordering(keys: Sequence[SortKey], *, reverse: bool = False) -> list[ColumnElement[Any]]:
    return [key.column.desc() if key.descending != reverse else key.column.asc() for key in keys]


def beyond(
    keys: Sequence[SortKey],
    columns: Sequence[ColumnElement[Any] | QueryableAttribute[Any]],
    values: Sequence[Any],
    *,
    reverse: bool = False,
) -> ColumnElement[bool]:
    """The rows whose ``columns`` (the keys' columns, or their copies in a subquery) come
    strictly after ``values`` in the keys' order (strictly before them when ``reverse``)."""
    alternatives = []
    for n, key in enumerate(keys):
        ties = [column == value for column, value in zip(columns[:n], values[:n], strict=True)]
        column, value = columns[n], values[n]
        past = column < value if key.descending != reverse else column > value
        alternatives.append(and_(*ties, past))
    return or_(*alternatives)


def _cursor(tag: str, keys: Sequence[SortKey], values: Sequence[Any], position: int) -> str:
    written = {
        f"k{n}": _written(key.kind, value)
        for n, (key, value) in enumerate(zip(keys, values, strict=True))
    }
    return encode_cursor({"s": tag, "n": str(position), **written})


def read_cursor(
    tag: str, keys: Sequence[SortKey], cursor: str, *, field: str
) -> tuple[list[Any], int]:
    """The key values of ``cursor`` and the position of its row in the list when it was
    given; ``InvalidInput`` when it is not a cursor of this list in this order (``tag``)."""
    fields = ("s", "n", *(f"k{n}" for n in range(len(keys))))
    values = decode_cursor(cursor, fields, field=field)
    if values["s"] != tag:
        raise InvalidInput(_NOT_OURS, field=field)
    try:
        position = _read(Kind.NUMBER, values["n"])
        if position < 0:
            raise ValueError(values["n"])
        return [_read(key.kind, values[f"k{n}"]) for n, key in enumerate(keys)], position
    except ValueError:
        raise InvalidInput(_NOT_OURS, field=field) from None


def fetch(
    session: Session,
    query: Select[Any],
    keys: Sequence[SortKey],
    tag: str,
    window: Window,
    per_page: int,
    *,
    count_limit: int | None = None,
    parts: Sequence[ColumnElement[bool]] = (),
) -> Slice:
    """One page of ``query`` in the order of ``keys``, as ``window`` asks: two statements
    whatever the page (its rows; then the count of the list and of the rows before the page).

    The count stops at ``count_limit`` rows (``COUNT_LIMIT`` unless given; or at the rows an
    ``OFFSET`` reads anyway): a longer list is "more than" that many (``Slice.exact``
    false), and the position of a page reached by cursor is then the one its cursor carries
    (the pages walked to it). A cursor past the end of the list gives the last page; a page
    number past it too.

    ``parts``, when given, split the list by its first key, which an index cannot order (a
    ``CASE``): each part is read on an index in the order of the other keys, and the page
    is taken from the first rows of each (``_in_parts``) instead of sorting the whole list.
    """
    width = len(query.column_descriptions)  # entities and columns, as rows give them
    count_limit = COUNT_LIMIT if count_limit is None else count_limit
    labelled = [key.column.label(f"k{n}") for n, key in enumerate(keys)]
    keyed = query.add_columns(*labelled)
    if window.after or window.before:
        found = _by_cursor(session, keyed, keys, tag, window, per_page, count_limit, parts)
        if found is not None:
            return _sliced(found, keys, tag, width)
    bound = max(count_limit, window.page * per_page)
    total, exact = _bounded_count(session, query, bound)
    if not exact and (window.after or window.before):
        # A cursor past the end of a long list (rare): its last page needs the whole count.
        total = _bounded_count(session, query, None)[0]
        exact = True
    if exact:
        last = max(0, -(-total // per_page) - 1)
        number = last if window.after or window.before else min(window.page - 1, last)
    else:
        number = window.page - 1
    position = number * per_page
    listed = _in_parts(keyed, keys, parts, None, reverse=False, limit=position + per_page)
    rows = list(session.execute(listed.order_by(*ordering(keys)).limit(per_page).offset(position)))
    further = position + len(rows) < total or not exact
    return _sliced(_Found(rows, position, total, exact, further), keys, tag, width)


@dataclass(frozen=True)
class _Found:
    rows: list[Any]  # with their keys
    position: int
    total: int
    exact: bool
    further: bool  # rows follow the page


def _by_cursor(
    session: Session,
    keyed: Select[Any],
    keys: Sequence[SortKey],
    tag: str,
    window: Window,
    per_page: int,
    count_limit: int,
    parts: Sequence[ColumnElement[bool]],
) -> _Found | None:
    """The page after (or before) the window's cursor; ``None`` when no row is there."""
    reverse = not window.after
    cursor = window.after or window.before or ""
    start, at = read_cursor(tag, keys, cursor, field="before" if reverse else "after")
    past = beyond(keys, [key.column for key in keys], start, reverse=reverse)
    page = _in_parts(keyed, keys, parts, past, reverse=reverse, limit=per_page + 1)
    ordered = page.order_by(*ordering(keys, reverse=reverse)).limit(per_page + 1)
    rows = list(session.execute(ordered))
    if not rows:
        return None
    walked_on = len(rows) > per_page  # rows beyond the page, the way it was walked
    rows = rows[:per_page]
    if reverse:
        rows.reverse()
    width = len(keyed.column_descriptions) - len(keys)
    total, position, exact = _count(session, keyed, keys, [*rows[0]][width:], count_limit)
    if exact:
        further = position + len(rows) < total
    elif reverse:  # the cursor's row follows; the page starts where the pages walked say
        position, further = (max(at - len(rows), 1) if walked_on else 0), True
    else:
        position, further = at + 1, walked_on
    return _Found(rows, position, total, exact, further)


def _in_parts(
    keyed: Select[Any],
    keys: Sequence[SortKey],
    parts: Sequence[ColumnElement[bool]],
    past: ColumnElement[bool] | None,
    *,
    reverse: bool,
    limit: int,
) -> Select[Any]:
    """``keyed`` (past the cursor: ``past``) narrowed to the first ``limit`` rows of each of
    ``parts`` in the order of the keys but the first, by their unique last key: each part is
    a walk on an index, and the page is sorted from these rows only."""
    if past is not None:
        keyed = keyed.where(past)
    if not parts:
        return keyed
    unique = keys[-1].column
    firsts = []
    for part in parts:
        walk = keyed.with_only_columns(unique, maintain_column_froms=True).where(part)
        first = walk.order_by(*ordering(keys[1:], reverse=reverse)).limit(limit).subquery()
        firsts.append(select(*first.c))
    # Joined first (not ``IN``): the planner starts from these few rows, before the joins of
    # what the rows show - PostgreSQL keeps the written order past eight joins.
    chosen = union_all(*firsts).subquery()
    return keyed.join(chosen, unique == chosen.c[0])


def _sliced(found: _Found, keys: Sequence[SortKey], tag: str, width: int) -> Slice:
    rows = found.rows
    first = [*rows[0]][width:] if rows else None
    end = [*rows[-1]][width:] if rows else None
    last_position = found.position + len(rows) - 1
    return Slice(
        rows=[tuple(row)[:width] for row in rows],
        position=found.position,
        total=found.total,
        after=_cursor(tag, keys, end, last_position) if end and found.further else None,
        before=_cursor(tag, keys, first, found.position) if first and found.position else None,
        exact=found.exact,
    )


def _bounded_count(session: Session, query: Select[Any], bound: int | None) -> tuple[int, bool]:
    """How many rows ``query`` gives, counting at most ``bound`` (all when ``None``), and
    whether that is all of them."""
    # The rows' existence only: the count reads no column it does not filter on.
    listed = query.with_only_columns(literal(1), maintain_column_froms=True).order_by(None)
    if bound is not None:
        listed = listed.limit(bound + 1)
    counted = session.scalar(select(func.count()).select_from(listed.subquery())) or 0
    if bound is not None and counted > bound:
        return bound, False
    return counted, True


def _count(
    session: Session,
    keyed: Select[Any],
    keys: Sequence[SortKey],
    first: Sequence[Any],
    bound: int,
) -> tuple[int, int, bool]:
    """How many rows the list holds and how many come before the row keyed ``first``,
    reading at most ``bound`` rows, and whether that was all of them (else neither is known:
    the count is ``bound``)."""
    key_columns = keyed.selected_columns[-len(keys) :]
    listed = (
        keyed.with_only_columns(*key_columns, maintain_column_froms=True)
        .order_by(None)
        .limit(bound + 1)
        .subquery()
    )
    columns = [listed.c[f"k{n}"] for n in range(len(keys))]
    earlier = beyond(keys, columns, first, reverse=True)
    total, position = session.execute(
        select(func.count(), func.coalesce(func.sum(case((earlier, 1), else_=0)), 0)).select_from(
            listed
        )
    ).one()
    if total > bound:
        return bound, 0, False
    return int(total), int(position), True
