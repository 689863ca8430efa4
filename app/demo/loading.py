"""Load a fictional Belfort-like network: structures, accounts, people, pathways, hand-offs.

The demo goes through the same services as the web pages (registration, consent, steps,
barriers, hand-offs and their state machine), back-dated over the last eighteen months with
explicit dates, so that every screen and every indicator has something to show. The data
comes from ``app.demo.data.network``; a seeded ``random.Random`` picks dates and partners, so
the same seed gives the same network.

Loading is idempotent: when the demo administrator account exists, nothing is written and the
report says the demo is already loaded. The caller commits; this module only flushes.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.crypto import KeyRing
from app.demo.builder import StoryBuilder
from app.demo.data.network import (
    ADMIN_EMAIL,
    ADMIN_NAME,
    COORDINATOR_EMAIL,
    COORDINATOR_NAME,
    DEMO_PASSWORD,
    PEOPLE,
    QPVS,
    STRUCTURE_ARTICLES,
    STRUCTURES,
    DemoStructure,
)
from app.demo.directory import load_directory
from app.demo.orientation import decide_pathways
from app.demo.stories import STORIES
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
from app.services.errors import N_, Conflict
from app.services.security import second_factor
from app.services.security.accounts import create_user, find_user
from app.services.security.managers import set_manager
from app.services.security.vault import Vault
from app.services.structures import add_reference_item, create_structure

# The password policy's default minimum length (``Config.PASSWORD_MIN_LENGTH``).
PASSWORD_MIN_LENGTH = 12


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: Role
    structure: str | None  # the structure's name, for caseworkers
    # The account's TOTP enrolment (``otpauth://`` URI), only when asked for (development).
    totp_uri: str | None = None
    # A caseworker who also manages the structure's accounts ("Ma structure").
    manager: bool = False


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
    decisions: int = 0  # orientation decisions (first ones and changes)
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
    with_totp_uris: bool = False,
) -> DemoReport:
    """Create the demo network, its accounts and its fictional people (or do nothing).

    Everything is dated before ``today``. Raises ``Conflict`` when part of the demo exists
    without its administrator account, or when the database already holds people: fictional
    people are never mixed with real ones. Service errors (e.g. reference lists missing because
    the migrations have not run) propagate; the caller rolls back.

    The administrator and the coordinator get a TOTP second factor at once (their role needs
    one); ``with_totp_uris`` puts each account's enrolment URI in the report (development:
    demos and browser tests sign in with it; production never asks for it).
    """
    keys = vault.keys if with_totp_uris else None
    if find_user(session, ADMIN_EMAIL) is not None:
        return DemoReport(already_loaded=True, logins=_logins(session, keys))
    _refuse_mixing(session)

    admin = _account(session, None, ADMIN_EMAIL, ADMIN_NAME, Role.ADMIN, password_min_length)
    qpvs = _add_qpvs(session, admin)
    structures = {spec.code: _create_structure(session, admin, spec) for spec in STRUCTURES}
    caseworkers = _create_caseworkers(session, admin, structures, password_min_length)
    coordinator = _account(
        session, admin, COORDINATOR_EMAIL, COORDINATOR_NAME, Role.COORDINATOR, password_min_length
    )
    for account in (admin, coordinator):
        second_factor.enrol_now(session, vault.keys, admin, account, now=datetime.now(UTC))

    cards, events = load_directory(
        session, admin, coordinator, structures, caseworkers, today=today
    )

    rng = random.Random(rng_seed)  # noqa: S311 - reproducible fictional data, not secrets
    builder = StoryBuilder(session, vault, today, rng, structures, caseworkers)
    _play_stories(builder)
    session.flush()
    decisions = decide_pathways(
        session, caseworkers, builder.registered, today=today, seed=rng_seed
    )

    report = DemoReport(
        already_loaded=False,
        logins=_logins(session, keys),
        qpvs=qpvs,
        structures=len(structures),
        accounts=len(caseworkers) + 2,
        cards=cards,
        network_events=events,
        decisions=decisions,
    )
    _count(session, builder.people, report)
    return report


def _play_stories(builder: StoryBuilder) -> None:
    """Play the story of each demo person, in the order of the table (the draws follow it)."""
    for person in PEOPLE:
        story = STORIES.get(person.story)
        if story is None:
            raise ValueError(f"unknown demo story {person.story!r}")
        story(builder, person)


def _account(
    session: Session,
    creator: User | None,
    email: str,
    name: str,
    role: Role,
    min_length: int,
    *,
    structure: Structure | None = None,
) -> User:
    """A demo account, with the published demo password."""
    return create_user(
        session,
        creator,
        email=email,
        display_name=name,
        role=role,
        structure=structure,
        password=DEMO_PASSWORD,
        min_length=min_length,
        # The published demo password is on the deny-list: demo accounts are for development
        # and public demos only (`demo load` refuses production without --allow-production).
        enforce_policy=False,
    )


def _create_caseworkers(
    session: Session, admin: User, structures: dict[str, Structure], min_length: int
) -> dict[str, User]:
    """One caseworker account per demo structure, by structure code; each also manages its
    structure's accounts (the "Ma structure" pages)."""
    caseworkers = {
        spec.code: _account(
            session,
            admin,
            spec.caseworker_email,
            spec.caseworker_name,
            Role.CASEWORKER,
            min_length,
            structure=structures[spec.code],
        )
        for spec in STRUCTURES
    }
    for caseworker in caseworkers.values():
        set_manager(session, admin, caseworker, True)
    return caseworkers


def _add_qpvs(session: Session, admin: User) -> int:
    """Add the fictional QPVs the database lacks; how many were added."""
    added = 0
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
            added += 1
    return added


def _create_structure(session: Session, admin: User, spec: DemoStructure) -> Structure:
    return create_structure(
        session,
        admin,
        code=spec.code,
        name=spec.name,
        type_code=spec.type_code,
        missions=spec.missions,
        contact=spec.contact,
        city=spec.city,
        capacity=spec.capacity,
        article=STRUCTURE_ARTICLES[spec.code],
    )


def _logins(session: Session, keys: KeyRing | None) -> list[DemoLogin]:
    """The demo accounts that exist: administrator, coordinator, then one per structure; with
    their TOTP enrolment URI when ``keys`` are given."""
    emails = [ADMIN_EMAIL, COORDINATOR_EMAIL] + [s.caseworker_email for s in STRUCTURES]
    logins = []
    for email in emails:
        user = find_user(session, email)
        if user is not None:
            name = user.structure.name if user.structure else None
            enrolment = second_factor.enrolment(keys, user) if keys is not None else None
            uri = enrolment.uri if enrolment is not None and user.has_second_factor else None
            logins.append(
                DemoLogin(
                    email=user.email,
                    role=user.role,
                    structure=name,
                    totp_uri=uri,
                    manager=user.manages_structure,
                )
            )
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
