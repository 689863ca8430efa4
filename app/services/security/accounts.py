"""Staff accounts: creation, passwords, deactivation and sign-in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session, undefer_group

from app.domain.audit import AuditAction
from app.domain.french import fold
from app.domain.roles import Role
from app.models import Invitation, Structure, User
from app.models.base import utcnow
from app.models.user import SECRETS
from app.services.errors import N_, Conflict, InvalidInput, NotFound
from app.services.mail.texts import LOCALES
from app.services.security import audit, sessions, throttling
from app.services.security.passwords import (
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
)
from app.services.text_limits import column_length, within


def normalise_login(email: str) -> str:
    """Logins are e-mail addresses, compared in lower case."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidInput(N_("Enter a valid e-mail address."), field="email") from exc


def find_user(session: Session, email: str, *, secrets: bool = False) -> User | None:
    """The account of ``email``; with ``secrets``, its password hash and second factor read
    in the same statement (the sign-in), else left in the database until used."""
    query = select(User).where(User.email == email.strip().lower())
    if secrets:
        query = query.options(undefer_group(SECRETS))
    return session.scalar(query)


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
    enforce_policy: bool = True,
) -> User:
    """Create an account. A caseworker needs a structure; other roles have none.

    ``enforce_policy=False`` is for the demo accounts only (development data with a published
    password that the policy refuses); the demo loader refuses production by itself.
    """
    login = normalise_login(email)
    if not display_name.strip():
        raise InvalidInput(N_("Enter the person's name."), field="display_name")
    display_name = within(display_name, column_length(User.display_name), "display_name")
    if role.needs_structure and structure is None:
        raise InvalidInput(N_("A caseworker belongs to a structure."), field="structure")
    if not role.needs_structure and structure is not None:
        raise InvalidInput(N_("Only caseworkers belong to a structure."), field="structure")
    if find_user(session, login) is not None:
        raise Conflict(N_("An account already uses this e-mail address."), field="email")
    if enforce_policy:
        check_password_policy(password, min_length, email=login, names=[display_name])
    user = User(
        email=login,
        display_name=display_name,
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
    check_password_policy(password, min_length, email=user.email, names=[user.display_name])
    user.password_hash = hash_password(password)
    user.session_version += 1
    sessions.end_all(session, user, now=utcnow())
    audit.record(session, actor, AuditAction.USER_SET_PASSWORD, user)


def set_language(user: User, locale: str) -> None:
    """The language ``user`` chose for Relais, kept with the account: the mails sent to them
    are written in it, and their next sign-in opens in it."""
    if locale not in LOCALES:
        raise InvalidInput(N_("Unknown language."))
    user.locale = locale


def deactivate_user(
    session: Session, actor: User | None, user: User, *, reason: str | None = None
) -> bool:
    """Close an account: it can no longer sign in, its sessions end now and the invitations it
    sent that wait for an answer are revoked. Returns whether it was open (closing a closed
    account changes nothing). ``reason``: a short code kept in the audit event ("idle" for
    ``flask users deactivate-idle``)."""
    if not user.active:
        return False
    now = utcnow()
    user.active = False
    user.session_version += 1
    sessions.end_all(session, user, now=now)
    if reason is None:
        audit.record(session, actor, AuditAction.USER_DEACTIVATE, user)
    else:
        audit.record(session, actor, AuditAction.USER_DEACTIVATE, user, reason=reason)
    _revoke_invitations_sent(session, actor, user, now)
    return True


def _revoke_invitations_sent(
    session: Session, actor: User | None, user: User, now: datetime
) -> None:
    """The invitations a closed account sent that wait for an answer stop working: someone who
    leaves cannot come back through a link they sent themself before leaving."""
    waiting = session.scalars(
        select(Invitation).where(
            Invitation.invited_by_id == user.id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
    )
    for invitation in waiting:
        invitation.revoked_at = now
        audit.record(
            session, actor, AuditAction.INVITATION_REVOKE, invitation, reason="inviter_deactivated"
        )


def idle_accounts(session: Session, *, since: datetime) -> list[User]:
    """Active accounts not signed in since ``since`` (never signed in: created before it).
    The service accounts of API tokens never sign in: they end with their token."""
    return list(
        session.scalars(
            select(User)
            .where(
                User.active.is_(True),
                User.api_client.is_(False),
                ((User.last_login_at.is_not(None)) & (User.last_login_at < since))
                | ((User.last_login_at.is_(None)) & (User.created_at < since)),
                # Opened again by a manager or an administrator: idle from then at the earliest.
                (User.reactivated_at.is_(None)) | (User.reactivated_at < since),
            )
            .order_by(User.id)
        )
    )


def spare_last_administrator(session: Session, idle: list[User]) -> User | None:
    """The administrator among ``idle`` to keep open when closing them all would leave no
    active administrator (nobody could then reactivate an account, reset a second factor or
    invite from the web): the one signed in (or created, or reactivated) last. ``None`` when an
    active administrator remains anyway."""
    idle_ids = {user.id for user in idle}
    active = session.scalars(select(User).where(User.role == Role.ADMIN, User.active.is_(True)))
    admins = list(active)
    if not admins or any(admin.id not in idle_ids for admin in admins):
        return None

    def last_seen(admin: User) -> datetime:
        moments = [admin.last_login_at, admin.reactivated_at, admin.created_at]
        return max(moment for moment in moments if moment is not None)

    return max(admins, key=last_seen)


def authenticate(
    session: Session,
    email: str,
    password: str,
    *,
    keys: throttling.AttemptKeys,
    policy: throttling.ThrottlePolicy,
    now: datetime,
) -> User | None:
    """The account for these credentials, or ``None`` - the same answer for every failure.

    Raises ``TooManyAttempts`` before any hashing while the login or the client address is
    in back-off (``app.services.security.throttling``), and again after a right password when
    failures counted by parallel requests meanwhile put the login in back-off. A wrong
    password is counted atomically. Unknown logins cost the same hashing time and are counted
    the same way. A hash made with older Argon2 parameters is replaced on success.

    An account with a second factor is returned without being signed in: the caller asks for
    a code (``second_factor.check_code``, its wrong codes counted by the same back-off) and
    then calls ``finish_sign_in``.
    """
    _refuse_while_throttled(session, keys, policy, now)
    user = find_user(session, email, secrets=True)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok:
        throttling.record_failure(session, keys, now)
    # An API token's service account has no usable password; refused whatever was typed.
    if user is None or not ok or not user.active or user.api_client:
        if user is not None:
            audit.record(session, None, AuditAction.LOGIN_FAILED, user)
        return None
    _refuse_while_throttled(session, keys, policy, now)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if user.has_second_factor:
        # Not signed in yet: the login's failures are cleared by ``finish_sign_in`` after the
        # second step, so that wrong codes add up even when the password is typed again.
        return user
    return finish_sign_in(session, user, keys=keys, now=now)


def finish_sign_in(
    session: Session,
    user: User,
    *,
    keys: throttling.AttemptKeys,
    now: datetime,
    method: str | None = None,
    acr: str | None = None,
    amr: str | None = None,
) -> User:
    """The sign-in succeeded (the password, and the second factor when the account has one):
    clear the login's failures (never the client address's), record the sign-in (for
    ProConnect, with the ``method`` and the provider's ``acr`` and ``amr``)."""
    throttling.clear_account(session, keys)
    user.last_login_at = now
    if method is None:
        audit.record(session, user, AuditAction.LOGIN, user)
    else:
        audit.record(session, user, AuditAction.LOGIN, user, method=method, acr=acr, amr=amr)
    return user


def _refuse_while_throttled(
    session: Session,
    keys: throttling.AttemptKeys,
    policy: throttling.ThrottlePolicy,
    now: datetime,
) -> None:
    wait = throttling.wait_before(session, keys, policy, now)
    if wait is not None:
        raise throttling.TooManyAttempts(wait)


@dataclass(frozen=True)
class AccountFilters:
    """What the administrator's list of accounts is narrowed to: ``text`` found in the name or
    the e-mail address (case and accents folded), a role, a structure, active or not."""

    text: str = ""
    role: Role | None = None
    structure_id: int | None = None
    active: bool | None = None

    @property
    def narrowed(self) -> bool:
        return self != AccountFilters()


def list_users(session: Session, filters: AccountFilters | None = None) -> list[User]:
    """The accounts by role then name, those of ``filters`` only. The role, structure and
    status are conditions of the query; the text is matched here, folded as people type it
    ("lea" finds "Léa"), on both databases alike: the accounts of a territory are a few
    hundred."""
    filters = filters or AccountFilters()
    query = select(User).order_by(User.role, func.lower(User.display_name))
    if filters.role is not None:
        query = query.where(User.role == filters.role)
    if filters.structure_id is not None:
        query = query.where(User.structure_id == filters.structure_id)
    if filters.active is not None:
        query = query.where(User.active.is_(filters.active))
    users = list(session.scalars(query))
    wanted = fold(filters.text.strip())
    if not wanted:
        return users
    return [u for u in users if wanted in fold(u.display_name) or wanted in fold(u.email)]


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
