"""Recording a pathway: follow-ups (start, end), steps and barriers (added, moved), each as a
caseworker of a structure that follows the person, each audited."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, bindparam, exists, insert, select
from sqlalchemy.orm import Session

from app.domain.actors import StructureByLink
from app.domain.audit import AuditAction
from app.domain.effective_dates import barrier_floor, field_day
from app.domain.employment import ContractType, EmploymentMismatch, check_employment
from app.domain.pathway import BarrierLevel, BarrierStatus, barrier_can_move
from app.domain.roles import Role
from app.models import (
    Barrier,
    Beneficiary,
    FollowUp,
    PathwayStep,
    ReferenceKind,
    Structure,
    User,
)
from app.models.base import utcnow
from app.services import repeats
from app.services.effective_dates import effective_day, not_before
from app.services.errors import N_, Forbidden, InvalidInput, NotFound
from app.services.pathways.state import note_event
from app.services.people.access import open_follow_up
from app.services.security import audit
from app.services.security.vault import Vault
from app.services.structures import reference_item


def _acting_structure(actor: User, person: Beneficiary, session: Session) -> int:
    """The actor's structure id, provided it follows ``person`` now; else ``Forbidden``."""
    if actor.role is not Role.CASEWORKER or actor.structure_id is None:
        raise Forbidden(N_("Only caseworkers record pathways."))
    if open_follow_up(session, person.id, actor.structure_id) is None:
        raise Forbidden(N_("Your structure does not follow this person."))
    return actor.structure_id


def add_step(
    session: Session,
    vault: Vault,
    actor: User,
    person: Beneficiary,
    *,
    stage_code: str,
    started_on: date,
    ended_on: date | None = None,
    action: str | None = None,
    contract_type: ContractType | None = None,
    employer: str | None = None,
    today: date | None = None,
) -> PathwayStep:
    """Record a stage reached by ``person``, with an optional (encrypted) action text; an
    employment step may say which contract and the (encrypted) employer.

    Its days are effective dates: neither its start nor its end after ``today`` (the day in
    France now, if not given); a structure may record a step from before it followed the
    person, so nothing but the year of their birth bounds the start.
    """
    structure_id = _acting_structure(actor, person, session)
    stage = reference_item(session, ReferenceKind.STAGE, stage_code)
    repeats.refuse_same_step(session, person.id, structure_id, stage.id, started_on)
    today = today or field_day(utcnow())
    effective_day(started_on, today=today, field="started_on", born_in=person.birth_year)
    if ended_on is not None:
        effective_day(ended_on, today=today, field="ended_on", born_in=person.birth_year)
    return record_step(
        session,
        vault,
        actor,
        person,
        structure_id=structure_id,
        stage_code=stage_code,
        started_on=started_on,
        ended_on=ended_on,
        action=action,
        contract_type=contract_type,
        employer=employer,
    )


def record_step(
    session: Session,
    vault: Vault,
    actor: User | StructureByLink | None,
    person: Beneficiary,
    *,
    structure_id: int,
    stage_code: str,
    started_on: date,
    ended_on: date | None = None,
    action: str | None = None,
    contract_type: ContractType | None = None,
    employer: str | None = None,
) -> PathwayStep:
    """Record a step for ``structure_id`` without the follow-up check (callers have decided)."""
    stage = reference_item(session, ReferenceKind.STAGE, stage_code)
    if ended_on is not None and ended_on < started_on:
        raise InvalidInput(N_("A step cannot end before it starts."), field="ended_on")
    try:
        check_employment(stage_code, contract_type, employer)
    except EmploymentMismatch:
        raise InvalidInput(
            N_("Only an employment step has a contract and an employer."), field="contract_type"
        ) from None
    step = PathwayStep(
        id=uuid.uuid4(),
        beneficiary_id=person.id,
        structure_id=structure_id,
        stage_id=stage.id,
        started_on=started_on,
        ended_on=ended_on,
        contract_type=contract_type,
        recorded_by_id=actor.id if actor else None,
    )
    step.stage = stage
    action, employer = (action or "").strip(), (employer or "").strip()
    if action or employer:
        key = vault.sealing_key(session, person.id)
        step.action = vault.seal(key, "pathway_steps", "action", step.id, person.id, action)
        step.employer = vault.seal(key, "pathway_steps", "employer", step.id, person.id, employer)
    session.add(step)
    session.flush()
    audit.record(session, actor, AuditAction.STEP_ADD, step, beneficiary_id=person.id)
    return step


def add_barrier(
    session: Session,
    actor: User,
    person: Beneficiary,
    *,
    category_code: str,
    identified_on: date,
    acting_structure_id: int | None = None,
    level: BarrierLevel | None = None,
    detail: str | None = None,
    vault: Vault | None = None,
    today: date | None = None,
) -> Barrier:
    """Record a barrier identified for ``person``; it starts as ``identified``. Its ``level``
    (``None``: not assessed) and its ``detail``, sealed with ``vault``, are optional."""
    _acting_structure(actor, person, session)
    effective_day(
        identified_on,
        today=today or field_day(utcnow()),
        field="identified_on",
        born_in=person.birth_year,
    )
    detail = (detail or "").strip()
    if detail and vault is None:  # pragma: no cover - a programming error
        raise ValueError("a barrier's detail is sealed with the vault")
    category = reference_item(session, ReferenceKind.BARRIER_CATEGORY, category_code)
    repeats.refuse_same_barrier(session, actor, person.id, category.id, identified_on=identified_on)
    barrier = Barrier(
        id=uuid.uuid4(),
        beneficiary_id=person.id,
        category_id=category.id,
        status=BarrierStatus.IDENTIFIED,
        acting_structure_id=acting_structure_id,
        level=level,
        identified_on=identified_on,
        status_on=identified_on,
        recorded_by_id=actor.id,
    )
    barrier.category = category
    if detail and vault is not None:
        key = vault.sealing_key(session, person.id)
        barrier.detail = vault.seal(key, "barriers", "detail", barrier.id, person.id, detail)
    session.add(barrier)
    session.flush()
    audit.record(session, actor, AuditAction.BARRIER_ADD, barrier, beneficiary_id=person.id)
    return barrier


def find_barrier(session: Session, person_id: uuid.UUID, barrier_id: str) -> Barrier | None:
    """The barrier ``barrier_id`` (hex or dashed UUID) of the person, or ``None`` for anything
    else: a malformed id, an unknown barrier, another person's barrier."""
    try:
        barrier = session.get(Barrier, uuid.UUID(barrier_id))
    except ValueError:
        return None
    if barrier is None or barrier.beneficiary_id != person_id:
        return None
    return barrier


def barrier_of(session: Session, person: Beneficiary, barrier_id: str) -> Barrier:
    """Like ``find_barrier``, but ``NotFound`` (the same 404 as an unknown page) when missing."""
    barrier = find_barrier(session, person.id, barrier_id)
    if barrier is None:
        raise NotFound(N_("Your structure does not follow this person."))
    return barrier


def set_barrier_status(
    session: Session,
    actor: User,
    barrier: Barrier,
    status: BarrierStatus,
    *,
    on: date,
    today: date | None = None,
) -> None:
    """Move a barrier to ``status`` on the day ``on``, as a caseworker of a structure that
    follows the person.

    Raises ``Forbidden`` for anyone else, ``InvalidInput`` if the barrier rules forbid the move
    or ``on`` is after ``today`` (the day in France now, if not given) or before the barrier's
    identification or last change.
    """
    person = session.get(Beneficiary, barrier.beneficiary_id)
    assert person is not None
    _acting_structure(actor, person, session)
    if barrier.status is status:  # the same change sent again (a double click, two tabs)
        raise repeats.AlreadyRecorded(barrier)
    if not barrier_can_move(barrier.status, status):
        raise InvalidInput(N_("This barrier cannot move to that status."), field="status")
    effective_day(on, today=today or field_day(utcnow()), field="on")
    move_barrier(session, actor, barrier, status, on=on)


def move_barrier(
    session: Session,
    actor: User | StructureByLink | None,
    barrier: Barrier,
    status: BarrierStatus,
    *,
    on: date,
) -> None:
    """Bring a barrier to ``status`` as an effect of another event (a completed hand-off).

    A closed barrier is re-opened first when the rules need it (e.g. persisting -> lifted goes
    through in progress), so that every recorded move is one the rules allow. ``on`` may not
    precede the barrier's identification nor its last change (``InvalidInput`` on ``on``).
    """
    if barrier.status is status:
        return
    not_before(on, barrier_floor(barrier.identified_on, barrier.status_on))
    if not barrier_can_move(barrier.status, status):
        _record_barrier_move(session, actor, barrier, BarrierStatus.IN_PROGRESS, on)
    _record_barrier_move(session, actor, barrier, status, on)


def _record_barrier_move(
    session: Session,
    actor: User | StructureByLink | None,
    barrier: Barrier,
    status: BarrierStatus,
    on: date,
) -> None:
    if not barrier_can_move(barrier.status, status):  # pragma: no cover - guarded by callers
        raise InvalidInput(N_("This barrier cannot move to that status."), field="status")
    barrier.status = status
    barrier.status_on = on
    barrier.closed_on = on if status.is_closed else None
    # Who closed it: the actor's structure (the receiver, when its hand-off lifted it).
    closer = _structure_of(session, actor) if status.is_closed else None
    barrier.closed_by_structure = closer
    barrier.closed_by_structure_id = closer.id if closer is not None else None
    audit.record(
        session,
        actor,
        AuditAction.BARRIER_STATUS,
        barrier,
        beneficiary_id=barrier.beneficiary_id,
        status=status.value,
    )


def _structure_of(session: Session, actor: User | StructureByLink | None) -> Structure | None:
    if isinstance(actor, StructureByLink):
        return session.get(Structure, actor.structure_id)
    return actor.structure if actor is not None else None


_FOLLOW_UPS = cast(Table, FollowUp.__table__)


def _open_unless_open() -> Any:
    """INSERT a follow-up unless the person's follow-up by the structure is open, returning
    its id (no row when one was open): built once, run by every acceptance."""
    f = _FOLLOW_UPS.c
    values = {
        name: bindparam(name, type_=f[name].type)
        for name in ("id", "beneficiary_id", "structure_id", "referent_id", "started_on")
    }
    values["created_at"] = bindparam("created_at", type_=f.created_at.type)
    already = select(f.id).where(
        f.beneficiary_id == values["beneficiary_id"],
        f.structure_id == values["structure_id"],
        f.ended_on.is_(None),
    )
    rows = select(*values.values()).where(~exists(already))
    return insert(_FOLLOW_UPS).from_select(list(values), rows).returning(f.id)


_OPEN_UNLESS_OPEN = _open_unless_open()


def start_follow_up(
    session: Session,
    actor: User | StructureByLink | None,
    person_id: uuid.UUID,
    structure_id: int,
    *,
    on: date,
    referent_id: int | None = None,
    keep_state: bool = True,
) -> uuid.UUID | None:
    """Open a follow-up of the person by the structure, unless one is open already: looked
    for and opened in one statement (the row is not in the session), audited when opened.
    The id of the follow-up opened, or None.

    The start is an event of the person's pathway state, which the session hook does not see
    here: it is counted when a follow-up is opened, unless ``keep_state`` is False (the
    caller then keeps it)."""
    session.flush()  # a follow-up added through the ORM counts (nothing to do otherwise)
    row = {
        "id": uuid.uuid4(),
        "beneficiary_id": person_id,
        "structure_id": structure_id,
        "referent_id": referent_id,
        "started_on": on,
        "created_at": utcnow(),
    }
    opened: uuid.UUID | None = (
        session.connection().execute(_OPEN_UNLESS_OPEN, row).scalar_one_or_none()
    )
    if opened is None:
        return None
    if keep_state:
        note_event(session, person_id, on, structure_id)
    subject = FollowUp(id=opened)  # what the audit event names: the row's table and id
    audit.record(session, actor, AuditAction.FOLLOW_UP_START, subject, beneficiary_id=person_id)
    return opened


def end_follow_up(
    session: Session, actor: User, person: Beneficiary, *, reason_code: str, on: date
) -> FollowUp:
    """End the actor's structure's follow-up of ``person`` with a coded reason."""
    structure_id = _acting_structure(actor, person, session)
    follow_up = open_follow_up(session, person.id, structure_id)
    if follow_up is None:  # pragma: no cover - _acting_structure checked it
        raise NotFound(N_("Your structure does not follow this person."))
    if on < follow_up.started_on:
        raise InvalidInput(N_("A follow-up cannot end before it starts."), field="ended_on")
    follow_up.ended_on = on
    follow_up.end_reason_id = reference_item(session, ReferenceKind.END_REASON, reason_code).id
    audit.record(session, actor, AuditAction.FOLLOW_UP_END, follow_up, beneficiary_id=person.id)
    return follow_up


def other_open_follow_ups(session: Session, person: Beneficiary, actor: User) -> list[FollowUp]:
    """The follow-ups of ``person`` still open at structures other than the actor's."""
    return list(
        session.scalars(
            select(FollowUp).where(
                FollowUp.beneficiary_id == person.id,
                FollowUp.ended_on.is_(None),
                FollowUp.structure_id != actor.structure_id,
            )
        )
    )
