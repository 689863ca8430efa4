"""Who manages a structure's accounts: its structure managers and the administrators.

The structure manager role (``User.manages_structure``) is a right of a caseworker over their
own structure: invite colleagues, deactivate them, hand their caseloads over, create the
structure's API tokens and webhooks. Administrators do the same for every structure. The role
is given by an administrator (web or ``flask users set-manager``) or by another manager of the
same structure.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.roles import Role
from app.models import User
from app.services.errors import N_, Forbidden, InvalidInput
from app.services.security import audit


def manages(actor: User | None, structure_id: int | None) -> bool:
    """Whether ``actor`` manages the accounts of the structure ``structure_id``."""
    if actor is None or structure_id is None or not actor.active:
        return False
    if actor.role is Role.ADMIN:
        return True
    return (
        actor.role is Role.CASEWORKER
        and actor.manages_structure
        and actor.structure_id == structure_id
    )


def require_manager(actor: User | None, structure_id: int | None) -> None:
    """``actor`` None is the command line, which manages every structure."""
    if actor is not None and not manages(actor, structure_id):
        raise Forbidden(N_("You do not manage this structure's accounts."))


def managers_of(session: Session, structure_id: int) -> list[User]:
    """The active managers of a structure, by name."""
    query = select(User).where(
        User.structure_id == structure_id,
        User.manages_structure.is_(True),
        User.active.is_(True),
    )
    return list(session.scalars(query.order_by(func.lower(User.display_name))))


def set_manager(session: Session, actor: User | None, user: User, allowed: bool) -> bool:
    """Give or take back the structure manager role of a caseworker.

    An administrator (or the command line) gives it to any caseworker; a manager to a colleague
    of their own structure. Returns whether anything changed.
    """
    if user.role is not Role.CASEWORKER:
        raise InvalidInput(N_("Only a caseworker can manage their structure."), field="user")
    require_manager(actor, user.structure_id)
    if user.manages_structure == allowed:
        return False
    user.manages_structure = allowed
    audit.record(session, actor, AuditAction.STRUCTURE_MANAGER, user, allowed=int(allowed))
    return True
