"""Effective dates in the use cases: the day a fact happened, checked against its bounds
(``app.domain.effective_dates``), or an ``InvalidInput`` that names the bound it broke
("not before the hand-off was sent, on 2 March")."""

from __future__ import annotations

from datetime import date

from app.domain.effective_dates import Bound, Floor, InTheFuture, TooEarly, check_effective
from app.services.errors import N_, InvalidInput

# What each bound is called in the error; ``%(date)s`` is its day (a ``date``: the web layer
# writes it the way the reader's language does).
BOUND_MESSAGES = {
    Bound.SENT: N_("Not before the hand-off was sent, on %(date)s."),
    Bound.ACCEPTED: N_("Not before the acceptance, on %(date)s."),
    Bound.FIRST_CONTACT: N_("Not before the first contact, on %(date)s."),
    Bound.IDENTIFIED: N_("Not before the barrier was identified, on %(date)s."),
    Bound.LAST_CHANGE: N_("Not before the barrier's last change, on %(date)s."),
}


def effective_day(
    on: date | None,
    *,
    today: date,
    floor: Floor | None = None,
    field: str = "on",
    born_in: int | None = None,
) -> date:
    """``on`` (or ``today`` when not given) if it lies within its bounds - and, for a fact of
    a person's pathway, not in a year before the one they were born in (``born_in``: a step
    dated 2000 for someone born in 2004 is a typing error, and drew their pathway over 26
    years); otherwise an ``InvalidInput`` on ``field`` naming the bound."""
    day = on or today
    if born_in is not None and day.year < born_in:
        raise InvalidInput(
            N_("Not before the person was born, in %(year)s."), field=field, year=born_in
        )
    try:
        return check_effective(day, today=today, floor=floor)
    except InTheFuture:
        raise InvalidInput(
            N_("Not after today, %(date)s: record what has already happened."),
            field=field,
            date=today,
        ) from None
    except TooEarly as exc:
        raise too_early(exc.floor, field) from None


def not_before(on: date, floor: Floor, *, field: str = "on") -> date:
    """``on`` if it is not before ``floor`` (for a day already checked against today, e.g.
    the day of an outcome that lifts a barrier); else the ``InvalidInput`` naming it."""
    if on < floor.day:
        raise too_early(floor, field)
    return on


def too_early(floor: Floor, field: str) -> InvalidInput:
    """The error of a day before ``floor``, on ``field``."""
    return InvalidInput(BOUND_MESSAGES[floor.bound], field=field, date=floor.day)
