"""One fictional person and their pathway in memory: who they are (drawn once, from a generator
of their own), what has been recorded for them, and the small moves every part of the play
uses. ``stages.play`` plays the pathway; ``writing`` writes it."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from app.demo.synthetic.dates import Calendar
from app.demo.synthetic.draws import DRAW_EDUCATION, DRAW_ENTRY, DRAW_KIND, DRAW_SEX, digest
from app.demo.synthetic.network import Network
from app.demo.synthetic.records import (
    BarrierRecord,
    FollowUpRecord,
    HandoffRecord,
    StepRecord,
)
from app.demo.synthetic.shape import (
    ADULT_AGE,
    AGE_LIMITS,
    CONSENT_RATE,
    EXIT_RATE,
    KIND_AGE,
    KIND_COHORT,
    OUTSIDE_QPV_RATE,
    SECOND_COHORT_RATE,
)
from app.domain.pathway import ConsentMethod


class Pathway:
    """One fictional person, played forward from registration with a generator of their own.

    Every date is checked against ``until`` (today, or the day the person leaves): what would
    happen on or after it does not happen, which leaves recent hand-offs pending.
    """

    def __init__(self, seed: int, index: int, calendar: Calendar, network: Network) -> None:
        self.seed = seed
        self.index = index
        self.calendar = calendar
        self.network = network
        self.rng = rng = random.Random(digest("person", seed, index))  # noqa: S311
        self.today = calendar.today
        self.id = self.uuid()
        self.kind = DRAW_KIND(rng)
        self.start = calendar.registration_day(rng)
        low, mode, high = KIND_AGE.get(self.kind, ADULT_AGE)
        self.age = round(rng.triangular(low, high, mode))
        self.sex = DRAW_SEX["parent" if self.kind == "parent" else "any"](rng)
        self.education = DRAW_EDUCATION[self.kind](rng)
        self.cohorts = self.draw_cohorts()
        qpvs = network.qpvs
        qpv = rng.choice(qpvs) if qpvs and rng.random() >= OUTSIDE_QPV_RATE else None
        self.qpv_id: int | None = qpv[0] if qpv is not None else None
        self.qpv_code: str | None = qpv[1] if qpv is not None else None
        self.entry = DRAW_ENTRY[self.kind](rng)
        if not self.fits_age(self.entry):
            self.entry = "FT90"
        self.consent = rng.random() < CONSENT_RATE
        self.consent_method = (
            (ConsentMethod.ORAL if rng.random() < 0.55 else ConsentMethod.SIGNED)
            if self.consent
            else None
        )
        leaves = rng.random() < EXIT_RATE
        exit_day = self.start + timedelta(days=rng.randint(30, 540))
        self.exit = exit_day if leaves and exit_day < self.today else None
        self.until = self.exit or self.today
        self.follow_ups: dict[str, FollowUpRecord] = {}
        self.steps: list[StepRecord] = []
        self.barriers: list[BarrierRecord] = []
        self.handoffs: list[HandoffRecord] = []

    def draw_cohorts(self) -> tuple[str, ...]:
        """The kind's cohort, and a second one for some (within its age range)."""
        first = KIND_COHORT[self.kind]
        if self.rng.random() >= SECOND_COHORT_RATE:
            return (first,)
        second = {
            "young": "single_parent" if self.age >= 22 else None,
            "graduate": "other",
            "parent": "young_dropout" if self.age <= 25 else "other",
            "adult": "single_parent" if self.age <= 50 else None,
        }[self.kind]
        return (first,) if second is None else (first, second)

    # -- small helpers --

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def after(self, day: date, low: int, high: int, limit: date | None = None) -> date | None:
        """``low`` to ``high`` days after ``day``, or None if that is not before the limit."""
        later = day + timedelta(days=self.rng.randint(low, high))
        return later if later < (limit or self.until) else None

    def at(self, day: date) -> datetime:
        """A working-hours moment of ``day`` (UTC)."""
        minute = self.rng.choice((0, 10, 15, 20, 30, 40, 45, 50))
        return datetime(day.year, day.month, day.day, self.rng.randint(7, 15), minute, tzinfo=UTC)

    def fits_age(self, code: str) -> bool:
        limit = AGE_LIMITS.get(code)
        return limit is None or self.age <= limit

    def partners(self, codes: Iterable[str], day: date, *exclude: str) -> list[str]:
        """The partners among ``codes`` that are in the network on ``day`` and fit the person."""
        joined = self.calendar.joined_on
        return [
            c
            for c in codes
            if c not in exclude and self.fits_age(c) and (c not in joined or joined[c] <= day)
        ]

    # -- records --

    def follow(self, code: str, day: date) -> None:
        """Open the structure's follow-up, unless it has one open already (tracks are played
        one after the other, so a later track may begin it earlier)."""
        follow_up = self.follow_ups.get(code)
        if follow_up is None:
            self.follow_ups[code] = FollowUpRecord(self.uuid(), code, day, day)
        elif day < follow_up.started_on:
            follow_up.started_on = day
        self.touch(code, day)

    def touch(self, code: str | None, day: date) -> None:
        follow_up = self.follow_ups.get(code or "")
        if follow_up is not None and day > follow_up.last_active:
            follow_up.last_active = day

    def step(
        self, structure: str, stage: str, on: date, action: str | None, by: str | None = None
    ) -> StepRecord:
        step = StepRecord(self.uuid(), structure, stage, on, by or structure, action)
        self.steps.append(step)
        self.touch(structure, on)
        return step

    def end_later(self, step: StepRecord, low: int, high: int) -> None:
        step.ended_on = self.after(step.started_on, low, high)
