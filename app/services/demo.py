"""Load a fictional Belfort-like network: structures, accounts, people, pathways, hand-offs.

The demo goes through the same services as the web pages (registration, consent, steps,
barriers, hand-offs and their state machine), back-dated over the last eighteen months with
explicit dates, so that every screen and every indicator has something to show. The data
comes from ``app.data.demo_network``; a seeded ``random.Random`` picks dates and partners, so
the same seed gives the same network.

Loading is idempotent: when the demo administrator account exists, nothing is written and the
report says the demo is already loaded. The caller commits; this module only flushes.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.data.demo_network import (
    ACTING_ON,
    ADMIN_EMAIL,
    ADMIN_NAME,
    COORDINATOR_EMAIL,
    COORDINATOR_NAME,
    DEMO_PASSWORD,
    PEOPLE,
    QPVS,
    STRUCTURES,
    DemoPerson,
)
from app.domain.handoffs import HandoffEvent, HandoffStatus
from app.domain.pathway import BarrierStatus, ConsentMethod
from app.domain.people import EducationLevel, Sex
from app.domain.roles import Role
from app.models import (
    Barrier,
    Beneficiary,
    Consent,
    FollowUp,
    Handoff,
    PathwayStep,
    ReferenceItem,
    ReferenceKind,
    Structure,
    User,
)
from app.services.accounts import create_user, find_user
from app.services.demo_directory import load_directory
from app.services.errors import N_, Conflict
from app.services.handoffs import apply_event, send_handoff
from app.services.identity import Identity
from app.services.pathways import add_barrier, add_step, end_follow_up, set_barrier_status
from app.services.people import ConsentInput, NewPerson, register_person
from app.services.structures import add_reference_item, create_structure
from app.services.vault import Vault

__all__ = ["DEMO_PASSWORD", "DemoLogin", "DemoReport", "STORIES", "load_demo"]

# The password policy's default minimum length (``Config.PASSWORD_MIN_LENGTH``).
PASSWORD_MIN_LENGTH = 12
# Hand-off deadlines the demo illustrates (``Config.HANDOFF_OVERDUE_DAYS`` / ``_EXPIRY_DAYS``).
OVERDUE_DAYS = 10
EXPIRY_DAYS = 30


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: Role
    structure: str | None  # the structure's name, for caseworkers


@dataclass
class DemoReport:
    """What ``load_demo`` did. Counts are of records created by this run (zero if loaded)."""

    already_loaded: bool
    logins: list[DemoLogin]
    password: str = DEMO_PASSWORD
    qpvs: int = 0
    structures: int = 0
    cards: int = 0
    network_events: int = 0
    accounts: int = 0
    people: int = 0
    people_without_consent: int = 0
    follow_ups: int = 0
    steps: int = 0
    barriers: int = 0
    handoffs: int = 0
    handoffs_by_status: dict[str, int] = field(default_factory=dict)
    barriers_by_status: dict[str, int] = field(default_factory=dict)
    steps_by_stage: dict[str, int] = field(default_factory=dict)


def load_demo(
    session: Session,
    vault: Vault,
    *,
    today: date,
    rng_seed: int = 2026,
    password_min_length: int = PASSWORD_MIN_LENGTH,
) -> DemoReport:
    """Create the demo network, its accounts and its fictional people (or do nothing).

    Everything is dated before ``today``. Raises ``Conflict`` when part of the demo exists
    without its administrator account, or when the database already holds people: fictional
    people are never mixed with real ones. Service errors (e.g. reference lists missing because
    the migrations have not run) propagate; the caller rolls back.
    """
    if find_user(session, ADMIN_EMAIL) is not None:
        return DemoReport(already_loaded=True, logins=_logins(session))
    _refuse_mixing(session)

    admin = create_user(
        session,
        None,
        email=ADMIN_EMAIL,
        display_name=ADMIN_NAME,
        role=Role.ADMIN,
        structure=None,
        password=DEMO_PASSWORD,
        min_length=password_min_length,
    )
    qpvs = 0
    for qpv in QPVS:
        exists = session.scalar(
            select(ReferenceItem.id).where(
                ReferenceItem.kind == ReferenceKind.QPV, ReferenceItem.code == qpv.code
            )
        )
        if exists is None:
            add_reference_item(
                session, admin, ReferenceKind.QPV, qpv.code, qpv.label_fr, qpv.label_en
            )
            qpvs += 1

    structures: dict[str, Structure] = {}
    caseworkers: dict[str, User] = {}
    for spec in STRUCTURES:
        structures[spec.code] = create_structure(
            session,
            admin,
            code=spec.code,
            name=spec.name,
            type_code=spec.type_code,
            missions=spec.missions,
            contact=spec.contact,
            city=spec.city,
            capacity=spec.capacity,
        )
    for spec in STRUCTURES:
        caseworkers[spec.code] = create_user(
            session,
            admin,
            email=spec.caseworker_email,
            display_name=spec.caseworker_name,
            role=Role.CASEWORKER,
            structure=structures[spec.code],
            password=DEMO_PASSWORD,
            min_length=password_min_length,
        )
    coordinator = create_user(
        session,
        admin,
        email=COORDINATOR_EMAIL,
        display_name=COORDINATOR_NAME,
        role=Role.COORDINATOR,
        structure=None,
        password=DEMO_PASSWORD,
        min_length=password_min_length,
    )

    cards, events = load_directory(
        session, admin, coordinator, structures, caseworkers, today=today
    )

    rng = random.Random(rng_seed)  # noqa: S311 - reproducible fictional data, not secrets
    builder = _Builder(session, vault, today, rng, structures, caseworkers)
    for person in PEOPLE:
        story = STORIES.get(person.story)
        if story is None:
            raise ValueError(f"unknown demo story {person.story!r}")
        story(builder, person)
    session.flush()

    report = DemoReport(
        already_loaded=False,
        logins=_logins(session),
        qpvs=qpvs,
        structures=len(structures),
        accounts=len(caseworkers) + 2,
        cards=cards,
        network_events=events,
    )
    _count(session, builder.people, report)
    return report


def _logins(session: Session) -> list[DemoLogin]:
    """The demo accounts that exist: administrator, coordinator, then one per structure."""
    emails = [ADMIN_EMAIL, COORDINATOR_EMAIL] + [s.caseworker_email for s in STRUCTURES]
    logins = []
    for email in emails:
        user = find_user(session, email)
        if user is not None:
            name = user.structure.name if user.structure else None
            logins.append(DemoLogin(email=user.email, role=user.role, structure=name))
    return logins


def _refuse_mixing(session: Session) -> None:
    codes = [s.code for s in STRUCTURES]
    taken = session.scalars(select(Structure.code).where(Structure.code.in_(codes))).all()
    emails = [COORDINATOR_EMAIL] + [s.caseworker_email for s in STRUCTURES]
    used = session.scalars(select(User.email).where(User.email.in_(emails))).all()
    if taken or used:
        raise Conflict(
            N_(
                "Part of the demo already exists (%(what)s) without the demo administrator "
                "account: load the demo into an empty database."
            ),
            what=", ".join([*taken, *used]),
        )
    if session.scalar(select(func.count()).select_from(Beneficiary)):
        raise Conflict(
            N_(
                "This database already holds people: the fictional demo people are only "
                "loaded into a database without any."
            )
        )


def _count(session: Session, people: Sequence[uuid.UUID], report: DemoReport) -> None:
    """Fill the report's counts from the database, for the people this run created."""
    report.people = len(people)
    with_consent = session.scalar(
        select(func.count(func.distinct(Consent.beneficiary_id))).where(
            Consent.beneficiary_id.in_(people)
        )
    )
    report.people_without_consent = len(people) - (with_consent or 0)
    report.follow_ups = (
        session.scalar(
            select(func.count()).select_from(FollowUp).where(FollowUp.beneficiary_id.in_(people))
        )
        or 0
    )
    handoffs = session.execute(
        select(Handoff.status, func.count())
        .where(Handoff.beneficiary_id.in_(people))
        .group_by(Handoff.status)
    ).all()
    report.handoffs_by_status = {status.value: n for status, n in handoffs}
    barriers = session.execute(
        select(Barrier.status, func.count())
        .where(Barrier.beneficiary_id.in_(people))
        .group_by(Barrier.status)
    ).all()
    report.barriers_by_status = {status.value: n for status, n in barriers}
    stages = session.execute(
        select(ReferenceItem.code, func.count())
        .select_from(PathwayStep)
        .join(ReferenceItem, ReferenceItem.id == PathwayStep.stage_id)
        .where(PathwayStep.beneficiary_id.in_(people))
        .group_by(ReferenceItem.code)
    ).all()
    report.steps_by_stage = {str(row[0]): int(row[1]) for row in stages}
    report.handoffs = sum(report.handoffs_by_status.values())
    report.barriers = sum(report.barriers_by_status.values())
    report.steps = sum(report.steps_by_stage.values())


# -- building blocks --------------------------------------------------------------------------

SEX = {"F": Sex.FEMALE, "M": Sex.MALE}

ORIENTATION_ACTION = {
    "ML90": "Premier accueil, diagnostic et entrée en Contrat d'engagement jeune (CEJ)",
    "FT90": "Inscription et diagnostic approfondi avec le conseiller",
    "CD90": "Orientation RSA : accompagnement socio-professionnel",
    "MLDS90": "Entretien de situation après un décrochage scolaire",
    "E2C90": "Information collective et entretien d'admission",
    "CCAS-OFF": "Accueil social et ouverture des droits",
}
BARRIERS_ACTION = (
    "Diagnostic des freins : plan d'action partagé avec la personne",
    "Point sur les freins à lever avant une entrée en formation",
    "Bilan de situation : freins repérés et partenaires à solliciter",
)
TRAINING_ACTION = (
    "Formation qualifiante – préparation opérationnelle à l'emploi (POEI)",
    "Remise à niveau en français et mathématiques, 3 mois",
    "Titre professionnel agent de propreté et d'hygiène",
)
EMPLOYMENT_ACTION = (
    "CDD de 6 mois – agent de production",
    "Contrat d'apprentissage – CAP cuisine",
    "CDI à temps partiel – aide à domicile",
    "Contrat de professionnalisation – préparateur de commandes",
    "Mission d'intérim longue – cariste",
)
BARRIER_NOTE = {
    "mobility": "Pas de permis ni de véhicule ; les horaires de bus ne permettent pas de "
    "rejoindre la zone d'activité.",
    "childcare": "Enfants en bas âge, pas de solution de garde le matin.",
    "digital": "Pas d'ordinateur ; besoin d'aide pour l'espace personnel en ligne.",
    "health": "Problèmes de santé non suivis depuis longtemps, pas de médecin traitant.",
    "mental_health": "Anxiété importante exprimée lors des derniers entretiens.",
    "addiction": "Consommations évoquées par la personne, qui souhaite en parler.",
    "housing": "Hébergement chez des proches, solution précaire.",
    "language": "Comprend le français oral, grandes difficultés à l'écrit.",
    "legal_admin": "Titre de séjour ou dossier administratif à régulariser.",
    "financial": "Dettes de loyer, budget très serré.",
    "motivation": "Découragement après plusieurs refus : besoin de reprendre confiance.",
}
STAGE_NOTE = {
    "training": (
        "Souhaite entrer en formation rapidement ; disponible à temps plein.",
        "Projet encore flou : une remobilisation est à envisager.",
        "Intéressée par les métiers du soin et du service à la personne.",
    ),
    "employment": (
        "Prête à travailler : recherche un poste en logistique ou en espaces verts.",
        "Fin de parcours réussie ; souhaite un contrat d'au moins six mois.",
        "Expérience en restauration ; disponible en horaires décalés.",
    ),
}
DECLINE_MESSAGE = {
    "unreachable": "Trois appels et un SMS sans réponse.",
    "did_not_come": "Ne s'est pas présentée au rendez-vous d'information collective.",
    "not_eligible": "Ne remplit pas les conditions d'âge ou de statut du dispositif.",
    "no_capacity": "Session complète ; prochaine entrée dans trois mois.",
    "not_interested": "La personne ne souhaite pas donner suite pour le moment.",
    "followed_elsewhere": "Déjà accompagnée par un autre partenaire pour ce besoin.",
    "barrier_prevents": "Le frein de mobilité empêche l'entrée (centre éloigné).",
    "duplicate": "Orientation déjà reçue la semaine dernière.",
    "other": "Le dispositif ne correspond pas au besoin exprimé.",
}
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
WITHDRAW_MESSAGE = (
    "La personne a signé un CDD entre-temps : orientation annulée.",
    "Orientation envoyée par erreur à la mauvaise structure.",
    "La personne préfère attendre la rentrée : nous reviendrons vers vous.",
)
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


class _Builder:
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
        )

    def move(self, barrier: Barrier, status: BarrierStatus, by: str, on: date) -> None:
        set_barrier_status(self.session, self.caseworkers[by], barrier, status, on=self._check(on))

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
    ) -> Handoff:
        return apply_event(
            self.session,
            self.vault,
            self.caseworkers[by] if by else None,
            handoff,
            event,
            now=self.at(on),
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
        receiver = _code_of(self, handoff.to_structure_id)
        day = self.later(handoff.sent_at.date(), 1, 6)
        self.act(handoff, HandoffEvent.ACCEPT, receiver, day)
        if until is HandoffStatus.ACCEPTED:
            return day
        day = self.later(day, 2, 8)
        self.act(handoff, HandoffEvent.FIRST_CONTACT, receiver, day)
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


def _code_of(builder: _Builder, structure_id: int) -> str:
    return next(code for code, s in builder.structures.items() if s.id == structure_id)


def birth_date(person: DemoPerson, today: date) -> date:
    """The birth date that makes ``person`` ``person.age`` years old on ``today``."""
    month, day = person.birthday
    year = today.year - person.age
    if (month, day) > (today.month, today.day):
        year -= 1
    return date(year, month, day)


# -- stories ----------------------------------------------------------------------------------
# Each story plays one person's pathway. Offsets are chosen so that every date falls before
# ``today`` whatever the draw; ``StoryError`` says otherwise.

Story = Callable[[_Builder, DemoPerson], None]


def barrier_then_training(b: _Builder, p: DemoPerson) -> None:
    """A barrier lifted by an association, then training entered with a partner."""
    reg = p.registered_by
    who, start = b.begin(p, 330, 520)
    category = b.category(p)
    acting = b.acting(category, reg)
    day = b.later(start, 5, 20)
    barrier = b.barrier_step(who, reg, category, day, acting)
    lifted = b.run(
        b.send(who, reg, acting, b.later(day, 0, 3), barrier=barrier),
        HandoffStatus.COMPLETED,
        "barrier_lifted",
        span=(30, 70),
    )
    target = b.pick(b.training_targets(p), reg)
    entered = b.run(
        b.send(who, reg, target, b.later(lifted, 5, 15), stage="training"),
        HandoffStatus.COMPLETED,
        "training_entered",
        span=(7, 25),
    )
    if reg == "MLDS90":
        b.end(who, reg, "handed_off", b.later(entered, 2, 10))


def training_then_job(b: _Builder, p: DemoPerson) -> None:
    """Training with a partner, which then hands the person to an employer who hires."""
    reg = p.registered_by
    who, start = b.begin(p, 400, 530)
    target = b.pick(b.training_targets(p), reg)
    entered = b.run(
        b.send(who, reg, target, b.later(start, 7, 25), stage="training"),
        HandoffStatus.COMPLETED,
        "training_entered",
        span=(10, 30),
    )
    employer = b.pick(EMPLOYMENT_TARGETS[b.kind(p)], reg, target)
    signed = b.run(
        b.send(who, target, employer, b.later(entered, 120, 180), stage="employment"),
        HandoffStatus.COMPLETED,
        "job_signed",
        span=(5, 20),
    )
    b.end(who, reg, "goal_reached", b.later(signed, 3, 15))
    b.end(who, target, "goal_reached", b.later(signed, 3, 15))


def childcare_in_progress(b: _Builder, p: DemoPerson) -> None:
    """A single parent: childcare being arranged, a financial barrier lifted by the CCAS."""
    reg = p.registered_by
    who, start = b.begin(p, 90, 260)
    day = b.later(start, 3, 15)
    childcare = b.barrier_step(who, reg, "childcare", day, "GARDE90")
    b.run(b.send(who, reg, "GARDE90", day, barrier=childcare), HandoffStatus.IN_PROGRESS)
    acting = b.acting("financial", reg)
    money = b.barrier(who, reg, "financial", b.later(day, 0, 5), acting)
    b.run(
        b.send(who, reg, acting, b.later(day, 5, 10), barrier=money),
        HandoffStatus.COMPLETED,
        "barrier_lifted",
        span=(10, 30),
    )


def declined_then_other(b: _Builder, p: DemoPerson) -> None:
    """Declined by a first partner (coded reason and message), taken by a second one."""
    reg = p.registered_by
    who, start = b.begin(p, 120, 400)
    first = b.pick(b.training_targets(p), reg)
    second = b.pick(b.training_targets(p), reg, first)
    day = b.later(start, 5, 20)
    handoff = b.send(who, reg, first, day, stage="training")
    reason = b.next_decline()
    day = b.later(day, 2, 9)
    b.act(handoff, HandoffEvent.DECLINE, first, day, reason=reason, message=DECLINE_MESSAGE[reason])
    until = b.rng.choice((HandoffStatus.IN_PROGRESS, HandoffStatus.COMPLETED))
    b.run(
        b.send(who, reg, second, b.later(day, 3, 10), stage="training"),
        until,
        "training_entered",
        span=(10, 40),
    )


def withdrawn_then_job(b: _Builder, p: DemoPerson) -> None:
    """The sender withdraws a hand-off: the person found a job in the meantime."""
    reg = p.registered_by
    who, start = b.begin(p, 150, 420)
    target = b.pick(b.training_targets(p), reg)
    day = b.later(start, 10, 40)
    handoff = b.send(who, reg, target, day, stage="training")
    day = b.later(day, 2, 9)
    message = WITHDRAW_MESSAGE[0] if b.rng.random() < 0.7 else b.rng.choice(WITHDRAW_MESSAGE)
    b.act(handoff, HandoffEvent.WITHDRAW, reg, day, message=message)
    b.step(who, reg, "employment", day, action=b.rng.choice(EMPLOYMENT_ACTION))
    b.end(who, reg, "goal_reached", b.later(day, 20, 60))


def expired_then_resent(b: _Builder, p: DemoPerson) -> None:
    """No answer within the deadline: the hand-off expires and is sent again."""
    reg = p.registered_by
    who, start = b.begin(p, 150, 450)
    category = b.category(p)
    acting = b.acting(category, reg)
    day = b.later(start, 5, 20)
    barrier = b.barrier_step(who, reg, category, day, acting)
    handoff = b.send(who, reg, acting, day, barrier=barrier)
    expired = b.later(day, EXPIRY_DAYS, EXPIRY_DAYS + 2)
    b.act(handoff, HandoffEvent.EXPIRE, None, expired)
    again = b.send(
        who,
        reg,
        acting,
        b.later(expired, 1, 7),
        barrier=barrier,
        note="Relance : la première orientation est restée sans réponse.",
    )
    until = b.rng.choice((HandoffStatus.IN_PROGRESS, HandoffStatus.COMPLETED))
    b.run(again, until, "barrier_lifted", span=(15, 40))


def _redirect_message(b: _Builder, to: str) -> str:
    return (
        f"Demande plus adaptée à : {b.structures[to].name}. "
        "Nous transmettons, avec l'accord de la personne."
    )


def _chain(
    b: _Builder, p: DemoPerson, who: Beneficiary, day: date, chain: Sequence[str]
) -> tuple[Handoff, date]:
    """Send to ``chain[0]``, each receiver redirecting to the next; the last hand-off."""
    reg = p.registered_by
    if b.kind(p) == "young":
        handoff = b.send(who, reg, chain[0], day, stage="training")
    else:
        barrier = b.barrier_step(who, reg, "housing", day, chain[-1])
        handoff = b.send(who, reg, chain[0], day, barrier=barrier)
    for here, there in zip(chain, chain[1:], strict=False):
        day = b.later(day, 1, 8)
        handoff = b.act(
            handoff,
            HandoffEvent.REDIRECT,
            here,
            day,
            message=_redirect_message(b, there),
            redirect_to=there,
        )
    return handoff, day


YOUNG_CHAINS_2 = (("EPIDE90", "E2C90"), ("UNIS90", "E2C90"), ("EPIDE90", "UNIS90"))
ADULT_CHAINS_2 = (("CCAS-OFF", "LOGE90"), ("DROIT90", "LOGE90"))
YOUNG_CHAINS_3 = (("UNIS90", "EPIDE90", "E2C90"), ("EPIDE90", "E2C90", "P1618-90"))
ADULT_CHAINS_3 = (("CCAS-OFF", "DROIT90", "LOGE90"), ("DROIT90", "CCAS-OFF", "LOGE90"))


def _pick_chain(b: _Builder, p: DemoPerson, chains: Sequence[Sequence[str]]) -> Sequence[str]:
    fits = [c for c in chains if p.registered_by not in c]
    if b.kind(p) == "young" and p.age > 18:
        fits = [c for c in fits if "P1618-90" not in c] or fits
    return b.rng.choice(fits)


def redirect_two(b: _Builder, p: DemoPerson) -> None:
    """The receiver redirects to a third partner, which takes the person."""
    who, start = b.begin(p, 90, 380)
    young = b.kind(p) == "young"
    chain = _pick_chain(b, p, YOUNG_CHAINS_2 if young else ADULT_CHAINS_2)
    last, _day = _chain(b, p, who, b.later(start, 5, 25), chain)
    until = b.rng.choice((HandoffStatus.IN_PROGRESS, HandoffStatus.COMPLETED))
    b.run(last, until, "training_entered" if young else "barrier_lifted", span=(10, 40))


def redirect_three(b: _Builder, p: DemoPerson) -> None:
    """Two redirects in a row before the right partner takes the person."""
    reg = p.registered_by
    who, start = b.begin(p, 120, 400)
    young = b.kind(p) == "young"
    chain = _pick_chain(b, p, YOUNG_CHAINS_3 if young else ADULT_CHAINS_3)
    last, _day = _chain(b, p, who, b.later(start, 5, 25), chain)
    done = b.run(
        last,
        HandoffStatus.COMPLETED,
        "training_entered" if young else "barrier_lifted",
        span=(10, 40),
    )
    if reg == "MLDS90":
        b.end(who, reg, "handed_off", b.later(done, 2, 10))


def sent_recent(b: _Builder, p: DemoPerson) -> None:
    """A hand-off sent a few days ago, not answered yet."""
    reg = p.registered_by
    who, start = b.begin(p, 25, 220)
    sent = b.ago(1, 6)
    if b.rng.random() < 0.7:
        category = b.category(p)
        acting = b.acting(category, reg)
        barrier = b.barrier_step(who, reg, category, max(start, sent - timedelta(days=3)), acting)
        b.send(who, reg, acting, sent, barrier=barrier)
    else:
        b.send(who, reg, b.pick(EMPLOYMENT_TARGETS[b.kind(p)], reg), sent, stage="employment")


def sent_overdue(b: _Builder, p: DemoPerson) -> None:
    """A hand-off unanswered for more than the reminder delay (but not yet expired)."""
    reg = p.registered_by
    who, start = b.begin(p, 45, 300)
    sent = b.ago(OVERDUE_DAYS + 2, EXPIRY_DAYS - 4)
    if b.rng.random() < 0.5:
        category = b.category(p)
        acting = b.acting(category, reg)
        barrier = b.barrier_step(who, reg, category, max(start, sent - timedelta(days=5)), acting)
        b.send(who, reg, acting, sent, barrier=barrier)
    else:
        b.send(who, reg, b.pick(b.training_targets(p), reg), sent, stage="training")


def accepted_waiting(b: _Builder, p: DemoPerson) -> None:
    """Accepted by the receiver, first contact not made yet."""
    reg = p.registered_by
    who, _start = b.begin(p, 40, 250)
    sent = b.ago(8, 20)
    if b.kind(p) == "adult":
        handoff = b.send(
            who, reg, b.pick(EMPLOYMENT_TARGETS["adult"], reg), sent, stage="employment"
        )
    else:
        handoff = b.send(who, reg, b.pick(b.training_targets(p), reg), sent, stage="training")
    b.run(handoff, HandoffStatus.ACCEPTED)


def not_completed(b: _Builder, p: DemoPerson) -> None:
    """Taken by a partner, then stopped before its end (coded reason)."""
    reg = p.registered_by
    who, start = b.begin(p, 120, 450)
    day = b.later(start, 5, 25)
    if b.rng.random() < 0.6:
        category = "motivation" if b.kind(p) == "young" else "mental_health"
        acting = b.acting(category, reg)
        barrier = b.barrier_step(who, reg, category, day, acting)
        stopped = b.run(
            b.send(who, reg, acting, day, barrier=barrier),
            HandoffStatus.NOT_COMPLETED,
            "person_stopped",
            span=(15, 60),
            message="La personne a mis fin à l'accompagnement après deux rendez-vous.",
        )
        b.move(barrier, BarrierStatus.PERSISTING, reg, b.later(stopped, 3, 20))
    else:
        target = b.pick(b.training_targets(p), reg)
        handoff = b.send(who, reg, target, day, stage="training")
        accepted = b.run(handoff, HandoffStatus.ACCEPTED)
        b.act(
            handoff,
            HandoffEvent.NOT_COMPLETE,
            target,
            b.later(accepted, 10, 30),
            reason="other",
            message="Ne s'est jamais présentée aux rendez-vous d'entrée malgré deux relances.",
        )


def barrier_not_addressed(b: _Builder, p: DemoPerson) -> None:
    """One barrier the person does not want to work on; another lifted, then training."""
    reg = p.registered_by
    who, start = b.begin(p, 200, 450)
    day = b.later(start, 5, 20)
    addiction = b.barrier_step(who, reg, "addiction", day, "ADDI90")
    handoff = b.send(who, reg, "ADDI90", day, barrier=addiction)
    refused = b.later(day, 3, 10)
    b.act(
        handoff,
        HandoffEvent.DECLINE,
        "ADDI90",
        refused,
        reason="not_interested",
        message=DECLINE_MESSAGE["not_interested"],
    )
    b.move(addiction, BarrierStatus.NOT_ADDRESSED, reg, b.later(refused, 1, 10))
    childcare = b.barrier(who, reg, "childcare", b.later(day, 1, 10), "GARDE90")
    lifted = b.run(
        b.send(who, reg, "GARDE90", b.later(day, 12, 20), barrier=childcare),
        HandoffStatus.COMPLETED,
        "barrier_lifted",
        span=(15, 40),
    )
    target = b.pick(b.training_targets(p), reg)
    b.run(
        b.send(who, reg, target, b.later(lifted, 5, 20), stage="training"),
        HandoffStatus.IN_PROGRESS,
    )


def exit_lost(b: _Builder, p: DemoPerson) -> None:
    """Worked on by the registering structure alone, then lost from view."""
    reg = p.registered_by
    who, start = b.begin(p, 200, 520)
    category = b.category(p)
    day = b.later(start, 5, 30)
    barrier = b.barrier_step(who, reg, category, day, reg)
    b.move(barrier, BarrierStatus.IN_PROGRESS, reg, b.later(day, 1, 10))
    left = b.later(day, 90, 160)
    b.step(
        who,
        reg,
        "exit_other",
        left,
        ended_on=left,
        action="Perdue de vue après trois relances (courrier, téléphone, SMS)",
    )
    b.move(barrier, BarrierStatus.NOT_ADDRESSED, reg, left)
    b.end(who, reg, "lost_contact", left)


def exit_moved(b: _Builder, p: DemoPerson) -> None:
    """The person moves away while a partner is working on a barrier."""
    reg = p.registered_by
    who, start = b.begin(p, 150, 500)
    category = b.category(p)
    acting = b.acting(category, reg)
    day = b.later(start, 5, 20)
    barrier = b.barrier_step(who, reg, category, day, acting)
    handoff = b.send(who, reg, acting, day, barrier=barrier)
    contact = b.run(handoff, HandoffStatus.IN_PROGRESS)
    moved = b.later(contact, 30, 100)
    b.step(who, reg, "exit_other", moved, ended_on=moved, action="Déménagement hors du département")
    b.act(
        handoff,
        HandoffEvent.NOT_COMPLETE,
        acting,
        b.later(moved, 1, 5),
        reason="other",
        message="La personne a déménagé hors du département.",
    )
    b.move(barrier, BarrierStatus.NOT_ADDRESSED, acting, b.later(moved, 1, 5))
    b.end(who, reg, "moved", b.later(moved, 1, 5))
    b.end(who, acting, "moved", b.later(moved, 6, 10))


def no_consent(b: _Builder, p: DemoPerson) -> None:
    """No consent recorded: the registering structure works alone, nothing is shared."""
    reg = p.registered_by
    who, start = b.begin(p, 15, 300)
    if b.rng.random() < 0.7:
        category = b.category(p)
        day = b.later(start, 0, 10)
        barrier = b.barrier_step(who, reg, category, day, b.acting(category, reg))
        if b.rng.random() < 0.5:
            b.move(barrier, BarrierStatus.IN_PROGRESS, reg, b.later(day, 1, 4))


def graduate_barrier_job(b: _Builder, p: DemoPerson) -> None:
    """A young graduate: mobility lifted, then hired through a partner employer."""
    reg = p.registered_by
    who, start = b.begin(p, 200, 450)
    day = b.later(start, 5, 20)
    barrier = b.barrier_step(who, reg, "mobility", day, "MOB90")
    lifted = b.run(
        b.send(who, reg, "MOB90", day, barrier=barrier),
        HandoffStatus.COMPLETED,
        "barrier_lifted",
        span=(40, 90),
    )
    employer = b.pick(EMPLOYMENT_TARGETS["graduate"], reg)
    signed = b.run(
        b.send(who, reg, employer, b.later(lifted, 3, 15), stage="employment"),
        HandoffStatus.COMPLETED,
        "job_signed",
        span=(5, 25),
    )
    b.end(who, reg, "goal_reached", b.later(signed, 5, 20))


def job_via_partner(b: _Builder, p: DemoPerson) -> None:
    """Hired through an employment partner, sometimes after a first partner had no place."""
    reg = p.registered_by
    who, start = b.begin(p, 200, 500)
    day = b.later(start, 10, 40)
    targets = EMPLOYMENT_TARGETS[b.kind(p)]
    first = b.pick(targets, reg)
    if b.rng.random() < 0.5:
        handoff = b.send(who, reg, first, day, stage="employment")
        day = b.later(day, 2, 8)
        b.act(
            handoff,
            HandoffEvent.DECLINE,
            first,
            day,
            reason="no_capacity",
            message=DECLINE_MESSAGE["no_capacity"],
        )
        first = b.pick(targets, reg, first)
        day = b.later(day, 2, 10)
    signed = b.run(
        b.send(who, reg, first, day, stage="employment"),
        HandoffStatus.COMPLETED,
        "job_signed",
        span=(10, 45),
    )
    b.end(who, reg, "goal_reached", b.later(signed, 10, 40))


def oriented_further(b: _Builder, p: DemoPerson) -> None:
    """Access to rights: the legal partner completes by orienting further, to the CCAS."""
    reg = p.registered_by
    who, start = b.begin(p, 120, 450)
    day = b.later(start, 5, 20)
    legal = b.barrier_step(who, reg, "legal_admin", day, "DROIT90")
    done = b.run(
        b.send(who, reg, "DROIT90", day, barrier=legal),
        HandoffStatus.COMPLETED,
        "oriented_further",
        span=(15, 45),
        message="Dossier déposé ; la suite relève d'un accompagnement budgétaire.",
    )
    if b.rng.random() < 0.5:
        b.move(legal, BarrierStatus.LIFTED, "DROIT90", done)
    money = b.barrier(who, "DROIT90", "financial", done, "CCAS-OFF")
    until = b.rng.choice((HandoffStatus.ACCEPTED, HandoffStatus.IN_PROGRESS))
    b.run(b.send(who, "DROIT90", "CCAS-OFF", b.later(done, 0, 3), barrier=money), until)


def barrier_persisting(b: _Builder, p: DemoPerson) -> None:
    """A health barrier worked on by a partner, which remains after its action."""
    reg = p.registered_by
    who, start = b.begin(p, 200, 500)
    category = b.rng.choice(("health", "mental_health"))
    day = b.later(start, 5, 25)
    barrier = b.barrier_step(who, reg, category, day, "SANTE90")
    done = b.run(
        b.send(who, reg, "SANTE90", day, barrier=barrier),
        HandoffStatus.COMPLETED,
        "other",
        span=(30, 90),
        message="Suivi médical engagé ; le frein reste présent pour l'instant.",
    )
    b.move(barrier, BarrierStatus.PERSISTING, "SANTE90", done)
    if b.rng.random() < 0.5:
        b.step(
            who,
            reg,
            "training",
            b.later(done, 10, 40),
            action="Atelier de remobilisation à temps partiel, adapté à la santé",
        )


def language_then_training(b: _Builder, p: DemoPerson) -> None:
    """French language workshops, then training, sometimes then a job."""
    reg = p.registered_by
    who, start = b.begin(p, 380, 530)
    day = b.later(start, 5, 20)
    barrier = b.barrier_step(who, reg, "language", day, "LANG90")
    lifted = b.run(
        b.send(who, reg, "LANG90", day, barrier=barrier),
        HandoffStatus.COMPLETED,
        "barrier_lifted",
        span=(60, 150),
    )
    target = b.pick(TRAINING_TARGETS["adult"], reg)
    entered = b.run(
        b.send(who, reg, target, b.later(lifted, 5, 20), stage="training"),
        HandoffStatus.COMPLETED,
        "training_entered",
        span=(10, 30),
    )
    if b.rng.random() < 0.5:
        hired = b.later(entered, 60, 100)
        b.step(who, reg, "employment", hired, action=b.rng.choice(EMPLOYMENT_ACTION))
        b.end(who, reg, "goal_reached", b.later(hired, 5, 20))
    else:
        b.step(
            who,
            reg,
            "training",
            entered,
            ended_on=b.later(entered, 10, 30),
            action=b.rng.choice(TRAINING_ACTION),
        )


STORIES: dict[str, Story] = {
    story.__name__: story
    for story in (
        barrier_then_training,
        training_then_job,
        childcare_in_progress,
        declined_then_other,
        withdrawn_then_job,
        expired_then_resent,
        redirect_two,
        redirect_three,
        sent_recent,
        sent_overdue,
        accepted_waiting,
        not_completed,
        barrier_not_addressed,
        exit_lost,
        exit_moved,
        no_consent,
        graduate_barrier_job,
        job_via_partner,
        oriented_further,
        barrier_persisting,
        language_then_training,
    )
}
