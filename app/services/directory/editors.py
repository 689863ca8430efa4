"""Who may edit a directory card, and the right an administrator gives a caseworker.

Administrators edit every card; a caseworker edits the card of their own structure when an
administrator gave them the right (``User.can_edit_card``). The command line edits every card.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.roles import Role
from app.models import Structure, User
from app.services.errors import N_, Forbidden, InvalidInput
from app.services.security import audit


def can_edit_card(actor: User | None, structure: Structure) -> bool:
    """Administrators edit every card; an allowed caseworker edits their structure's card."""
    if actor is None:
        return False
    if actor.role is Role.ADMIN:
        return True
    return (
        actor.role is Role.CASEWORKER and actor.can_edit_card and actor.structure_id == structure.id
    )


def require_editor(actor: User | None, structure: Structure) -> None:
    """``actor`` None is the command line, which may edit every card."""
    if actor is not None and not can_edit_card(actor, structure):
        raise Forbidden(N_("You may not edit this card."))


def card_editors(session: Session, structure: Structure) -> list[User]:
    """The active caseworkers allowed to edit this structure's card."""
    query = select(User).where(
        User.structure_id == structure.id, User.can_edit_card.is_(True), User.active.is_(True)
    )
    return list(session.scalars(query.order_by(func.lower(User.display_name))))


def editor_account(session: Session, user_id: int) -> User | None:
    """The account whose right to edit a card an administrator is setting, if it exists."""
    return session.get(User, user_id)


def set_card_editor(session: Session, actor: User | None, user: User, allowed: bool) -> bool:
    """Give or take back a caseworker's right to edit their structure's card.

    Only administrators (or the command line) grant it, only to caseworkers. Returns whether
    anything changed.
    """
    if actor is not None and actor.role is not Role.ADMIN:
        raise Forbidden(N_("Only an administrator gives the right to edit a card."))
    if user.role is not Role.CASEWORKER:
        raise InvalidInput(N_("Only a caseworker can edit their structure's card."), field="user")
    if user.can_edit_card == allowed:
        return False
    user.can_edit_card = allowed
    audit.record(session, actor, AuditAction.CARD_EDITOR, user, allowed=int(allowed))
    return True
