"""Staff accounts: creation, passwords, deactivation and sign-in."""

from __future__ import annotations

from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.roles import Role
from app.models import Structure, User
from app.services.errors import N_, Conflict, InvalidInput, NotFound
from app.services.security import audit
from app.services.security.passwords import check_password_policy, hash_password, verify_password


def normalise_login(email: str) -> str:
    """Logins are e-mail addresses, compared in lower case."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidInput(N_("Enter a valid e-mail address."), field="email") from exc


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def create_user(
    session: Session,
    actor: User | None,
    *,
    email: str,
    display_name: str,
    role: Role,
    structure: Structure | None,
    password: str,
    min_length: int,
) -> User:
    """Create an account. A caseworker needs a structure; other roles have none."""
    login = normalise_login(email)
    if not display_name.strip():
        raise InvalidInput(N_("Enter the person's name."), field="display_name")
    if role.needs_structure and structure is None:
        raise InvalidInput(N_("A caseworker belongs to a structure."), field="structure")
    if not role.needs_structure and structure is not None:
        raise InvalidInput(N_("Only caseworkers belong to a structure."), field="structure")
    if find_user(session, login) is not None:
        raise Conflict(N_("An account already uses this e-mail address."), field="email")
    check_password_policy(password, min_length, email=login)
    user = User(
        email=login,
        display_name=display_name.strip(),
        role=role,
        structure_id=structure.id if structure else None,
        password_hash=hash_password(password),
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, AuditAction.USER_CREATE, user, role=role.value)
    return user


def set_password(
    session: Session, actor: User | None, user: User, password: str, *, min_length: int
) -> None:
    """Change a password. Every open session of the account ends."""
    check_password_policy(password, min_length, email=user.email)
    user.password_hash = hash_password(password)
    user.session_version += 1
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, actor, AuditAction.USER_SET_PASSWORD, user)


def deactivate_user(session: Session, actor: User | None, user: User) -> bool:
    """Close an account: it can no longer sign in and its sessions end now. Returns whether
    it was open (closing a closed account changes nothing)."""
    if not user.active:
        return False
    user.active = False
    user.session_version += 1
    audit.record(session, actor, AuditAction.USER_DEACTIVATE, user)
    return True


def authenticate(
    session: Session,
    email: str,
    password: str,
    *,
    now: datetime,
    max_failures: int,
    lock_minutes: int,
) -> User | None:
    """The account for these credentials, or ``None`` - the same answer for every failure.

    An account with a second factor is returned without being signed in: the caller asks for
    a code (``second_factor.check_code``) and then calls ``finish_sign_in``.

    After ``max_failures`` wrong passwords in a row the account is locked for ``lock_minutes``;
    while locked even the right password fails. Unknown logins cost the same hashing time.
    """
    user = find_user(session, email)
    ok = verify_password(user.password_hash if user else None, password)
    if user is None:
        return None
    locked = user.locked_until is not None and user.locked_until > now
    if not ok or locked or not user.active:
        if not ok:
            user.failed_logins += 1
            if user.failed_logins >= max_failures:
                user.locked_until = now + timedelta(minutes=lock_minutes)
                user.failed_logins = 0
        audit.record(session, None, AuditAction.LOGIN_FAILED, user)
        return None
    if user.has_second_factor:
        # Not signed in yet: the failure count is reset by ``finish_sign_in`` after the second
        # step, so that wrong codes add up even when the password is typed again.
        return user
    return finish_sign_in(session, user, now=now)


def finish_sign_in(session: Session, user: User, *, now: datetime) -> User:
    """The sign-in succeeded (the password, and the second factor when the account has one):
    reset the failure count and the lock, record the sign-in."""
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    audit.record(session, user, AuditAction.LOGIN, user)
    return user


def end_sessions(session: Session, user: User) -> None:
    """Sign out everywhere: the session cookies of this account stop being accepted."""
    user.session_version += 1
    audit.record(session, user, AuditAction.LOGOUT, user)


def user_for_session(session: Session, user_id: int, version: int) -> User | None:
    """The signed-in user of a session cookie, if the account is active and the version current."""
    user = session.get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.role, func.lower(User.display_name))))


# Account ids are 32-bit integers: anything larger is no account (and no database error).
_MAX_ID = 2**31 - 1


def get_account(session: Session, user_id: int) -> User | None:
    if not 0 < user_id <= _MAX_ID:
        return None
    return session.get(User, user_id)


def get_user_by_email(session: Session, email: str) -> User:
    user = find_user(session, email)
    if user is None:
        raise NotFound(N_("No account uses this e-mail address."), field="email")
    return user
