"""What the generator needs of the demo network and of the reference lists, read once a run."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.demo.data.network import ACTING_ON, STRUCTURES
from app.demo.synthetic.shape import DECLINE_REASONS, END_AFTER_OUTCOME, EXIT_REASONS, KIND_COHORT
from app.models import ReferenceItem, ReferenceKind, Structure, User
from app.services.errors import N_, NotFound


@dataclass(frozen=True)
class Network:
    """The demo structures, their caseworkers and the reference items, by code."""

    ids: dict[str, int]  # structure code -> id
    names: dict[str, str]  # structure code -> name
    caseworkers: dict[str, int]  # structure code -> its demo caseworker's user id
    refs: dict[ReferenceKind, dict[str, int]]  # kind -> code -> reference item id
    qpvs: tuple[tuple[int, str], ...]  # (id, code) of the active QPVs


# Reference codes the generator writes, by list.
NEEDED_CODES = {
    ReferenceKind.COHORT: set(KIND_COHORT.values()),
    ReferenceKind.STAGE: {"orientation", "barriers", "training", "employment", "exit_other"},
    ReferenceKind.BARRIER_CATEGORY: set(ACTING_ON),
    ReferenceKind.DECLINE_REASON: set(DECLINE_REASONS),
    ReferenceKind.OUTCOME: set(END_AFTER_OUTCOME),
    ReferenceKind.END_REASON: set(END_AFTER_OUTCOME.values()) | {r for r, _ in EXIT_REASONS},
    ReferenceKind.PATHWAY_TYPE: {"professional", "socio_professional", "social"},
    # The precisions of "no solution found" (``unmet``).
    ReferenceKind.UNMET_NEED_PRECISION: {
        "no_partner_on_territory",
        "partners_full",
        "too_far",
        "waiting_too_long",
    },
}


def read_network(session: Session) -> Network:
    """The demo network as it stands. Raises ``NotFound`` when a demo structure or its
    caseworker is missing or inactive, or when a reference code the generator writes is."""
    codes = [spec.code for spec in STRUCTURES]
    found = session.execute(
        select(Structure.code, Structure.id, Structure.name).where(
            Structure.code.in_(codes), Structure.active.is_(True)
        )
    ).all()
    ids = {code: sid for code, sid, _name in found}
    caseworkers = _caseworkers(session, ids)
    missing = sorted(set(codes) - (set(ids) & set(caseworkers)))
    if missing:
        raise NotFound(
            N_(
                "The demo network is not complete (missing or inactive: %(missing)s); "
                "load the demo into a database without people first."
            ),
            missing=", ".join(missing),
        )
    refs = _reference_items(session)
    qpvs = session.execute(
        select(ReferenceItem.id, ReferenceItem.code)
        .where(ReferenceItem.kind == ReferenceKind.QPV, ReferenceItem.active.is_(True))
        .order_by(ReferenceItem.position, ReferenceItem.code)
    ).all()
    names = {code: name for code, _sid, name in found}
    return Network(ids, names, caseworkers, refs, tuple((i, c) for i, c in qpvs))


def _caseworkers(session: Session, ids: dict[str, int]) -> dict[str, int]:
    """The active demo caseworker of each structure found, still in that structure."""
    emails = {spec.caseworker_email: spec.code for spec in STRUCTURES}
    users = session.execute(
        select(User.email, User.id, User.structure_id).where(
            User.email.in_(list(emails)), User.active.is_(True)
        )
    ).all()
    return {emails[email]: uid for email, uid, sid in users if ids.get(emails[email]) == sid}


def _reference_items(session: Session) -> dict[ReferenceKind, dict[str, int]]:
    refs = {kind: _codes(session, kind) for kind in NEEDED_CODES}
    lacking = sorted(
        f"{k.value}:{c}" for k, need in NEEDED_CODES.items() for c in need - set(refs[k])
    )
    if lacking:
        raise NotFound(
            N_("Reference list entries are missing or inactive: %(missing)s."),
            missing=", ".join(lacking),
        )
    return refs


def _codes(session: Session, kind: ReferenceKind) -> dict[str, int]:
    rows = session.execute(
        select(ReferenceItem.code, ReferenceItem.id).where(
            ReferenceItem.kind == kind, ReferenceItem.active.is_(True)
        )
    )
    return {str(code): int(item_id) for code, item_id in rows}
