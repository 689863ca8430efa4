"""API tokens of partner structures and the idempotency keys of their POST requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, created_at, int_pk
from app.models.structure import Structure
from app.models.user import User


class ApiToken(Base):
    """A structure's API token (``docs/api.md``), stored as the SHA-256 of the token only.

    The token itself (``relais_<prefix>_<secret>``) is shown once, when it is created;
    ``prefix`` is the short visible part that names it in the list. Each token acts through a
    service account of its own (``user``: a caseworker of the structure flagged
    ``api_client``), so that the API can see and do exactly what a caseworker of that
    structure can, through the same services, and the audit log and timelines say "API: name".
    ``scopes`` is a space-separated list (``people:read handoffs:write``...).
    """

    __tablename__ = "api_tokens"

    id: Mapped[int_pk]
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    scopes: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    structure: Mapped[Structure] = relationship(lazy="joined")
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())

    def __repr__(self) -> str:
        return f"<ApiToken {self.prefix} structure={self.structure_id}>"


class ApiIdempotencyKey(Base):
    """The answer given to a POST with an ``Idempotency-Key`` header, kept for a day.

    The same key with the same request (``request_hash``: SHA-256 of the method, the path and
    the body) gets the same answer again, without doing anything twice; with another request,
    a 422 problem. Only answers that changed something (status below 400) are kept: a refused
    request rolls back with its key and may be sent again. The answers of the API's POSTs hold
    no identity (pseudonyms and ids only): ``response`` is stored as it was sent.
    """

    __tablename__ = "api_idempotency_keys"

    token_id: Mapped[int] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[bytes | None] = mapped_column(LargeBinary)
    location: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[created_at] = mapped_column(index=True)
