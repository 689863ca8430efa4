"""The story builder: back-dated calls to the services, as the caseworker of a structure.

Each demo story (``app.demo.stories``) plays one person's pathway through a ``StoryBuilder``,
which registers people, records steps and barriers and plays hand-offs through the same
services as the web pages, with explicit dates drawn by a seeded ``random.Random``. Nothing may
be dated on or after ``today``: ``StoryError`` says a story's offsets are wrong.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from app.demo.data.network import ACTING_ON, DemoPerson
from app.demo.data.wording import BARRIER_NOTE, BARRIERS_ACTION, ORIENTATION_ACTION, STAGE_NOTE
from app.demo.synthetic.decisions import barrier_level
from app.domain.handoffs import HandoffEvent, HandoffStatus
from app.domain.pathway import BarrierStatus, ConsentMethod
from app.domain.people import EducationLevel, Sex
from app.models import Barrier, Beneficiary, Handoff, PathwayStep, Structure, User
from app.services.handoffs import apply_event, send_handoff
from app.services.pathways import add_barrier, add_step, end_follow_up, set_barrier_status
from app.services.people.identity import Identity
from app.services.people.registration import ConsentInput, NewPerson, register_person
from app.services.security.vault import Vault
from app.services.unmet_needs import record_no_solution

SEX = {"F": Sex.FEMALE, "M": Sex.MALE}
# Decline reasons in the order the stories give them, so that each of them shows.
DECLINE_CYCLE = (
    "not_eligible",
    "no_capacity",
    "did_not_come",
    "unreachable",
    "followed_elsewhere",
    "barrier_prevents",
    "duplicate",
    "other",
)
# By kind of person (``StoryBuilder.kind``): barriers met, training and employment partners.
CATEGORIES = {
    "young": ("mobility", "motivation", "digital", "legal_admin", "mental_health", "housing"),
    "graduate": ("mobility", "digital", "financial", "housing"),
    "adult": ("mobility", "housing", "financial", "digital", "health", "legal_admin"),
}
TRAINING_TARGETS = {
    "young": ("E2C90", "EPIDE90", "UNIS90"),
    "graduate": ("FT90", "UNIS90", "PLIE90"),
    "adult": ("FT90", "PLIE90"),
}
EMPLOYMENT_TARGETS = {
    "young": ("EMP90", "SIAE90"),
    "graduate": ("EMP90", "PLIE90"),
    "adult": ("SIAE90", "EMP90", "PLIE90", "CAPE90"),
}


class StoryError(RuntimeError):
    """A story would date something on or after ``today`` (a bug in the demo's offsets)."""


class StoryBuilder:
    """Back-dated calls to the services, as the caseworker of a structure given by its code."""

    def __init__(
        self,
        session: Session,
        vault: Vault,
        today: date,
        rng: random.Random,
        structures: dict[str, Structure],
        caseworkers: dict[str, User],
    ) -> None:
        self.session = session
        self.vault = vault
        self.today = today
        self.rng = rng
        self.structures = structures
        self.caseworkers = caseworkers
        self.people: list[uuid.UUID] = []
        # Each person's registering structure and day (for the orientation decisions).
        self.registered: dict[uuid.UUID, tuple[str, date]] = {}
        # Barrier levels come from a generator of their own: the stories' draws are unchanged.
        self.levels = random.Random(0x1E7E1)  # noqa: S311 - fictional data
        self._declines = 0

    # -- dates --

    def _check(self, day: date) -> date:
        if day >= self.today:
            raise StoryError(f"a demo story reached {day}, not before {self.today}")
        return day

    def ago(self, low: int, high: int) -> date:
        return self._check(self.today - timedelta(days=self.rng.randint(low, high)))

    def later(self, day: date, low: int, high: int) -> date:
        return self._check(day + timedelta(days=self.rng.randint(low, high)))

    def at(self, day: date) -> datetime:
        """A working-hours moment of ``day`` (UTC)."""
        self._check(day)
        hour = self.rng.randint(7, 15)
        minute = self.rng.choice((0, 10, 15, 20, 30, 40, 45, 50))
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)

    # -- choices --

    @staticmethod
    def kind(person: DemoPerson) -> str:
        if "young_dropout" in person.cohorts and person.age <= 25:
            return "young"
        if "young_graduate" in person.cohorts:
            return "graduate"
        return "adult"

    def pick(self, codes: Sequence[str], *exclude: str) -> str:
        return self.rng.choice([c for c in codes if c not in exclude])

    def category(self, person: DemoPerson) -> str:
        return self.rng.choice(CATEGORIES[self.kind(person)])

    @staticmethod
    def acting(category: str, *exclude: str) -> str:
        code = ACTING_ON[category]
        return "CD90" if code in exclude else code

    def training_targets(self, person: DemoPerson) -> tuple[str, ...]:
        targets = TRAINING_TARGETS[self.kind(person)]
        if self.kind(person) == "young" and person.age <= 18:
            targets = (*targets, "P1618-90")
        return targets

    def next_decline(self) -> str:
        reason = DECLINE_CYCLE[self._declines % len(DECLINE_CYCLE)]
        self._declines += 1
        return reason

    def code_of(self, structure_id: int) -> str:
        return next(code for code, s in self.structures.items() if s.id == structure_id)

    # -- service calls --

    def register(self, person: DemoPerson, on: date) -> Beneficiary:
        actor = self.caseworkers[person.registered_by]
        consent = (
            ConsentInput(method=ConsentMethod(person.consent), given_on=on)
            if person.consent
            else None
        )
        new = NewPerson(
            identity=Identity(
                last_name=person.last_name,
                first_name=person.first_name,
                birth_date=birth_date(person, self.today),
                phone=person.phone,
                email=person.email,
                address=person.address,
            ),
            cohort_codes=person.cohorts,
            qpv_code=person.qpv,
            sex=SEX.get(person.sex or ""),
            education_level=EducationLevel(person.education),
            consent=consent,
        )
        who = register_person(self.session, self.vault, actor, new, today=self._check(on))
        self.people.append(who.id)
        self.registered[who.id] = (person.registered_by, on)
        return who

    def step(
        self,
        who: Beneficiary,
        by: str,
        stage: str,
        on: date,
        *,
        ended_on: date | None = None,
        action: str | None = None,
    ) -> PathwayStep:
        return add_step(
            self.session,
            self.vault,
            self.caseworkers[by],
            who,
            stage_code=stage,
            started_on=self._check(on),
            ended_on=ended_on,
            action=action,
        )

    def barrier(
        self, who: Beneficiary, by: str, category: str, on: date, acting: str | None = None
    ) -> Barrier:
        return add_barrier(
            self.session,
            self.caseworkers[by],
            who,
            category_code=category,
            identified_on=self._check(on),
            acting_structure_id=self.structures[acting].id if acting else None,
            level=barrier_level(uuid.UUID(int=self.levels.getrandbits(128), version=4), category),
        )

    def move(self, barrier: Barrier, status: BarrierStatus, by: str, on: date) -> None:
        set_barrier_status(self.session, self.caseworkers[by], barrier, status, on=self._check(on))

    def no_solution(self, who: Beneficiary, by: str, barrier: Barrier, on: date, why: str) -> None:
        """``by`` records that no partner was found for ``barrier`` (an unmet need)."""
        record_no_solution(
            self.session,
            self.caseworkers[by],
            who,
            barrier_id=barrier.id.hex,
            category_code=None,
            precision_code=why,
            today=self._check(on),
        )

    def send(
        self,
        who: Beneficiary,
        sender: str,
        receiver: str,
        on: date,
        *,
        stage: str | None = None,
        barrier: Barrier | None = None,
        note: str | None = None,
    ) -> Handoff:
        if note is None:
            note = (
                BARRIER_NOTE[barrier.category.code]
                if barrier is not None
                else self.rng.choice(STAGE_NOTE.get(stage or "", STAGE_NOTE["training"]))
            )
        return send_handoff(
            self.session,
            self.vault,
            self.caseworkers[sender],
            who,
            to_structure=self.structures[receiver],
            now=self.at(on),
            purpose_stage_code=stage,
            purpose_barrier=barrier,
            note=note,
            consent_confirmed=True,
        )

    def act(
        self,
        handoff: Handoff,
        event: HandoffEvent,
        by: str | None,
        on: date,
        *,
        reason: str | None = None,
        message: str | None = None,
        redirect_to: str | None = None,
        recorded: date | None = None,
    ) -> Handoff:
        """Apply ``event`` on the day ``on``, recorded that day or on ``recorded`` (later)."""
        return apply_event(
            self.session,
            self.vault,
            self.caseworkers[by] if by else None,
            handoff,
            event,
            now=self.at(recorded or on),
            on=on,
            reason_code=reason,
            message=message,
            redirect_to=self.structures[redirect_to] if redirect_to else None,
        )

    def end(self, who: Beneficiary, by: str, reason: str, on: date) -> None:
        end_follow_up(
            self.session, self.caseworkers[by], who, reason_code=reason, on=self._check(on)
        )

    # -- sequences --

    def begin(self, person: DemoPerson, low: int, high: int) -> tuple[Beneficiary, date]:
        """Register ``person`` between ``high`` and ``low`` days ago, with an orientation step."""
        start = self.ago(low, high)
        who = self.register(person, start)
        action = ORIENTATION_ACTION.get(person.registered_by)
        self.step(who, person.registered_by, "orientation", start, action=action)
        return who, start

    def barrier_step(
        self, who: Beneficiary, by: str, category: str, on: date, acting: str | None
    ) -> Barrier:
        """A "barriers" step and the barrier identified that day."""
        self.step(who, by, "barriers", on, action=self.rng.choice(BARRIERS_ACTION))
        return self.barrier(who, by, category, on, acting)

    def run(
        self,
        handoff: Handoff,
        until: HandoffStatus,
        outcome: str | None = None,
        *,
        span: tuple[int, int] = (10, 40),
        message: str | None = None,
    ) -> date:
        """Play the receiver's side up to ``until``; the day of the last event."""
        receiver = self.code_of(handoff.to_structure_id)
        day = self.later(handoff.sent_at.date(), 1, 6)
        self.act(handoff, HandoffEvent.ACCEPT, receiver, day)
        if until is HandoffStatus.ACCEPTED:
            return day
        day = self.later(day, 2, 8)
        # Caseworkers catch up: a first contact is recorded two days after it happened, when
        # that day has come (the page says "premier contact le 3 mars, enregistré le 5 mars").
        # (Only when the next event of the story cannot come before that recording.)
        caught_up = day + timedelta(days=2)
        later_ends = until is HandoffStatus.IN_PROGRESS or span[0] > 2
        recorded = caught_up if caught_up < self.today and later_ends else None
        self.act(handoff, HandoffEvent.FIRST_CONTACT, receiver, day, recorded=recorded)
        barrier = handoff.purpose_barrier
        if barrier is not None and barrier.status is BarrierStatus.IDENTIFIED:
            self.move(barrier, BarrierStatus.IN_PROGRESS, receiver, day)
        if until is HandoffStatus.IN_PROGRESS:
            return day
        day = self.later(day, *span)
        event = (
            HandoffEvent.COMPLETE if until is HandoffStatus.COMPLETED else HandoffEvent.NOT_COMPLETE
        )
        self.act(handoff, event, receiver, day, reason=outcome, message=message)
        return day


def birth_date(person: DemoPerson, today: date) -> date:
    """The birth date that makes ``person`` ``person.age`` years old on ``today``."""
    month, day = person.birthday
    year = today.year - person.age
    if (month, day) > (today.month, today.day):
        year -= 1
    return date(year, month, day)


# A story plays one person's pathway with the builder.
Story = Callable[[StoryBuilder, DemoPerson], None]
