"""API tokens: created and revoked by a structure's managers, stored as a SHA-256 only.

Each token acts through a service account of its own: a caseworker of the structure flagged
``api_client``, named "API: <token name>", with no usable password (it cannot sign in on the
web), never deactivated as idle and never offered as a referent. The API then calls the same
services as the web with that account as the actor: it sees and does exactly what a
caseworker of the structure can, and the audit log says which token did it. Revoking the token
deactivates its account.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.api import NAME_LIMIT, TOKEN_SHAPE, Scope, parse_scopes
from app.domain.audit import AuditAction
from app.domain.roles import Role
from app.models import ApiToken, Structure, User
from app.services.errors import N_, InvalidInput, NotFound
from app.services.security import audit
from app.services.security.managers import manages, require_manager

SECRET_BYTES = 32  # 256 bits
# An unusable password hash: Argon2 refuses it, so no password ever matches.
NO_PASSWORD = "!api-token"  # noqa: S105 - not a password
# ``last_used_at`` is written at most this often (not one write per request).
LAST_USE_STEP = timedelta(minutes=1)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidInput(N_("Name the token (the software that will use it)."), field="name")
    if len(cleaned) > NAME_LIMIT:
        raise InvalidInput(
            N_("The name is too long (%(limit)s characters at most)."),
            field="name",
            limit=NAME_LIMIT,
        )
    return cleaned


def _scopes(values: list[str] | tuple[str, ...]) -> frozenset[Scope]:
    try:
        scopes = parse_scopes(values)
    except ValueError:
        raise InvalidInput(N_("Choose among the scopes offered."), field="scopes") from None
    if not scopes:
        raise InvalidInput(N_("Choose at least one scope."), field="scopes")
    return scopes


def _free_prefix(session: Session) -> str:
    for _ in range(20):
        prefix = secrets.token_hex(4)
        if session.scalar(select(ApiToken.id).where(ApiToken.prefix == prefix)) is None:
            return prefix
    raise RuntimeError("could not draw a free token prefix")  # 20 collisions in 32 bits


def create_token(
    session: Session,
    actor: User | None,
    structure: Structure,
    *,
    name: str,
    scopes: list[str] | tuple[str, ...],
    now: datetime,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token of ``structure`` and its value, to show once (never stored).

    ``actor`` must manage the structure (None: the command line). Raises ``InvalidInput``
    for an empty name, no scope or an unknown one, an expiry in the past or an inactive
    structure."""
    require_manager(actor, structure.id)
    cleaned = _clean_name(name)
    chosen = _scopes(scopes)
    if expires_at is not None and expires_at <= now:
        raise InvalidInput(N_("The expiry must be in the future."), field="expires_on")
    if not structure.active:
        raise InvalidInput(N_("This structure is not active."), field="structure")
    prefix = _free_prefix(session)
    value = f"relais_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    account = User(
        email=f"api-{prefix}@api-tokens.invalid",
        display_name=f"API: {cleaned}",
        role=Role.CASEWORKER,
        structure_id=structure.id,
        password_hash=NO_PASSWORD,
        api_client=True,
        active=True,
    )
    session.add(account)
    session.flush()
    token = ApiToken(
        structure_id=structure.id,
        user_id=account.id,
        name=cleaned,
        scopes=" ".join(sorted(chosen)),
        token_hash=token_digest(value),
        prefix=prefix,
        created_by_id=actor.id if actor else None,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor,
        AuditAction.API_TOKEN_CREATE,
        token,
        structure=structure.id,
        prefix=prefix,
        scopes=token.scopes,
    )
    return token, value


def tokens_of(session: Session, actor: User | None, structure: Structure) -> list[ApiToken]:
    """The structure's tokens, newest first, revoked ones included (for its managers)."""
    require_manager(actor, structure.id)
    query = select(ApiToken).where(ApiToken.structure_id == structure.id)
    return list(session.scalars(query.order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def token_of(session: Session, actor: User | None, structure: Structure, token_id: int) -> ApiToken:
    """One of the structure's tokens, for its managers; ``NotFound`` otherwise."""
    require_manager(actor, structure.id)
    token = session.get(ApiToken, token_id)
    if token is None or token.structure_id != structure.id:
        raise NotFound(N_("No such token."))
    return token


def revoke_token(session: Session, actor: User | None, token: ApiToken, *, now: datetime) -> bool:
    """Revoke ``token`` at once and deactivate its service account; whether anything
    changed (revoking twice changes nothing)."""
    require_manager(actor, token.structure_id)
    if token.revoked_at is not None:
        return False
    token.revoked_at = now
    token.user.active = False
    token.user.session_version += 1
    session.flush()
    audit.record(session, actor, AuditAction.API_TOKEN_REVOKE, token, structure=token.structure_id)
    return True


def authenticate_token(session: Session, presented: str, *, now: datetime) -> ApiToken | None:
    """The token ``presented`` if it is one Relais issued and still in force (not revoked,
    not expired, its structure and account active), else None - the same answer for every
    failure. Records the use (at most once a minute)."""
    if TOKEN_SHAPE.fullmatch(presented) is None:
        return None
    digest = token_digest(presented)
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
        return None
    if not token.user.active or not token.user.api_client or not token.structure.active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USE_STEP:
        token.last_used_at = now
    return token


def managed_structure(session: Session, actor: User, code: str) -> Structure:
    """The structure ``code`` if ``actor`` manages it, else ``NotFound`` (as if it did not
    exist: the pages of a structure's management are its managers' only)."""
    structure = session.scalar(select(Structure).where(Structure.code == code))
    if structure is None or not manages(actor, structure.id):
        raise NotFound(N_("No such structure."))
    return structure
