"""Synthetic caseloads: thousands of fictional people on the demo network, for dashboards and
benchmarks.

Each person's pathway is played forward in memory from their registration, with the rules the
services apply - the hand-off transition table of ``app.domain.handoffs``, the barrier moves of
``app.domain.pathway``, one open follow-up per structure, consent before any hand-off - and
then written the way ``app.services.imports`` writes a caseload: a data key per person, wrapped;
the identity sealed by ``seal_identity`` (ciphertexts bound to their place, blind indexes, birth
year); one Core ``executemany`` per table and batch; a ``beneficiary:create`` audit event per
person (and ``consent:record`` when consent is given), as ``audit.record`` writes them.

The shape of the data is what the coordinators' indicators need: people registered over the
last 36 months, more of them recently; a funnel (orientation, then barriers, then training,
then employment, each reached by fewer people, since a stage is only played once the one before
is reached); barriers of every category handled by the partner that acts on them; hand-offs in
every state, every decline reason and every outcome, redirect chains of two to four hand-offs,
some pending and overdue on ``today``; partners joining the network over time, so that the
cooperation network grows quarter by quarter. Nothing is dated on or after ``today``.

Everything but the ciphertexts (random keys and nonces) follows from the seed and the number of
people already in the database: person ``i`` of the database gets its own random generator
seeded from ``(seed, i)``, so a run gives the same data whatever the batch size, and a second
run adds new people. Pseudonyms come from the same seed and are checked free per batch.

Nothing here commits: ``write_batch`` writes one batch; the caller commits after each, or rolls
the batch back.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from app.crypto import DataKey
from app.data.demo_network import ACTING_ON, PEOPLE, QPVS, STRUCTURES
from app.domain.audit import AuditAction
from app.domain.handoffs import HandoffEvent, HandoffStatus, Party, next_status, outcome_fits
from app.domain.pathway import BarrierStatus, ConsentMethod, ConsentScope, barrier_can_move
from app.domain.people import PSEUDONYM_ALPHABET, EducationLevel, Sex
from app.models import (
    IDENTITY_FIELDS,
    AuditEvent,
    Barrier,
    Beneficiary,
    Consent,
    FollowUp,
    Handoff,
    HandoffTransition,
    PathwayStep,
    PersonKey,
    ReferenceItem,
    ReferenceKind,
    Structure,
    User,
    beneficiary_cohorts,
)
from app.models.base import utcnow
from app.services import audit
from app.services.demo import (
    BARRIER_NOTE,
    BARRIERS_ACTION,
    DECLINE_MESSAGE,
    EMPLOYMENT_ACTION,
    ORIENTATION_ACTION,
    STAGE_NOTE,
    TRAINING_ACTION,
    WITHDRAW_MESSAGE,
)
from app.services.errors import N_, InvalidInput, NotFound
from app.services.handoffs import BARRIER_AFTER_OUTCOME, STAGE_AFTER_OUTCOME
from app.services.identity import Identity, seal_identity
from app.services.vault import Vault

MAX_PEOPLE = 2_000_000
DEFAULT_BATCH_SIZE = 2000
MONTHS = 36
LOOKUP_CHUNK = 500
AUDIT_PURPOSE = "import"  # what an import of such a caseload writes (see app.services.imports)

_S, _E = HandoffStatus, HandoffEvent

# -- who the people are -----------------------------------------------------------------------

# Kinds of people, how many of each, the cohort they come from and their age at registration
# (low, mode, high of a triangular draw): most are 16 to 30.
KINDS = ("young", "graduate", "parent", "adult")
KIND_WEIGHTS = (36, 14, 15, 35)
KIND_COHORT = {
    "young": "young_dropout",
    "graduate": "young_graduate",
    "parent": "single_parent",
    "adult": "other",
}
KIND_AGE = {"young": (16, 19, 25), "graduate": (20, 24, 29), "parent": (22, 32, 50)}
ADULT_AGE = (26, 30, 64)
EDUCATION: dict[str, tuple[tuple[str, int], ...]] = {
    "young": (("none", 75), ("level_3", 22)),
    "graduate": (("level_4", 25), ("level_5", 40), ("level_6_plus", 33)),
    "parent": (("none", 30), ("level_3", 35), ("level_4", 22), ("level_5", 10)),
    "adult": (("none", 25), ("level_3", 34), ("level_4", 24), ("level_5", 10), ("level_6_plus", 5)),
}  # the rest of each kind: not recorded
# The structure that registers the person (it must exist from the first month).
ENTRY: dict[str, tuple[tuple[str, int], ...]] = {
    "young": (("ML90", 55), ("MLDS90", 20), ("E2C90", 10), ("FT90", 10), ("CCAS-OFF", 5)),
    "graduate": (("FT90", 60), ("ML90", 30), ("PLIE90", 10)),
    "parent": (("CD90", 50), ("FT90", 25), ("CCAS-OFF", 15), ("PLIE90", 10)),
    "adult": (("FT90", 45), ("CD90", 20), ("PLIE90", 15), ("CCAS-OFF", 12), ("CAPE90", 8)),
}
CONSENT_RATE = 0.93
OUTSIDE_QPV_RATE = 0.15
SECOND_COHORT_RATE = 0.2

# -- how far they go --------------------------------------------------------------------------

# Chances of going as far as the barriers, training and employment stages, if time allows.
DEPTH = {
    "young": (0.85, 0.62, 0.38),
    "graduate": (0.75, 0.65, 0.52),
    "parent": (0.85, 0.52, 0.32),
    "adult": (0.80, 0.50, 0.32),
}
EXIT_RATE = 0.12
CATEGORIES: dict[str, tuple[tuple[str, int], ...]] = {
    "young": (
        ("mobility", 3), ("motivation", 3), ("digital", 2), ("housing", 2), ("legal_admin", 1),
        ("mental_health", 1), ("addiction", 1), ("financial", 1),
    ),
    "graduate": (
        ("mobility", 3), ("financial", 2), ("housing", 2), ("digital", 1), ("legal_admin", 1),
    ),
    "parent": (
        ("childcare", 4), ("financial", 3), ("mobility", 2), ("housing", 2), ("health", 1),
        ("digital", 1), ("legal_admin", 1),
    ),
    "adult": (
        ("mobility", 2), ("housing", 2), ("financial", 2), ("digital", 2), ("health", 2),
        ("language", 2), ("legal_admin", 1), ("addiction", 1), ("mental_health", 1),
        ("motivation", 1),
    ),
}  # fmt: skip
# Partners that may take a barrier when the one acting on it (``ACTING_ON``) declines or
# redirects, and generalists a redirect falls back on.
ALTERNATES = {
    "mobility": ("CCAS-OFF", "PLIE90", "CD90"),
    "childcare": ("CCAS-OFF", "CD90"),
    "digital": ("CCAS-OFF", "ML90", "FT90"),
    "health": ("CCAS-OFF", "CD90"),
    "mental_health": ("ADDI90", "CD90"),
    "addiction": ("SANTE90", "CD90"),
    "housing": ("CCAS-OFF", "DROIT90", "CD90"),
    "language": ("FT90", "CCAS-OFF"),
    "legal_admin": ("CCAS-OFF", "CD90"),
    "financial": ("DROIT90", "CD90"),
    "motivation": ("E2C90", "EPIDE90", "PLIE90"),
}
GENERALISTS = ("CD90", "CCAS-OFF", "PLIE90", "FT90", "ML90")
TRAINING = {
    "young": ("E2C90", "EPIDE90", "UNIS90", "P1618-90"),
    "graduate": ("FT90", "UNIS90", "PLIE90"),
    "parent": ("FT90", "PLIE90", "E2C90"),
    "adult": ("FT90", "PLIE90"),
}
EMPLOYMENT = {
    "young": ("EMP90", "SIAE90", "PLIE90"),
    "graduate": ("EMP90", "PLIE90", "FT90"),
    "parent": ("SIAE90", "EMP90", "PLIE90"),
    "adult": ("SIAE90", "EMP90", "PLIE90", "CAPE90"),
}
AGE_LIMITS = {"P1618-90": 18, "E2C90": 25, "EPIDE90": 25, "UNIS90": 25, "MLDS90": 20, "ML90": 25}
# Partners that joined the network after the first month: hand-offs to them start then.
JOINED_MONTHS_AGO = {
    "LANG90": 32, "GARDE90": 28, "NUM90": 24, "ADDI90": 20, "EMP90": 18, "SIAE90": 14,
    "P1618-90": 10,
}  # fmt: skip

# -- how partners answer ----------------------------------------------------------------------

WITHDRAW_RATE = 0.03
SILENT_RATE = 0.06  # never answered: expires
SLOW_RATE = 0.2  # answered after 8 to 28 days rather than 1 to 7
DECLINE_RATE = 0.14
REDIRECT_RATE = (0.07, 0.35, 0.35)  # for the 1st, 2nd and 3rd hand-off of a chain (4 at most)
NEVER_CAME_RATE = 0.05  # accepted, then closed without completion before any contact
DECLINE_REASONS = tuple(DECLINE_MESSAGE)
# (event, outcome, weight) once the first contact is made; None: the purpose's own success.
CLOSINGS: tuple[tuple[HandoffEvent, str | None, int], ...] = (
    (_E.COMPLETE, None, 68),
    (_E.COMPLETE, "oriented_further", 8),
    (_E.COMPLETE, "other", 6),
    (_E.NOT_COMPLETE, "person_stopped", 10),
    (_E.NOT_COMPLETE, "other", 5),
    (_E.NOT_COMPLETE, "oriented_further", 3),
)
SUCCESS = {"barrier": "barrier_lifted", "training": "training_entered", "employment": "job_signed"}
# Days from acceptance (first contact) to the closing, by purpose.
SPANS = {"barrier": (20, 120), "training": (7, 30), "employment": (5, 45)}
END_AFTER_OUTCOME = {
    "barrier_lifted": "goal_reached",
    "training_entered": "goal_reached",
    "job_signed": "goal_reached",
    "oriented_further": "handed_off",
    "person_stopped": "person_stopped",
    "other": "other",
}
EXIT_REASONS = (("moved", 35), ("lost_contact", 40), ("person_stopped", 15), ("other", 10))
EXIT_ACTION = {
    "moved": "Déménagement hors du département",
    "lost_contact": "Perdue de vue après trois relances (courrier, téléphone, SMS)",
    "person_stopped": "La personne a souhaité arrêter l'accompagnement",
    "other": "Sortie du dispositif : situation personnelle",
}
STOP_MESSAGE = "La personne a mis fin à l'accompagnement après deux rendez-vous."
NEVER_CAME_MESSAGE = "Ne s'est jamais présentée aux rendez-vous d'entrée malgré deux relances."
RESEND_NOTE = "Relance : la première orientation est restée sans réponse."

# -- fictional identities ---------------------------------------------------------------------

_EXTRA_FEMALE = (
    "Manon", "Camille", "Emma", "Louise", "Sabrina", "Kenza", "Assia", "Marine", "Laura",
    "Mélissa", "Anaïs", "Justine", "Rokia", "Salimata", "Dounia", "Ophélie", "Elif", "Naïma",
)  # fmt: skip
_EXTRA_MALE = (
    "Lucas", "Adam", "Nathan", "Bilal", "Dylan", "Loïc", "Ousmane", "Moussa", "Florian",
    "Anthony", "Jordan", "Sami", "Walid", "Kévin", "Émile", "Quentin", "Baptiste", "Cem",
)  # fmt: skip
_EXTRA_LAST = (
    "Bourgeois", "Courvoisier", "Jacquemin", "Lhomme", "Mougenot", "Parisot", "Renaud",
    "Schneider", "Tournier", "Vuillaume", "Bensalem", "Diarra", "Keita", "Kaya", "Nguyen Van",
    "Da Silva", "Martins", "Lopes", "Bakayoko", "Chevalier", "Gauthier", "Hamidi", "Ouattara",
)  # fmt: skip
FEMALE_NAMES = tuple(sorted({p.first_name for p in PEOPLE if p.sex == "F"} | set(_EXTRA_FEMALE)))
MALE_NAMES = tuple(sorted({p.first_name for p in PEOPLE if p.sex == "M"} | set(_EXTRA_MALE)))
LAST_NAMES = tuple(sorted({p.last_name for p in PEOPLE} | set(_EXTRA_LAST)))
OTHER_STREETS = ("rue de la Paix", "avenue Jean-Jaurès", "rue des Jardins", "rue du Stade")
OTHER_TOWNS = (("90000", "Belfort"), ("90800", "Bavilliers"), ("90400", "Danjoutin"))
NOTES = (
    "Préfère être contactée par SMS.",
    "Disponible uniquement le matin.",
    "Joignable par l'intermédiaire de sa sœur.",
    "Ne souhaite pas de courrier à son adresse actuelle.",
)
FT_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


class _Choice:
    """A weighted choice, with its cumulative weights computed once."""

    def __init__(self, pairs: Iterable[tuple[str, int]]) -> None:
        items = list(pairs)
        self.values = [value for value, _ in items]
        self.cumulative = list(itertools.accumulate(weight for _, weight in items))

    def __call__(self, rng: random.Random) -> str:
        return rng.choices(self.values, cum_weights=self.cumulative)[0]


_KIND = _Choice(zip(KINDS, KIND_WEIGHTS, strict=True))
_ENTRY = {kind: _Choice(pairs) for kind, pairs in ENTRY.items()}
_EDUCATION = {
    kind: _Choice((*pairs, ("", 100 - sum(w for _, w in pairs))))
    for kind, pairs in EDUCATION.items()
}
_CATEGORY = {kind: _Choice(pairs) for kind, pairs in CATEGORIES.items()}
_SEX = {
    "parent": _Choice((("female", 85), ("male", 12), ("other", 1), ("", 2))),
    "any": _Choice((("female", 47), ("male", 48), ("other", 1), ("", 4))),
}
_EXIT = _Choice(EXIT_REASONS)
_CLOSING_CHOICES = [(event, outcome) for event, outcome, _ in CLOSINGS]
_CLOSING_WEIGHTS = list(itertools.accumulate(weight for _, _, weight in CLOSINGS))
_STREETS = {qpv.code: (qpv.streets, qpv.postcode, qpv.city) for qpv in QPVS}


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isalnum() and c.isascii()).lower()


def _digest(*parts: object) -> bytes:
    text = "|".join(["relais-synthetic", *(str(p) for p in parts)])
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def pseudonym_for(seed: int, index: int, attempt: int = 0) -> str:
    """The pseudonym of the ``index``-th person of the database for ``seed`` (the next
    ``attempt`` after a collision), in the format of ``new_pseudonym``."""
    base = len(PSEUDONYM_ALPHABET)
    number = int.from_bytes(_digest("pseudonym", seed, index, attempt)[:8], "big") % base**8
    chars = []
    for _ in range(8):
        number, digit = divmod(number, base)
        chars.append(PSEUDONYM_ALPHABET[digit])
    return f"P-{''.join(chars[:4])}-{''.join(chars[4:])}"


# -- what a pathway is made of, in memory -----------------------------------------------------


@dataclass(slots=True, eq=False)
class _FollowUp:
    id: uuid.UUID
    structure: str
    started_on: date
    last_active: date  # the last day the structure did something for the person
    ended_on: date | None = None
    end_reason: str | None = None


@dataclass(slots=True, eq=False)
class _Step:
    id: uuid.UUID
    structure: str
    stage: str
    started_on: date
    recorded_by: str
    action: str | None
    ended_on: date | None = None


@dataclass(slots=True, eq=False)
class _Barrier:
    id: uuid.UUID
    category: str
    acting: str
    identified_on: date
    recorded_by: str
    status: BarrierStatus = BarrierStatus.IDENTIFIED
    closed_on: date | None = None

    def move(self, status: BarrierStatus, on: date) -> None:
        """Move as ``move_barrier`` does: through ``in_progress`` when the rules need it."""
        if self.status is status:
            return
        if not barrier_can_move(self.status, status):
            self.status = BarrierStatus.IN_PROGRESS
        if not barrier_can_move(self.status, status):  # pragma: no cover - a bug in this module
            raise ValueError(f"barrier cannot move from {self.status} to {status}")
        self.status = status
        self.closed_on = on if status.is_closed else None


@dataclass(slots=True, eq=False)
class _Transition:
    id: uuid.UUID
    event: HandoffEvent
    source: HandoffStatus | None
    target: HandoffStatus
    actor: str | None  # structure code (its caseworker acts); None for the deadline rule
    at: datetime
    reason: str | None = None  # decline reason or outcome code
    message: str | None = None


@dataclass(slots=True, eq=False)
class _Handoff:
    id: uuid.UUID
    sender: str
    receiver: str
    purpose: str  # "barrier", "training" or "employment"
    barrier: _Barrier | None
    sent_at: datetime
    note: str | None
    parent: _Handoff | None = None
    length: int = 1  # place in its redirect chain
    status: HandoffStatus = HandoffStatus.SENT
    answered_at: datetime | None = None
    first_contact_at: datetime | None = None
    closed_at: datetime | None = None
    decline_reason: str | None = None
    outcome: str | None = None
    events: list[_Transition] = field(default_factory=list)
    step: _Step | None = None  # the stage its completion recorded

    @property
    def last_day(self) -> date:
        return self.events[-1].at.date()


# -- playing one pathway ----------------------------------------------------------------------


class _Pathway:
    """One fictional person, played forward from registration with a generator of their own.

    Every date is checked against ``until`` (today, or the day the person leaves): what would
    happen on or after it does not happen, which leaves recent hand-offs pending.
    """

    def __init__(self, caseload: SyntheticCaseload, index: int) -> None:
        self.caseload = caseload
        self.index = index
        self.rng = rng = random.Random(_digest("person", caseload.seed, index))  # noqa: S311
        self.today = caseload.today
        self.id = self.uuid()
        self.kind = _KIND(rng)
        self.start = caseload.registration_day(rng)
        low, mode, high = KIND_AGE.get(self.kind, ADULT_AGE)
        self.age = round(rng.triangular(low, high, mode))
        self.sex = _SEX["parent" if self.kind == "parent" else "any"](rng)
        self.education = _EDUCATION[self.kind](rng)
        self.cohorts = self.draw_cohorts()
        qpvs = caseload.network.qpvs
        qpv = rng.choice(qpvs) if qpvs and rng.random() >= OUTSIDE_QPV_RATE else None
        self.qpv_id: int | None = qpv[0] if qpv is not None else None
        self.qpv_code: str | None = qpv[1] if qpv is not None else None
        self.entry = _ENTRY[self.kind](rng)
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
        self.follow_ups: dict[str, _FollowUp] = {}
        self.steps: list[_Step] = []
        self.barriers: list[_Barrier] = []
        self.handoffs: list[_Handoff] = []

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
        joined = self.caseload.joined_on
        return [
            c
            for c in codes
            if c not in exclude and self.fits_age(c) and (c not in joined or joined[c] <= day)
        ]

    def follow(self, code: str, day: date) -> None:
        """Open the structure's follow-up, unless it has one open already (tracks are played
        one after the other, so a later track may begin it earlier)."""
        follow_up = self.follow_ups.get(code)
        if follow_up is None:
            self.follow_ups[code] = _FollowUp(self.uuid(), code, day, day)
        elif day < follow_up.started_on:
            follow_up.started_on = day
        self.touch(code, day)

    def touch(self, code: str | None, day: date) -> None:
        follow_up = self.follow_ups.get(code or "")
        if follow_up is not None and day > follow_up.last_active:
            follow_up.last_active = day

    def step(
        self, structure: str, stage: str, on: date, action: str | None, by: str | None = None
    ) -> _Step:
        step = _Step(self.uuid(), structure, stage, on, by or structure, action)
        self.steps.append(step)
        self.touch(structure, on)
        return step

    def end_later(self, step: _Step, low: int, high: int) -> None:
        step.ended_on = self.after(step.started_on, low, high)

    # -- the stages --

    def play(self) -> None:
        self.follow(self.entry, self.start)
        self.stages()
        if self.exit is not None:
            self.leave(self.exit)
        else:
            self.close_follow_ups()

    def stages(self) -> None:
        """Orientation, then barriers, then training, then employment: each only after the
        one before, as far as the person's draw and time allow (the funnel)."""
        rng, reg = self.rng, self.entry
        reach = rng.random()
        to_barriers, to_training, to_employment = DEPTH[self.kind]
        action = ORIENTATION_ACTION.get(reg, "Premier accueil et diagnostic de la situation")
        orientation = self.step(reg, "orientation", self.start, action)
        day = self.after(self.start, 7, 45)
        if reach >= to_barriers or day is None:
            return
        orientation.ended_on = day
        diagnosis = self.step(reg, "barriers", day, rng.choice(BARRIERS_ACTION))
        self.barrier_phase(day)
        day = self.after(day, 30, 180)
        if reach >= to_training or day is None:
            return
        training = self.training(day)
        if training is None:
            return
        diagnosis.ended_on = training.started_on
        day = self.after(training.ended_on or training.started_on, 15, 120)
        if reach >= to_employment or day is None:
            return
        if training.ended_on is None or training.ended_on > day:
            training.ended_on = day  # left training for the job
        self.employment(day, training)

    def barrier_phase(self, day: date) -> None:
        wanted = self.rng.choices((1, 2, 3), cum_weights=(50, 85, 100))[0]
        categories: list[str] = []
        for _ in range(6):
            category = _CATEGORY[self.kind](self.rng)
            if category not in categories:
                categories.append(category)
            if len(categories) == wanted:
                break
        for i, category in enumerate(categories):
            on = day if i == 0 else self.after(day, 0, 20)
            if on is None:
                break
            self.barrier(category, on, self.entry)

    def training(self, day: date) -> _Step | None:
        reg = self.entry
        pool = self.partners(TRAINING[self.kind], day, reg)
        if self.consent and pool and self.rng.random() < 0.75:
            step = self.through_partner("training", pool, day, reg)
        else:
            step = self.step(reg, "training", day, self.rng.choice(TRAINING_ACTION))
        if step is None:
            return None
        self.end_later(step, 45, 240)
        if step.structure != reg and self.consent and self.rng.random() < 0.12:
            # Stages are not linear: a barrier shows up during training.
            on = self.after(step.started_on, 10, 60)
            if on is not None:
                self.barrier(_CATEGORY[self.kind](self.rng), on, step.structure)
        return step

    def employment(self, day: date, training: _Step) -> None:
        reg = self.entry
        sender = reg
        if training.structure != reg and self.rng.random() < 0.4:
            sender = training.structure  # the training partner hands the person to an employer
        pool = self.partners(EMPLOYMENT[self.kind], day, reg, sender)
        step: _Step | None
        if self.consent and pool and self.rng.random() < 0.6:
            step = self.through_partner("employment", pool, day, sender)
        else:
            step = self.step(reg, "employment", day, self.rng.choice(EMPLOYMENT_ACTION))
        if step is not None and self.rng.random() < 0.3:
            self.end_later(step, 90, 365)  # a fixed-term contract that ended

    def through_partner(
        self, purpose: str, pool: list[str], day: date, sender: str
    ) -> _Step | None:
        """Hand the person off for a stage, and once more elsewhere if that fails."""
        target = self.rng.choice(pool)
        note = self.rng.choice(STAGE_NOTE[purpose]) if self.rng.random() < 0.85 else None
        for _attempt in range(2):
            final = self.answer(self.send(sender, target, self.at(day), purpose, None, note))
            if final.step is not None or final.closed_at is None or self.rng.random() < 0.3:
                return final.step
            later = self.after(final.closed_at.date(), 3, 15)
            if later is None:
                return None
            day = later
            if final.status is not HandoffStatus.EXPIRED:
                target = self.rng.choice([c for c in pool if c != final.receiver] or pool)
        return None

    # -- barriers --

    def barrier(self, category: str, on: date, by: str) -> None:
        partner = ACTING_ON[category]
        joined = bool(self.partners((partner,), on, by))
        barrier = _Barrier(self.uuid(), category, partner if joined else by, on, by)
        self.barriers.append(barrier)
        self.touch(by, on)
        if barrier.acting != by and self.consent and self.rng.random() < 0.85:
            self.barrier_handoff(barrier, by, on)
        else:
            self.work_alone(barrier, on)

    def work_alone(self, barrier: _Barrier, on: date) -> None:
        """The acting structure works on the barrier without a hand-off."""
        day = self.after(on, 1, 15)
        if day is None:
            return
        barrier.move(BarrierStatus.IN_PROGRESS, day)
        self.touch(barrier.acting, day)
        end = self.after(day, 20, 150)
        closing = self.rng.choices(
            (BarrierStatus.LIFTED, BarrierStatus.PERSISTING, BarrierStatus.NOT_ADDRESSED, None),
            cum_weights=(55, 75, 85, 100),
        )[0]
        if end is not None and closing is not None:
            barrier.move(closing, end)
            self.touch(barrier.acting, end)

    def barrier_handoff(self, barrier: _Barrier, sender: str, on: date) -> None:
        """Hand the barrier to the partner acting on it; after a refusal or no answer, try
        again (elsewhere after a refusal) or give up."""
        target, tried = barrier.acting, {barrier.acting}
        note: str | None = BARRIER_NOTE[barrier.category] if self.rng.random() < 0.85 else None
        moment = self.at(on)
        for _attempt in range(3):
            final = self.answer(self.send(sender, target, moment, "barrier", barrier, note))
            if final.answered_at is not None and final.status is not HandoffStatus.DECLINED:
                barrier.acting = final.receiver  # accepted: that partner acts on it
                return
            if final.closed_at is None:
                return  # still waiting for an answer
            closed = final.closed_at.date()
            if final.status is HandoffStatus.WITHDRAWN:
                barrier.acting = sender
                self.work_alone(barrier, closed)
                return
            if final.decline_reason == "not_interested" or self.rng.random() < 0.4:
                day = self.after(closed, 1, 10)
                if day is not None:
                    barrier.move(BarrierStatus.NOT_ADDRESSED, day)
                return
            day = self.after(closed, 1, 10)
            if day is None:
                return
            moment = self.at(day)
            if final.status is HandoffStatus.EXPIRED:
                note = RESEND_NOTE
                continue
            others = self.partners(ALTERNATES[barrier.category], day, sender, *tried)
            if not others:
                return
            target = self.rng.choice(others)
            tried.add(target)

    # -- hand-offs --

    def send(
        self,
        sender: str,
        receiver: str,
        moment: datetime,
        purpose: str,
        barrier: _Barrier | None,
        note: str | None,
        parent: _Handoff | None = None,
    ) -> _Handoff:
        handoff = _Handoff(self.uuid(), sender, receiver, purpose, barrier, moment, note, parent)
        if parent is not None:
            handoff.length = parent.length + 1
        handoff.events.append(_Transition(self.uuid(), _E.SEND, None, _S.SENT, sender, moment))
        self.handoffs.append(handoff)
        self.touch(sender, moment.date())
        return handoff

    def act(
        self,
        handoff: _Handoff,
        event: HandoffEvent,
        actor: str | None,
        moment: datetime,
        *,
        reason: str | None = None,
        message: str | None = None,
    ) -> None:
        """Apply ``event`` with the transition table of ``app.domain.handoffs``."""
        if actor is None:
            party = Party.SYSTEM
        else:
            party = Party.SENDER if actor == handoff.sender else Party.RECEIVER
        target = next_status(handoff.status, event, party)  # InvalidTransition on a bug here
        if moment < handoff.events[-1].at:  # pragma: no cover - a bug in this module
            raise ValueError("hand-off events out of order")
        handoff.events.append(
            _Transition(self.uuid(), event, handoff.status, target, actor, moment, reason, message)
        )
        handoff.status = target
        if event in (_E.ACCEPT, _E.DECLINE, _E.REDIRECT):
            handoff.answered_at = moment
        if event is _E.FIRST_CONTACT:
            handoff.first_contact_at = moment
        if event is _E.DECLINE:
            handoff.decline_reason = reason
        if event in (_E.COMPLETE, _E.NOT_COMPLETE):
            handoff.outcome = reason
        if target.is_final:
            handoff.closed_at = moment
        self.touch(actor, moment.date())

    def answer(self, handoff: _Handoff) -> _Handoff:
        """Play the receiver's side (or the sender's withdrawal, or the expiry); returns the
        last hand-off of the redirect chain."""
        rng = self.rng
        draw = rng.random()
        sent = handoff.sent_at.date()
        if draw < WITHDRAW_RATE:
            day = self.after(sent, 1, 10)
            if day is not None:
                message = rng.choice(WITHDRAW_MESSAGE)
                self.act(handoff, _E.WITHDRAW, handoff.sender, self.at(day), message=message)
            return handoff
        if draw < WITHDRAW_RATE + SILENT_RATE:
            hours = timedelta(days=self.caseload.expiry_days, hours=rng.randint(1, 6))
            if (handoff.sent_at + hours).date() < self.until:
                self.act(handoff, _E.EXPIRE, None, handoff.sent_at + hours)
            return handoff
        day = self.after(sent, *((8, 28) if rng.random() < SLOW_RATE else (1, 7)))
        if day is None:
            return handoff
        draw = rng.random()
        if draw < DECLINE_RATE:
            reason = rng.choice(DECLINE_REASONS)
            message = DECLINE_MESSAGE[reason]
            self.act(
                handoff, _E.DECLINE, handoff.receiver, self.at(day), reason=reason, message=message
            )
            return handoff
        if (
            handoff.length <= len(REDIRECT_RATE)
            and draw < DECLINE_RATE + REDIRECT_RATE[handoff.length - 1]
        ):
            target = self.redirect_target(handoff, day)
            if target is not None:
                return self.answer(self.redirect(handoff, target, self.at(day)))
        self.accept(handoff, day)
        return handoff

    def redirect_target(self, handoff: _Handoff, day: date) -> str | None:
        chain: set[str] = set()
        link: _Handoff | None = handoff
        while link is not None:
            chain |= {link.sender, link.receiver}
            link = link.parent
        if handoff.barrier is not None:
            specific = ALTERNATES[handoff.barrier.category]
        else:
            specific = (
                TRAINING[self.kind] if handoff.purpose == "training" else EMPLOYMENT[self.kind]
            )
        found = self.partners(specific, day, *chain) or self.partners(GENERALISTS, day, *chain)
        return self.rng.choice(found) if found else None

    def redirect(self, handoff: _Handoff, target: str, moment: datetime) -> _Handoff:
        """The receiver closes the hand-off and sends a linked one to ``target``."""
        name = self.caseload.network.names[target]
        message = (
            f"Demande plus adaptée à : {name}. Nous transmettons, avec l'accord de la personne."
        )
        self.act(handoff, _E.REDIRECT, handoff.receiver, moment, message=message)
        return self.send(
            handoff.receiver, target, moment, handoff.purpose, handoff.barrier, message, handoff
        )

    def accept(self, handoff: _Handoff, day: date) -> None:
        receiver = handoff.receiver
        self.act(handoff, _E.ACCEPT, receiver, self.at(day))
        self.follow(receiver, day)
        if self.rng.random() < NEVER_CAME_RATE:
            end = self.after(day, 10, 30)
            if end is not None:
                outcome = self.rng.choice(("person_stopped", "other"))
                self.close(handoff, _E.NOT_COMPLETE, outcome, end, NEVER_CAME_MESSAGE)
            return
        contact = self.after(day, 2, 15)
        if contact is None:
            return
        self.act(handoff, _E.FIRST_CONTACT, receiver, self.at(contact))
        if handoff.barrier is not None and handoff.barrier.status is BarrierStatus.IDENTIFIED:
            handoff.barrier.move(BarrierStatus.IN_PROGRESS, contact)
        end = self.after(contact, *SPANS[handoff.purpose])
        if end is None:
            return
        event, drawn = self.rng.choices(_CLOSING_CHOICES, cum_weights=_CLOSING_WEIGHTS)[0]
        outcome = drawn or SUCCESS[handoff.purpose]
        message = STOP_MESSAGE if outcome == "person_stopped" else None
        self.close(handoff, event, outcome, end, message)

    def close(
        self, handoff: _Handoff, event: HandoffEvent, outcome: str, day: date, message: str | None
    ) -> None:
        """Close with an outcome, and apply what ``app.services.handoffs`` applies."""
        if not outcome_fits(event, outcome):  # pragma: no cover - a bug in this module
            raise ValueError(f"outcome {outcome} does not fit {event}")
        self.act(handoff, event, handoff.receiver, self.at(day), reason=outcome, message=message)
        barrier = handoff.barrier
        if barrier is not None:
            if event is _E.COMPLETE and outcome in BARRIER_AFTER_OUTCOME:
                barrier.move(BARRIER_AFTER_OUTCOME[outcome], day)
            elif event is _E.NOT_COMPLETE or outcome == "other":
                stops = outcome == "person_stopped" and self.rng.random() < 0.5
                barrier.move(
                    BarrierStatus.NOT_ADDRESSED if stops else BarrierStatus.PERSISTING, day
                )
        stage = STAGE_AFTER_OUTCOME.get(outcome) if event is _E.COMPLETE else None
        if stage is not None:
            handoff.step = self.step(handoff.receiver, stage, day, None)

    # -- the end of the story --

    def leave(self, day: date) -> None:
        """The person leaves (moves, is lost from view...): what is open is closed."""
        reason = _EXIT(self.rng)
        reg = self.entry
        self.step(reg, "exit_other", day, EXIT_ACTION[reason]).ended_on = day
        for handoff in self.handoffs:
            later = self.after(max(day, handoff.last_day + timedelta(days=1)), 0, 5, self.today)
            if later is None or handoff.status.is_final:
                continue
            if handoff.status is HandoffStatus.SENT:
                message = "La personne a quitté le dispositif : orientation annulée."
                self.act(handoff, _E.WITHDRAW, handoff.sender, self.at(later), message=message)
            else:
                outcome = "person_stopped" if reason == "person_stopped" else "other"
                self.close(handoff, _E.NOT_COMPLETE, outcome, later, None)
        for barrier in self.barriers:
            if not barrier.status.is_closed:
                barrier.move(BarrierStatus.NOT_ADDRESSED, day)
        for follow_up in self.follow_ups.values():
            self.end_follow_up(follow_up, max(day, follow_up.last_active), reason, 0, 10)

    def end_follow_up(
        self, follow_up: _FollowUp, after: date, reason: str, low: int, high: int
    ) -> None:
        end = self.after(max(after, follow_up.last_active), low, high, self.today)
        if end is not None:
            follow_up.ended_on, follow_up.end_reason = end, reason

    def close_follow_ups(self) -> None:
        """Follow-ups end once their work is done: the registering structure's when the
        person has a job (or, for the MLDS, when training begins elsewhere); a partner's
        when its hand-offs and stages are over."""
        reg = self.entry
        jobs = [s.started_on for s in self.steps if s.stage == "employment"]
        trainings = [s.started_on for s in self.steps if s.stage == "training"]
        for code, follow_up in self.follow_ups.items():
            if code == reg:
                if jobs:
                    self.end_follow_up(follow_up, jobs[0], "goal_reached", 10, 60)
                elif reg == "MLDS90" and trainings:
                    self.end_follow_up(follow_up, trainings[0], "handed_off", 2, 10)
                continue
            busy = [
                h for h in self.handoffs if code in (h.sender, h.receiver) and h.closed_at is None
            ]
            ongoing = [s for s in self.steps if s.structure == code and s.ended_on is None]
            if busy or ongoing or self.rng.random() < 0.25:
                continue
            closed = [h for h in self.handoffs if h.receiver == code and h.outcome is not None]
            last = max(closed, key=lambda h: h.last_day, default=None)
            reason = END_AFTER_OUTCOME.get(last.outcome or "", "other") if last else "other"
            ended = [s.ended_on for s in self.steps if s.structure == code and s.ended_on]
            self.end_follow_up(follow_up, max([follow_up.last_active, *ended]), reason, 0, 20)

    def identity(self) -> Identity:
        rng, index = self.rng, self.index
        names = {"female": FEMALE_NAMES, "male": MALE_NAMES}.get(self.sex)
        first = rng.choice(names or rng.choice((FEMALE_NAMES, MALE_NAMES)))
        last = rng.choice(LAST_NAMES)
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        year = self.start.year - self.age - ((month, day) > (self.start.month, self.start.day))
        serial = (index * 7919 + self.caseload.seed * 104729) % 1_000_000
        ft = self.entry == "FT90" or self.kind in ("graduate", "adult")
        return Identity(
            last_name=last,
            first_name=first,
            birth_date=date(min(max(year, 1960), 2010), month, day),
            phone=f"+33600{serial:06d}" if rng.random() < 0.9 else None,
            email=f"{_ascii(first)}.{_ascii(last)}.{index}@exemple.fr"
            if rng.random() < 0.7
            else None,
            address=self.address() if rng.random() < 0.95 else None,
            france_travail_id=(
                f"{rng.randint(1_000_000, 9_999_999)}{rng.choice(FT_LETTERS)}"
                if ft and rng.random() < 0.5
                else None
            ),
            ine=(
                f"{rng.randint(10**9, 10**10 - 1)}{rng.choice(FT_LETTERS)}"
                if self.kind == "young" and rng.random() < 0.5
                else None
            ),
            notes=rng.choice(NOTES) if rng.random() < 0.08 else None,
        )

    def address(self) -> str:
        rng = self.rng
        known = _STREETS.get(self.qpv_code or "")
        if known is not None:
            streets, postcode, city = known
        else:
            streets, (postcode, city) = OTHER_STREETS, rng.choice(OTHER_TOWNS)
        return f"{rng.randint(1, 80)} {rng.choice(streets)}, {postcode} {city}"


# -- writing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Network:
    """What the generator needs of the demo network and the reference lists, read once."""

    ids: dict[str, int]  # structure code -> id
    names: dict[str, str]  # structure code -> name
    caseworkers: dict[str, int]  # structure code -> its demo caseworker's user id
    refs: dict[ReferenceKind, dict[str, int]]  # kind -> code -> reference item id
    qpvs: tuple[tuple[int, str], ...]  # (id, code) of the active QPVs


@dataclass
class GenerationCounts:
    """What was written: rows per table, and the states the indicators read."""

    people: int = 0
    rows: Counter[str] = field(default_factory=Counter)
    handoffs_by_status: Counter[str] = field(default_factory=Counter)
    steps_by_stage: Counter[str] = field(default_factory=Counter)
    barriers_by_status: Counter[str] = field(default_factory=Counter)

    def add(self, other: GenerationCounts) -> None:
        self.people += other.people
        self.rows.update(other.rows)
        self.handoffs_by_status.update(other.handoffs_by_status)
        self.steps_by_stage.update(other.steps_by_stage)
        self.barriers_by_status.update(other.barriers_by_status)


class _SealingVault(Vault):
    """The application's vault, holding the data key of the person being written (not in the
    database yet), which ``seal_identity`` asks for."""

    def __init__(self, vault: Vault) -> None:  # shares the key ring and indexer, no new keys
        self.keys = vault.keys
        self.indexer = vault.indexer
        self.key: DataKey | None = None

    def person_key(self, session: Session, person_id: uuid.UUID) -> DataKey:
        if self.key is None:  # pragma: no cover - a bug in this module
            raise RuntimeError("no data key in hand")
        return self.key


class _Sealed:
    """What ``seal_identity`` writes on a person, kept for a bulk insert (see imports)."""

    def __init__(self, person_id: uuid.UUID) -> None:
        self.id = person_id

    def __repr__(self) -> str:
        return f"_Sealed({self.id})"


_SEALED_COLUMNS = (
    *IDENTITY_FIELDS,
    "index_version",
    "name_birth_index",
    "email_index",
    "phone_index",
    "birth_year",
)
# Tables in the order their rows are inserted (foreign keys first).
_MODELS: tuple[Any, ...] = (
    Beneficiary,
    PersonKey,
    beneficiary_cohorts,
    Consent,
    FollowUp,
    Barrier,
    PathwayStep,
    Handoff,
    HandoffTransition,
    AuditEvent,
)
_TABLES: tuple[Table, ...] = tuple(
    cast(Table, model if isinstance(model, Table) else model.__table__) for model in _MODELS
)


class _BatchWriter:
    """The rows of one batch, table by table, built from played pathways."""

    def __init__(self, caseload: SyntheticCaseload, session: Session, vault: Vault) -> None:
        self.caseload = caseload
        self.network = caseload.network
        self.session = session
        self.vault = _SealingVault(vault)
        self.now = utcnow()  # one creation time per batch, as the import does
        self.rows: dict[str, list[dict[str, Any]]] = {t.name: [] for t in _TABLES}
        self.counts = GenerationCounts()

    def insert(self) -> None:
        # Core inserts, one executemany per table (as in app.services.imports).
        for table in _TABLES:
            rows = self.rows[table.name]
            if not rows:
                continue
            if table.name == AuditEvent.__tablename__:
                audit.append_many(self.session, rows)  # chained (app.services.audit)
            else:
                self.session.execute(insert(table), rows)
            self.counts.rows[table.name] += len(rows)

    def audit(
        self, actor: str, action: AuditAction, subject: str, subject_id: uuid.UUID,
        person_id: uuid.UUID, **data: str | int | None,
    ) -> None:  # fmt: skip
        """An audit event as ``audit.record`` writes it, as the import writes it."""
        self.rows["audit_events"].append(
            {
                "at": self.now,
                "actor_id": self.network.caseworkers[actor],
                "actor_structure_id": self.network.ids[actor],
                "action": action.value,
                "subject_type": subject,
                "subject_id": str(subject_id),
                "beneficiary_id": person_id,
                "purpose": AUDIT_PURPOSE,
                "data": {"import_id": self.caseload.run_id, **data},
            }
        )

    def add(self, person: _Pathway, pseudonym: str) -> None:
        key = DataKey.generate()
        kek_id, wrapped = self.vault.keys.wrap(key)
        self.vault.key = key
        sealed = _Sealed(person.id)
        seal_identity(self.vault, self.session, cast(Beneficiary, sealed), person.identity())
        self.person(person, pseudonym, sealed)
        self.rows["person_keys"].append(
            {
                "beneficiary_id": person.id,
                "kek_id": kek_id,
                "wrapped_key": wrapped,
                "created_at": self.now,
                "rewrapped_at": None,
            }
        )
        self.pathway(person, key)
        self.handoffs(person, key)
        self.vault.key = None
        self.counts.people += 1

    def person(self, person: _Pathway, pseudonym: str, sealed: _Sealed) -> None:
        network, reg = self.network, person.entry
        self.rows["beneficiaries"].append(
            {
                "id": person.id,
                "pseudonym": pseudonym,
                **{name: getattr(sealed, name) for name in _SEALED_COLUMNS},
                "sex": Sex(person.sex) if person.sex else None,
                "qpv_id": person.qpv_id,
                "education_level": EducationLevel(person.education) if person.education else None,
                "created_month": person.start.replace(day=1),
                "created_by_structure_id": network.ids[reg],
                "created_at": self.now,
                "erased_at": None,
            }
        )
        cohorts = network.refs[ReferenceKind.COHORT]
        self.rows["beneficiary_cohorts"].extend(
            {"beneficiary_id": person.id, "cohort_id": cohorts[code]} for code in person.cohorts
        )
        self.audit(reg, AuditAction.BENEFICIARY_CREATE, "beneficiaries", person.id, person.id)
        if person.consent_method is not None:
            consent_id = person.uuid()
            self.rows["consents"].append(
                {
                    "id": consent_id,
                    "beneficiary_id": person.id,
                    "scope": ConsentScope.NETWORK_SHARING,
                    "method": person.consent_method,
                    "given_on": person.start,
                    "recorded_by_id": network.caseworkers[reg],
                    "recorded_by_structure_id": network.ids[reg],
                    "withdrawn_on": None,
                    "withdrawal_source": None,
                    "created_at": self.now,
                    "withdrawn_at": None,
                }
            )
            method = person.consent_method.value
            self.audit(
                reg, AuditAction.CONSENT_RECORD, "consents", consent_id, person.id, method=method
            )

    def pathway(self, person: _Pathway, key: DataKey) -> None:
        network, refs = self.network, self.network.refs
        for f in person.follow_ups.values():
            self.rows["follow_ups"].append(
                {
                    "id": f.id,
                    "beneficiary_id": person.id,
                    "structure_id": network.ids[f.structure],
                    "referent_id": network.caseworkers[f.structure],
                    "started_on": f.started_on,
                    "ended_on": f.ended_on,
                    "end_reason_id": refs[ReferenceKind.END_REASON][f.end_reason]
                    if f.end_reason
                    else None,
                    "created_at": self.now,
                }
            )
        for b in person.barriers:
            self.rows["barriers"].append(
                {
                    "id": b.id,
                    "beneficiary_id": person.id,
                    "category_id": refs[ReferenceKind.BARRIER_CATEGORY][b.category],
                    "status": b.status,
                    "acting_structure_id": network.ids[b.acting],
                    "identified_on": b.identified_on,
                    "closed_on": b.closed_on,
                    "recorded_by_id": network.caseworkers[b.recorded_by],
                    "created_at": self.now,
                }
            )
            self.counts.barriers_by_status[b.status.value] += 1
        for s in person.steps:
            self.rows["pathway_steps"].append(
                {
                    "id": s.id,
                    "beneficiary_id": person.id,
                    "structure_id": network.ids[s.structure],
                    "stage_id": refs[ReferenceKind.STAGE][s.stage],
                    "started_on": s.started_on,
                    "ended_on": s.ended_on,
                    "action": Vault.seal(key, "pathway_steps", "action", s.id, person.id, s.action),
                    "recorded_by_id": network.caseworkers[s.recorded_by],
                    "created_at": self.now,
                }
            )
            self.counts.steps_by_stage[s.stage] += 1

    def handoffs(self, person: _Pathway, key: DataKey) -> None:
        network, refs = self.network, self.network.refs
        for h in person.handoffs:
            self.rows["handoffs"].append(
                {
                    "id": h.id,
                    "beneficiary_id": person.id,
                    "from_structure_id": network.ids[h.sender],
                    "from_user_id": network.caseworkers[h.sender],
                    "to_structure_id": network.ids[h.receiver],
                    "purpose_stage_id": refs[ReferenceKind.STAGE][h.purpose]
                    if h.barrier is None
                    else None,
                    "purpose_barrier_id": h.barrier.id if h.barrier is not None else None,
                    "note": Vault.seal(key, "handoffs", "note", h.id, person.id, h.note),
                    "consent_confirmed": True,
                    "status": h.status,
                    "parent_id": h.parent.id if h.parent is not None else None,
                    "decline_reason_id": refs[ReferenceKind.DECLINE_REASON][h.decline_reason]
                    if h.decline_reason
                    else None,
                    "outcome_id": refs[ReferenceKind.OUTCOME][h.outcome] if h.outcome else None,
                    "sent_at": h.sent_at,
                    "answered_at": h.answered_at,
                    "first_contact_at": h.first_contact_at,
                    "closed_at": h.closed_at,
                    "version": len(h.events),  # one per transition, as the ORM's version counter
                }
            )
            self.counts.handoffs_by_status[h.status.value] += 1
            for t in h.events:
                self.rows["handoff_transitions"].append(self.transition(person, key, h, t))

    def transition(
        self, person: _Pathway, key: DataKey, handoff: _Handoff, t: _Transition
    ) -> dict[str, Any]:
        network, refs = self.network, self.network.refs
        reason_id = None
        if t.event is _E.DECLINE and t.reason:
            reason_id = refs[ReferenceKind.DECLINE_REASON][t.reason]
        elif t.reason:
            reason_id = refs[ReferenceKind.OUTCOME][t.reason]
        table = "handoff_transitions"
        return {
            "id": t.id,
            "handoff_id": handoff.id,
            "event": t.event,
            "from_status": t.source,
            "to_status": t.target,
            "actor_id": network.caseworkers[t.actor] if t.actor else None,
            "actor_structure_id": network.ids[t.actor] if t.actor else None,
            "reason_id": reason_id,
            "message": Vault.seal(key, table, "message", t.id, person.id, t.message),
            "at": t.at,
        }


# -- the run ----------------------------------------------------------------------------------


def _month_start(day: date, back: int) -> date:
    """The first day of the month ``back`` months before ``day``'s."""
    months = day.year * 12 + day.month - 1 - back
    return date(months // 12, months % 12 + 1, 1)


class SyntheticCaseload:
    """A run of the generator: the network, the seed, ``today`` and the next person's index."""

    def __init__(
        self, network: _Network, *, seed: int, today: date, first_index: int, expiry_days: int
    ) -> None:
        self.network = network
        self.seed = seed
        self.today = today
        self.next_index = first_index
        self.expiry_days = expiry_days
        self.run_id = str(uuid.UUID(bytes=_digest("run", seed, first_index), version=4))
        # The 36 months people are registered in (without the current one on its first day,
        # which has no day before today), each more than the one before: the network grows.
        newest = 1 if today.day == 1 else 0
        self.months = [
            _month_start(today, back) for back in range(MONTHS - 1 + newest, newest - 1, -1)
        ]
        self.month_weights = list(
            itertools.accumulate(1 + 2 * i / (MONTHS - 1) for i in range(MONTHS))
        )
        self.joined_on = {code: _month_start(today, n) for code, n in JOINED_MONTHS_AGO.items()}

    def registration_day(self, rng: random.Random) -> date:
        month = rng.choices(self.months, cum_weights=self.month_weights)[0]
        following = _month_start(month, -1)
        last = min(following, self.today) - timedelta(days=1)
        return month + timedelta(days=rng.randint(0, (last - month).days))

    def write_batch(self, session: Session, vault: Vault, size: int) -> GenerationCounts:
        """Play and write the next ``size`` people (one statement per table); no commit."""
        indices = range(self.next_index, self.next_index + size)
        writer = _BatchWriter(self, session, vault)
        for index, pseudonym in zip(indices, self._pseudonyms(session, indices), strict=True):
            pathway = _Pathway(self, index)
            pathway.play()
            writer.add(pathway, pseudonym)
        writer.insert()
        self.next_index += size
        return writer.counts

    def _pseudonyms(self, session: Session, indices: Sequence[int]) -> list[str]:
        """The batch's pseudonyms, drawn again (deterministically) where one is taken."""
        attempts = dict.fromkeys(indices, 0)
        chosen = {i: pseudonym_for(self.seed, i) for i in indices}
        for _ in range(20):
            taken = _taken(session, list(chosen.values()))
            seen: set[str] = set()
            clashes = []
            for i in indices:
                if chosen[i] in taken or chosen[i] in seen:
                    clashes.append(i)
                seen.add(chosen[i])
            if not clashes:
                return [chosen[i] for i in indices]
            for i in clashes:
                attempts[i] += 1
                chosen[i] = pseudonym_for(self.seed, i, attempts[i])
        raise RuntimeError("could not draw free pseudonyms")  # 20 rounds of collisions: never


def _taken(session: Session, pseudonyms: Sequence[str]) -> set[str]:
    taken: set[str] = set()
    for start in range(0, len(pseudonyms), LOOKUP_CHUNK):
        chunk = pseudonyms[start : start + LOOKUP_CHUNK]
        taken.update(
            session.scalars(select(Beneficiary.pseudonym).where(Beneficiary.pseudonym.in_(chunk)))
        )
    return taken


# Reference codes the generator writes, by list.
_NEEDED_CODES = {
    ReferenceKind.COHORT: set(KIND_COHORT.values()),
    ReferenceKind.STAGE: {"orientation", "barriers", "training", "employment", "exit_other"},
    ReferenceKind.BARRIER_CATEGORY: set(ACTING_ON),
    ReferenceKind.DECLINE_REASON: set(DECLINE_REASONS),
    ReferenceKind.OUTCOME: set(END_AFTER_OUTCOME),
    ReferenceKind.END_REASON: set(END_AFTER_OUTCOME.values()) | {r for r, _ in EXIT_REASONS},
}


def _read_network(session: Session) -> _Network:
    codes = [spec.code for spec in STRUCTURES]
    found = session.execute(
        select(Structure.code, Structure.id, Structure.name).where(
            Structure.code.in_(codes), Structure.active.is_(True)
        )
    ).all()
    ids = {code: sid for code, sid, _name in found}
    emails = {spec.caseworker_email: spec.code for spec in STRUCTURES}
    users = session.execute(
        select(User.email, User.id, User.structure_id).where(
            User.email.in_(list(emails)), User.active.is_(True)
        )
    ).all()
    caseworkers = {emails[email]: uid for email, uid, sid in users if ids.get(emails[email]) == sid}
    missing = sorted(set(codes) - (set(ids) & set(caseworkers)))
    if missing:
        raise NotFound(
            N_(
                "The demo network is not complete (missing or inactive: %(missing)s); "
                "load the demo into a database without people first."
            ),
            missing=", ".join(missing),
        )
    refs = {kind: _codes(session, kind) for kind in _NEEDED_CODES}
    lacking = sorted(
        f"{k.value}:{c}" for k, need in _NEEDED_CODES.items() for c in need - set(refs[k])
    )
    if lacking:
        raise NotFound(
            N_("Reference list entries are missing or inactive: %(missing)s."),
            missing=", ".join(lacking),
        )
    qpvs = session.execute(
        select(ReferenceItem.id, ReferenceItem.code)
        .where(ReferenceItem.kind == ReferenceKind.QPV, ReferenceItem.active.is_(True))
        .order_by(ReferenceItem.position, ReferenceItem.code)
    ).all()
    names = {code: name for code, _sid, name in found}
    return _Network(ids, names, caseworkers, refs, tuple((i, c) for i, c in qpvs))


def _codes(session: Session, kind: ReferenceKind) -> dict[str, int]:
    rows = session.execute(
        select(ReferenceItem.code, ReferenceItem.id).where(
            ReferenceItem.kind == kind, ReferenceItem.active.is_(True)
        )
    )
    return {str(code): int(item_id) for code, item_id in rows}


def people_count(session: Session) -> int:
    """How many people the database holds: a run numbers its people after them."""
    return session.scalar(select(func.count()).select_from(Beneficiary)) or 0


def prepare_caseload(
    session: Session, *, seed: int, today: date, expiry_days: int = 30
) -> SyntheticCaseload:
    """A generator run on the demo network, numbering people after those already stored.

    Raises ``NotFound`` when the demo network (structures and their caseworkers) or the seeded
    reference lists are not all there. ``expiry_days`` is the hand-off expiry delay.
    """
    network = _read_network(session)
    return SyntheticCaseload(
        network,
        seed=seed,
        today=today,
        first_index=people_count(session),
        expiry_days=expiry_days,
    )


def generate(
    session: Session,
    vault: Vault,
    *,
    people: int,
    today: date,
    seed: int,
    batch_size: int = DEFAULT_BATCH_SIZE,
    expiry_days: int = 30,
    progress: Callable[[int], None] | None = None,
) -> GenerationCounts:
    """Add ``people`` fictional people to the demo network, ``batch_size`` at a time, in the
    caller's transaction (``flask demo generate`` commits after each ``write_batch`` instead).

    Raises ``InvalidInput`` for a number of people out of 1 to ``MAX_PEOPLE`` or a batch
    size below 1, ``NotFound`` as ``prepare_caseload`` does.
    """
    if not 1 <= people <= MAX_PEOPLE:
        raise InvalidInput(
            N_("The number of people must be between 1 and %(max)d."),
            field="people",
            max=MAX_PEOPLE,
        )
    if batch_size < 1:
        raise InvalidInput(N_("The batch size must be at least 1."), field="batch_size")
    caseload = prepare_caseload(session, seed=seed, today=today, expiry_days=expiry_days)
    totals = GenerationCounts()
    while totals.people < people:
        size = min(batch_size, people - totals.people)
        totals.add(caseload.write_batch(session, vault, size))
        if progress is not None:
            progress(size)
    return totals
