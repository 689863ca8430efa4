"""Opening hours in the OpenStreetMap format, as data·inclusion publishes them.

Relais reads the part of the format that opening hours of a public office need::

    hours    = rule *( ";" rule )
    rule     = "24/7" | [ selector ] ( times | "off" | "closed" )
    selector = "PH" | days *( "," days )          (PH: public holidays)
    days     = DAY [ "-" DAY ]                    (DAY: Mo Tu We Th Fr Sa Su)
    times    = span *( "," span )
    span     = HH:MM "-" HH:MM

for example ``Mo-Fr 09:00-12:00,13:30-17:00; Sa 09:00-12:00; PH off``. Anything else (months,
week numbers, comments...) is refused with the problem, so that what is stored can be shown
in plain words and exchanged as is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from enum import StrEnum

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_DAYS_PART = re.compile(r"^(?:PH|[A-Z][a-z](?:-[A-Z][a-z])?(?:,[A-Z][a-z](?:-[A-Z][a-z])?)*)$")
_SPAN = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class HoursProblem(StrEnum):
    UNKNOWN_DAY = "unknown_day"
    DAY_ORDER = "day_order"
    TIME_FORMAT = "time_format"
    NOT_A_TIME = "not_a_time"
    SPAN_ORDER = "span_order"
    NO_TIMES = "no_times"
    EMPTY_RULE = "empty_rule"


class OpeningHoursError(ValueError):
    """The text is not opening hours Relais can read: what is wrong, and in which rule."""

    def __init__(self, problem: HoursProblem, rule: str) -> None:
        super().__init__(f"{problem.value}: {rule!r}")
        self.problem = problem
        self.rule = rule


@dataclass(frozen=True)
class HoursRule:
    """One rule: on these days (``None`` with ``holidays``: public holidays), these spans.

    ``spans`` is empty when the days are closed. ``days`` is None for "every day".
    """

    days: tuple[int, ...] | None
    spans: tuple[tuple[time, time], ...]
    holidays: bool = False

    @property
    def closed(self) -> bool:
        return not self.spans


def _time(hours: str, minutes: str, rule: str) -> time:
    h, m = int(hours), int(minutes)
    if h == 24 and m == 0:
        return time(23, 59)
    if h > 23 or m > 59:
        raise OpeningHoursError(HoursProblem.NOT_A_TIME, rule)
    return time(h, m)


def _days(selector: str, rule: str) -> tuple[int, ...]:
    days: list[int] = []
    for part in selector.split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise OpeningHoursError(HoursProblem.UNKNOWN_DAY, rule)
        start, end = DAYS.index(first), DAYS.index(last or first)
        if end < start:
            raise OpeningHoursError(HoursProblem.DAY_ORDER, rule)
        days.extend(d for d in range(start, end + 1) if d not in days)
    return tuple(days)


def _spans(text: str, rule: str) -> tuple[tuple[time, time], ...]:
    spans = []
    for part in text.split(","):
        found = _SPAN.match(part.strip())
        if not found:
            raise OpeningHoursError(HoursProblem.TIME_FORMAT, rule)
        start = _time(found[1], found[2], rule)
        end = _time(found[3], found[4], rule)
        if end <= start:
            raise OpeningHoursError(HoursProblem.SPAN_ORDER, rule)
        spans.append((start, end))
    return tuple(spans)


def _rule(rule: str) -> HoursRule:
    if rule == "24/7":
        return HoursRule(None, ((time(0, 0), time(23, 59)),))
    selector, _, rest = rule.partition(" ")
    if not _DAYS_PART.match(selector):
        # No day selector: the times apply to every day.
        selector, rest = "", rule
    rest = rest.strip()
    if rest in ("off", "closed"):
        spans: tuple[tuple[time, time], ...] = ()
    elif rest:
        spans = _spans(rest, rule)
    else:
        raise OpeningHoursError(HoursProblem.NO_TIMES, rule)
    if selector == "PH":
        return HoursRule(None, spans, holidays=True)
    return HoursRule(_days(selector, rule) if selector else None, spans)


def parse_opening_hours(text: str) -> list[HoursRule]:
    """The rules of ``text`` (empty text: no rule). Raises ``OpeningHoursError``."""
    rules = [part.strip() for part in text.strip().split(";")]
    if rules == [""]:
        return []
    if any(not part for part in rules):
        raise OpeningHoursError(HoursProblem.EMPTY_RULE, text.strip())
    return [_rule(" ".join(part.split())) for part in rules]


def normalise_opening_hours(text: str) -> str:
    """``text`` checked and written the usual way: rules separated by ``"; "``."""
    parse_opening_hours(text)
    rules = (" ".join(part.split()) for part in text.strip().split(";") if part.strip())
    return "; ".join(rule.replace(", ", ",") for rule in rules)
