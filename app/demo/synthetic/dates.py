"""The calendar of a generator run: the months people are registered in, the day each partner
that joined late entered the network, and the hand-off expiry delay."""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta

from app.demo.synthetic.shape import JOINED_MONTHS_AGO, MONTHS


def month_start(day: date, back: int) -> date:
    """The first day of the month ``back`` months before ``day``'s."""
    months = day.year * 12 + day.month - 1 - back
    return date(months // 12, months % 12 + 1, 1)


class Calendar:
    """Dates of a run ending the day before ``today``; hand-offs expire after ``expiry_days``."""

    def __init__(self, today: date, expiry_days: int) -> None:
        self.today = today
        self.expiry_days = expiry_days
        # The 36 months people are registered in (without the current one on its first day,
        # which has no day before today), each more than the one before: the network grows.
        newest = 1 if today.day == 1 else 0
        self.months = [
            month_start(today, back) for back in range(MONTHS - 1 + newest, newest - 1, -1)
        ]
        self.month_weights = list(
            itertools.accumulate(1 + 2 * i / (MONTHS - 1) for i in range(MONTHS))
        )
        self.joined_on = {code: month_start(today, n) for code, n in JOINED_MONTHS_AGO.items()}

    def registration_day(self, rng: random.Random) -> date:
        month = rng.choices(self.months, cum_weights=self.month_weights)[0]
        following = month_start(month, -1)
        last = min(following, self.today) - timedelta(days=1)
        return month + timedelta(days=rng.randint(0, (last - month).days))
