"""A structure's accounts as its managers run them (issue 13, item 2): the list, deactivation,
reactivation and the manager role. Administrators do the same for every structure and for
the accounts with no structure (coordinators, administrators, field workers).

Rules: nobody deactivates their own account here; the last active manager of a structure is
never deactivated nor loses the role (someone must be able to invite the others) - give the
role to a colleague first. Caseloads are handed over with
``app.services.people.referents.hand_over_caseload`` (``structure_id`` given).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.roles import Role
from app.models import FollowUp, Structure, User
from app.services.errors import N_, Forbidden, InvalidInput
from app.services.security import accounts, audit, managers


@dataclass(frozen=True)
class AccountRow:
    """One line of a structure's accounts page."""

    user: User
    referent_of: int  # open follow-ups whose referent the account is

    @property
    def id(self) -> int:
        return self.user.id


def structure_accounts(session: Session, structure_id: int) -> list[AccountRow]:
    """The accounts of a structure (active first, then by name), with the number of people
    each is referent of. Two queries."""
    users = list(
        session.scalars(
            select(User)
            # An API token's service account is managed on the API tokens page.
            .where(User.structure_id == structure_id, User.api_client.is_(False))
            .order_by(User.active.desc(), func.lower(User.display_name), User.id)
        )
    )
    counts: dict[int, int] = {
        referent_id: int(count)
        for referent_id, count in session.execute(
            select(FollowUp.referent_id, func.count())
            .where(FollowUp.structure_id == structure_id, FollowUp.ended_on.is_(None))
            .group_by(FollowUp.referent_id)
        )
        if referent_id is not None
    }
    return [AccountRow(user, counts.get(user.id, 0)) for user in users]


def unattached_accounts(session: Session) -> list[User]:
    """Coordinators, administrators and field workers, active first, by role and name."""
    return list(
        session.scalars(
            select(User)
            .where(User.structure_id.is_(None))
            .order_by(User.active.desc(), User.role, func.lower(User.display_name), User.id)
        )
    )


def account_of_structure(session: Session, structure_id: int, user_id: int) -> User | None:
    """The account ``user_id`` if it belongs to the structure (else None: a 404)."""
    user = accounts.get_account(session, user_id)
    if user is None or user.structure_id != structure_id or user.api_client:
        return None
    return user


def require_account_manager(actor: User | None, user: User) -> None:
    """A structure's account: its managers and the administrators; any other: an
    administrator (``actor`` None is the command line)."""
    if user.structure_id is not None:
        managers.require_manager(actor, user.structure_id)
    elif actor is not None and not (actor.role is Role.ADMIN and actor.active):
        raise Forbidden(N_("Only an administrator manages this account."))


def _is_last_manager(session: Session, user: User) -> bool:
    if not (user.manages_structure and user.active and user.structure_id is not None):
        return False
    return [m.id for m in managers.managers_of(session, user.structure_id)] == [user.id]


def _refuse_token_account(user: User) -> None:
    if user.api_client:
        raise InvalidInput(
            N_(
                "This account belongs to an API token: revoke the token (or create another) "
                "on its structure's API tokens page."
            ),
            field="user",
        )


def deactivate(session: Session, actor: User | None, user: User) -> bool:
    """Close ``user``'s account (its sessions end). Returns whether it was open. An API
    token's account ends with its token (``app.services.api.tokens.revoke_token``): closed
    here, the token stopped working while its page still showed it in force, and reopened,
    a revoked token's account became active again."""
    check_deactivation(session, actor, user)
    return accounts.deactivate_user(session, actor, user)


def check_deactivation(session: Session, actor: User | None, user: User) -> None:
    """Why ``actor`` may not close ``user``'s account, raised (``Forbidden``, ``InvalidInput``):
    the confirmation page asks for nothing that would then be refused."""
    require_account_manager(actor, user)
    _refuse_token_account(user)
    if actor is not None and actor.id == user.id:
        raise InvalidInput(N_("You cannot deactivate your own account."), field="user")
    if actor is not None and _is_last_manager(session, user):
        raise InvalidInput(
            N_(
                "%(name)s is the last active manager of the structure: give the manager role "
                "to a colleague first, so that someone can still run its accounts."
            ),
            field="user",
            name=user.display_name,
        )


def reactivate(session: Session, actor: User | None, user: User, *, now: datetime) -> bool:
    """Open a closed account again. Returns whether it was closed. The account's idle time
    starts again now (``users deactivate-idle`` would close it at once otherwise)."""
    require_account_manager(actor, user)
    _refuse_token_account(user)
    if user.active:
        return False
    if user.structure is not None and not user.structure.active:
        raise InvalidInput(N_("This structure is closed."), field="user")
    user.active = True
    user.reactivated_at = now
    audit.record(session, actor, AuditAction.USER_REACTIVATE, user)
    return True


def change_manager(session: Session, actor: User | None, user: User, allowed: bool) -> bool:
    """Give or take back the manager role of a colleague; never take it from the last active
    manager. Returns whether anything changed."""
    if user.role is not Role.CASEWORKER:
        raise InvalidInput(N_("Only a caseworker can manage their structure."), field="user")
    managers.require_manager(actor, user.structure_id)
    if allowed and not user.active:
        raise InvalidInput(N_("This account is closed: reactivate it first."), field="user")
    if not allowed and actor is not None and _is_last_manager(session, user):
        raise InvalidInput(
            N_(
                "%(name)s is the last active manager of the structure: give the manager role "
                "to a colleague first, so that someone can still run its accounts."
            ),
            field="user",
            name=user.display_name,
        )
    return managers.set_manager(session, actor, user, allowed)


def left_without_manager(session: Session, closed: list[User]) -> list[tuple[str, list[str]]]:
    """The structures (code, e-mail addresses of the accounts staying active) whose last active
    managers are among ``closed`` while colleagues stay active (``users deactivate-idle``
    names them: the command line closes a last manager, the pages never do)."""
    leaving = {user.id for user in closed}
    found = []
    ids = {u.structure_id for u in closed if u.manages_structure and u.structure_id is not None}
    for structure_id in sorted(i for i in ids if i is not None):
        if any(m.id not in leaving for m in managers.managers_of(session, structure_id)):
            continue
        staying = session.scalars(
            select(User.email)
            .where(
                User.structure_id == structure_id,
                User.active.is_(True),
                User.api_client.is_(False),
                User.id.not_in(leaving),
            )
            .order_by(User.email)
        ).all()
        structure = session.get(Structure, structure_id)
        if staying and structure is not None:
            found.append((structure.code, list(staying)))
    return found
