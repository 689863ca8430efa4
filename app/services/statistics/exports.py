"""Exports of the statistics: each one is an audit event that names the scope, never a person.

What a table's CSV holds is the protected table itself (``Dashboard.tables``); the pathway
export is ``pathway_export``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.roles import Role
from app.models import Structure, User
from app.services.errors import N_, Forbidden
from app.services.security import audit
from app.services.statistics.scope import Scope


def record_export(
    session: Session, actor: User, action: AuditAction, scope: Scope, table: str | None = None
) -> None:
    """Audit an export of the dashboard (a table, or the pathways): the scope, never a person."""
    if actor.role is not Role.COORDINATOR:
        raise Forbidden(N_("Only coordinators export statistics."))
    codes = scope.codes()
    audit.record(
        session,
        actor,
        action,
        actor,
        purpose="statistics",
        table=table,
        start=codes["start"],
        end=codes["end"],
        cohort=codes["cohort"],
        qpv=codes["qpv"],
        structure=codes["structure"],
    )


PARTNER_TABLE = "partner-figures"


def record_partner_export(
    session: Session, actor: User, structure: Structure, scope: Scope
) -> None:
    """Audit an export of a structure's own figures (``partner``): by one of its caseworkers
    or a coordinator; the structure and the period, never a person."""
    mine = actor.role is Role.CASEWORKER and actor.structure_id == structure.id
    if not (mine or actor.role is Role.COORDINATOR):
        raise Forbidden(
            N_("Only the structure's caseworkers and the coordinators export these figures.")
        )
    codes = scope.codes()
    audit.record(
        session,
        actor,
        AuditAction.STATISTICS_EXPORT,
        actor,
        purpose="statistics",
        table=PARTNER_TABLE,
        start=codes["start"],
        end=codes["end"],
        structure=structure.code,
    )
