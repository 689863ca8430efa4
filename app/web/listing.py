"""Reading list filters and page numbers from the query string."""

from __future__ import annotations

from flask import request

from app.domain.numbers import read_int
from app.services.people.overview import Filters, Sort


def filters_from_request() -> Filters:
    def value(name: str) -> str | None:
        raw = request.args.get(name, "").strip()
        return raw[:64] or None

    return Filters(
        cohort=value("cohort"), stage=value("stage"), qpv=value("qpv"), structure=value("structure")
    )


def page_from_request() -> int:
    """The ``page`` of the query string (1 to 99,999), the first page when it is anything else."""
    return read_int(request.args.get("page"), minimum=1, maximum=99_999) or 1


def sort_from_request() -> Sort:
    """The ``sort`` of the query string; the newest first when missing or unknown."""
    try:
        return Sort(request.args.get("sort", ""))
    except ValueError:
        return Sort.RECENT
