"""The stored side of hand-off links (``app.models.HandoffLink``): a new token, its digest,
and revocation when the hand-off moves on.

Kept apart from the use cases (``app.services.handoffs.links``) because every transition
calls ``revoke_after_transition``: an answer link dies as soon as the hand-off leaves
``sent`` by any path (an answer from an account or another link, a withdrawal, the expiry),
a follow-through link when the hand-off is closed.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffStatus
from app.models import Handoff, HandoffLink, LinkScope

TOKEN_BYTES = 32  # 256 bits, far beyond guessing


def token_digest(token: str) -> str:
    """What the table keeps of a token: its SHA-256, in hexadecimal."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_link(
    session: Session,
    handoff: Handoff,
    structure_id: int,
    scope: LinkScope,
    *,
    now: datetime,
    expires_at: datetime,
) -> str:
    """Store a new link of ``scope`` for ``structure_id`` on ``handoff``; return its token
    (given once: only its digest is kept)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        HandoffLink(
            handoff_id=handoff.id,
            structure_id=structure_id,
            scope=scope,
            token_hash=token_digest(token),
            created_at=now,
            expires_at=expires_at,
        )
    )
    return token


_LINKS = cast(Table, HandoffLink.__table__)
# Built once: every answer to a hand-off runs it (``app.services.core_writes``).
_REVOKE = (
    update(_LINKS)
    .where(
        _LINKS.c.handoff_id == bindparam("of_handoff", type_=_LINKS.c.handoff_id.type),
        _LINKS.c.scope.in_(bindparam("scopes", expanding=True, type_=_LINKS.c.scope.type)),
        _LINKS.c.used_at.is_(None),
        _LINKS.c.revoked_at.is_(None),
    )
    .values(revoked_at=bindparam("now", type_=_LINKS.c.revoked_at.type))
)


def revoke_links(
    session: Session, handoff_id: uuid.UUID, *scopes: LinkScope, now: datetime
) -> None:
    """Revoke the links of ``scopes`` on the hand-off that are neither used nor revoked (one
    statement, whatever the number of scopes; none for no scope). The links loaded in the
    session are not refreshed (none of the callers reads them again)."""
    if not scopes:
        return
    session.flush()  # a link just added is revoked too (nothing to do otherwise)
    session.connection().execute(
        _REVOKE, {"of_handoff": handoff_id, "scopes": list(scopes), "now": now}
    )


def revoke_after_transition(
    session: Session, handoff: Handoff, source: HandoffStatus | None, *, now: datetime
) -> None:
    """After a transition from ``source``: answer links die once the hand-off is no longer
    pending, follow-through links once it is closed. Nothing to run when the hand-off was
    read with none usable (``Handoff.has_open_links``) and none was added since."""
    if handoff.has_open_links is False and not any(
        isinstance(added, HandoffLink) for added in session.new
    ):
        return
    scopes: list[LinkScope] = []
    if source is HandoffStatus.SENT and handoff.status is not HandoffStatus.SENT:
        scopes.append(LinkScope.ANSWER)
    if handoff.status.is_final:
        scopes.append(LinkScope.FOLLOW_THROUGH)
    revoke_links(session, handoff.id, *scopes, now=now)
