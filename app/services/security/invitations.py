"""Invitations to create an account, by e-mail (issue 13, item 2).

*Invite.* A structure manager invites a colleague of their structure (a caseworker, perhaps a
manager too); an administrator does the same for any structure, and invites coordinators,
administrators and field workers. ``invite`` refuses an address an account already uses,
revokes the address's pending invitation, stores the new one as the SHA-256 of a 256-bit
random token and queues a mail holding the link, its text written now (the token is in that
mail and nowhere else). ``actor`` None is the command line or a structure answering a
hand-off by e-mail link without an account: the audit event names the ``channel``.

*Accept.* ``find_invitation`` tells whether a token is a live invitation (unknown, used,
revoked or expired are all "no"). ``accept`` checks the name and the password (the policy of
every password), marks the invitation used - a conditional UPDATE, so that the same link used
twice at once creates one account - then creates the account with the invitation's role and
structure. The first active account of a structure that has none becomes its manager, so that
a small association that joins through a link can then invite its colleagues.
"""

from __future__ import annotations

import gettext
import hashlib
import secrets
import uuid
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.domain.audit import AuditAction
from app.domain.roles import Role
from app.models import Invitation, MailKind, MailMessage, Structure, User
from app.services.errors import N_, Conflict, Forbidden, InvalidInput
from app.services.mail.composing import TRANSLATIONS
from app.services.mail.texts import DEFAULT_LOCALE
from app.services.security import accounts, audit, managers
from app.services.security.passwords import check_password_policy
from app.services.structures import structure_phrases

TOKEN_BYTES = 32  # 256 bits
DEFAULT_LIFETIME = timedelta(days=7)

# How the invitation was made, kept in the audit event.
CHANNEL_WEB = "web"
CHANNEL_CLI = "cli"
CHANNEL_HANDOFF_LINK = "handoff_link"
CHANNELS = frozenset({CHANNEL_WEB, CHANNEL_CLI, CHANNEL_HANDOFF_LINK})

SUBJECT = N_("Relais: an invitation to create your account")
BODY = N_(
    "Hello,\n\n"
    "You are invited to create your Relais account as %(role)s. To create it, open this "
    "link within %(delay)s (it works once):\n\n"
    "%(link)s\n\n"
    "If you did not expect this invitation, ignore this mail: no account is created."
)
ROLE_PHRASES = {
    Role.COORDINATOR: N_("a coordinator"),
    Role.ADMIN: N_("an administrator"),
    Role.FIELD_WORKER: N_("a field worker"),
}
CASEWORKER_PHRASE = N_("a caseworker of %(of_structure)s")
MANAGER_PHRASE = N_("a caseworker and manager of the accounts of %(of_structure)s")


class InvitationNotValid(Exception):
    """The link is unknown, used, revoked or expired (or was used meanwhile)."""


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def invitation_link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/invitation/{token}"


@lru_cache(maxsize=4)
def _translations(locale: str) -> gettext.NullTranslations:
    return gettext.translation(
        "messages", localedir=str(TRANSLATIONS), languages=[locale], fallback=True
    )


def require_inviter(actor: User | None, role: Role, structure_id: int | None) -> None:
    """A caseworker is invited by a manager of the structure (or an administrator); any other
    role by an administrator only. ``actor`` None is the command line."""
    if role is Role.CASEWORKER:
        managers.require_manager(actor, structure_id)
    elif actor is not None and (actor.role is not Role.ADMIN or not actor.active):
        raise Forbidden(N_("Only an administrator invites this kind of account."))


def invite(
    session: Session,
    actor: User | None,
    *,
    email: str,
    role: Role,
    structure: Structure | None,
    manager: bool,
    now: datetime,
    base_url: str,
    lifetime: timedelta = DEFAULT_LIFETIME,
    channel: str = CHANNEL_WEB,
    name_hint: str | None = None,
) -> Invitation:
    """Invite ``email`` to create an account of ``role`` (of ``structure`` for a caseworker,
    manager of it if ``manager``). Raises ``InvalidInput``, ``Forbidden`` or ``Conflict``
    (an account uses the address) before any change."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    login = accounts.normalise_login(email)
    if role.needs_structure and structure is None:
        raise InvalidInput(N_("A caseworker belongs to a structure."), field="structure")
    if not role.needs_structure and structure is not None:
        raise InvalidInput(N_("Only caseworkers belong to a structure."), field="structure")
    if manager and role is not Role.CASEWORKER:
        raise InvalidInput(N_("Only a caseworker can manage their structure."), field="manager")
    require_inviter(actor, role, structure.id if structure else None)
    if structure is not None and not structure.active:
        raise InvalidInput(N_("This structure is closed."), field="structure")
    hint = (name_hint or "").strip()[:200] or None
    taken = accounts.find_user(session, login)
    if taken is not None:
        raise Conflict(_taken(actor, taken), field="email")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    for previous in _pending_for(session, login, now):
        if not _may_revoke(actor, previous):
            # Another structure's invitation to the same address: not this inviter's to end.
            # Both links work until one of them creates the account; the other then fails.
            continue
        previous.revoked_at = now
        audit.record(
            session, actor, AuditAction.INVITATION_REVOKE, previous,
            reason="replaced", channel=channel,
        )  # fmt: skip
    invitation = Invitation(
        email=login,
        role=role,
        structure_id=structure.id if structure else None,
        manages_structure=manager,
        name_hint=hint,
        invited_by_id=actor.id if actor else None,
        token_hash=token_digest(token),
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(invitation)
    session.flush()
    _queue_mail(session, invitation, structure, token, base_url=base_url, lifetime=lifetime)
    audit.record(
        session, actor, AuditAction.INVITATION_SEND, invitation,
        role=role.value, structure=structure.id if structure else None,
        manager=int(manager), channel=channel,
    )  # fmt: skip
    return invitation


def _taken(actor: User | None, taken: User) -> str:
    """Why an address in use cannot be invited: said as the inviter can act on it. To a
    manager, an account of another structure is only "has an account" (not whether it is
    active: that is the administrators' business)."""
    may_act = (
        actor is None
        or actor.role is Role.ADMIN
        or (actor.manages_structure and actor.structure_id == taken.structure_id)
    )
    if not may_act:
        return N_(
            "This e-mail address already has an account in Relais: invite another address, "
            "or ask an administrator."
        )
    if taken.active:
        return N_("An active account already uses this e-mail address: invite another address.")
    return N_(
        "A deactivated account uses this e-mail address: reactivate it from the accounts "
        "page, or invite another address."
    )


def _may_revoke(actor: User | None, invitation: Invitation) -> bool:
    try:
        require_inviter(actor, invitation.role, invitation.structure_id)
    except Forbidden:
        return False
    return True


def _pending_for(session: Session, email: str, now: datetime) -> list[Invitation]:
    return list(
        session.scalars(
            select(Invitation).where(
                Invitation.email == email,
                Invitation.used_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > now,
            )
        )
    )


def _queue_mail(
    session: Session,
    invitation: Invitation,
    structure: Structure | None,
    token: str,
    *,
    base_url: str,
    lifetime: timedelta,
) -> None:
    locale = DEFAULT_LOCALE  # no account yet: the language of Relais
    catalog = _translations(locale)
    t = catalog.gettext
    if structure is None:
        role = t(ROLE_PHRASES[invitation.role])
    else:
        phrase = MANAGER_PHRASE if invitation.manages_structure else CASEWORKER_PHRASE
        role = t(phrase) % {"of_structure": structure_phrases(structure, locale).of}
    days = max(1, int(lifetime.total_seconds() // 86400))
    delay = catalog.ngettext("%(num)d day", "%(num)d days", days) % {"num": days}
    body = t(BODY) % {"role": role, "delay": delay, "link": invitation_link(base_url, token)}
    session.add(
        MailMessage(
            id=uuid.uuid4(),
            kind=MailKind.INVITATION,
            handoff_id=None,
            to_address=invitation.email,
            locale=locale,
            subject=t(SUBJECT),
            body_text=body + "\n",
            attempts=0,
        )
    )
    session.flush()


def find_invitation(session: Session, token: str, *, now: datetime) -> Invitation | None:
    """The live invitation of ``token`` (not used, revoked or expired; its structure open)."""
    if not token or len(token) > 128:
        return None
    invitation = session.scalar(
        select(Invitation).where(Invitation.token_hash == token_digest(token))
    )
    if invitation is None or not invitation.pending(now):
        return None
    if invitation.structure is not None and not invitation.structure.active:
        return None
    return invitation


def accept(
    session: Session,
    token: str,
    *,
    display_name: str,
    password: str,
    min_length: int,
    now: datetime,
) -> User:
    """Create the account of the invitation ``token``. Raises ``InvitationNotValid`` or
    ``InvalidInput`` (fields ``display_name``, ``password``) before any change; ``Conflict``
    when an account took the address meanwhile (the caller rolls back)."""
    invitation = find_invitation(session, token, now=now)
    if invitation is None:
        raise InvitationNotValid
    name = display_name.strip()
    if not name:
        raise InvalidInput(N_("Enter your name."), field="display_name")
    if len(name) > 200:
        raise InvalidInput(N_("The name is too long."), field="display_name")
    check_password_policy(password, min_length, email=invitation.email, names=[name])
    # Spend the link first: of two requests with the same link, the second waits for the
    # first's row lock (PostgreSQL) or its write (SQLite) and then updates nothing.
    spent = session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise InvitationNotValid
    structure = invitation.structure
    first = structure is not None and not has_active_account(session, structure.id)
    user = accounts.create_user(
        session,
        None,
        email=invitation.email,
        display_name=name,
        role=invitation.role,
        structure=structure,
        password=password,
        min_length=min_length,
    )
    session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id)
        .values(user_id=user.id)
        .execution_options(synchronize_session=False)
    )
    audit.record(session, user, AuditAction.INVITATION_ACCEPT, invitation, user=user.id)
    if invitation.manages_structure or first:
        user.manages_structure = True
        audit.record(
            session, None, AuditAction.STRUCTURE_MANAGER, user,
            allowed=1, reason="invitation" if invitation.manages_structure else "first_account",
        )  # fmt: skip
    return user


def has_active_account(session: Session, structure_id: int) -> bool:
    found = session.scalar(
        select(func.count())
        .select_from(User)
        .where(
            User.structure_id == structure_id,
            User.active.is_(True),
            User.api_client.is_(False),  # an API token is nobody to manage the structure
        )
    )
    return bool(found)


def get_invitation(session: Session, invitation_id: int) -> Invitation | None:
    if not 0 < invitation_id <= 2**31 - 1:
        return None
    return session.get(Invitation, invitation_id)


def pending_invitations(
    session: Session, structure_id: int | None, *, now: datetime
) -> list[Invitation]:
    """The pending invitations of a structure (``None``: of the accounts with no structure),
    newest first."""
    query = select(Invitation).where(
        Invitation.used_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.expires_at > now,
    )
    if structure_id is None:
        query = query.where(Invitation.structure_id.is_(None))
    else:
        query = query.where(Invitation.structure_id == structure_id)
    return list(session.scalars(query.order_by(Invitation.created_at.desc(), Invitation.id)))


def revoke(session: Session, actor: User | None, invitation: Invitation, *, now: datetime) -> bool:
    """Revoke a pending invitation; whether it was pending."""
    require_inviter(actor, invitation.role, invitation.structure_id)
    if not invitation.pending(now):
        return False
    invitation.revoked_at = now
    audit.record(session, actor, AuditAction.INVITATION_REVOKE, invitation, reason="revoked")
    return True


def resend(
    session: Session,
    actor: User | None,
    invitation: Invitation,
    *,
    now: datetime,
    base_url: str,
    lifetime: timedelta = DEFAULT_LIFETIME,
) -> Invitation:
    """Send a pending invitation again: a new link (the old one is revoked), a new delay."""
    require_inviter(actor, invitation.role, invitation.structure_id)
    if not invitation.pending(now):
        raise InvalidInput(N_("This invitation was used, revoked or has expired."))
    return invite(
        session,
        actor,
        email=invitation.email,
        role=invitation.role,
        structure=invitation.structure,
        manager=invitation.manages_structure,
        now=now,
        base_url=base_url,
        lifetime=lifetime,
        name_hint=invitation.name_hint,
    )
