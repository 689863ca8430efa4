"""Reading list filters and page numbers from the query string."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from flask import abort, current_app, request

from app.domain.numbers import read_int
from app.services.errors import InvalidInput
from app.services.keyset import MAX_CURSOR, Window
from app.services.people.overview import Filters, Situation, Sort

CURSOR_FIELDS = ("after", "before")


def filters_from_request() -> Filters:
    def value(name: str) -> str | None:
        raw = request.args.get(name, "").strip()
        return raw[:64] or None

    return Filters(
        cohort=value("cohort"),
        stage=value("stage"),
        qpv=value("qpv"),
        structure=value("structure"),
        mine=value("mine") == "1",
        # Caseload only (ignored elsewhere); an unknown one is no filter, as an unknown sort.
        situation=_situation(value("situation")),
        lost_days=current_app.config["LOST_FROM_VIEW_DAYS"],
        lost_contact_days=current_app.config["LOST_FIRST_CONTACT_DAYS"],
    )


class Coded(Protocol):
    """An item of a filter's list: a reference item, a structure."""

    @property
    def code(self) -> str: ...


def unknown_filters(filters: Filters, lists: Mapping[str, Iterable[Coded]]) -> list[str]:
    """The filters of ``lists`` (by name: ``cohort``, ``stage``...) whose value is not the
    code of an item of their list."""
    unknown = []
    for name, items in lists.items():
        value = getattr(filters, name)
        if value and value not in {item.code for item in items}:
            unknown.append(name)
    return unknown


def _situation(raw: str | None) -> Situation | None:
    try:
        return Situation(raw) if raw else None
    except ValueError:
        return None


def page_from_request() -> int:
    """The ``page`` of the query string (1 to 99,999), the first page when it is anything else."""
    return read_int(request.args.get("page"), minimum=1, maximum=99_999) or 1


def sort_from_request() -> Sort:
    """The ``sort`` of the query string; the newest first when missing or unknown."""
    try:
        return Sort(request.args.get("sort", ""))
    except ValueError:
        return Sort.RECENT


def window_from_request() -> Window:
    """The page the query string asks for: ``after`` or ``before`` a cursor (the links of
    the list), else the ``page`` number (links typed by hand, bookmarks)."""

    def cursor(name: str) -> str | None:
        # Longer than any cursor: left for the service to refuse (400), not cut into one.
        return request.args.get(name, "")[: MAX_CURSOR + 1] or None

    return Window(page=page_from_request(), after=cursor("after"), before=cursor("before"))


def refuse_bad_cursor(exc: InvalidInput) -> None:
    """A cursor that Relais did not give (edited, or of another order) is a bad request."""
    if exc.field in CURSOR_FIELDS:
        abort(400)
