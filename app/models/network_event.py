"""Network events (*temps d'interconnaissance*): meetings where the partners get to know each other."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, created_at, int_pk
from app.models.structure import Structure
from app.models.user import User

network_event_structures = Table(
    "network_event_structures",
    Base.metadata,
    Column("event_id", ForeignKey("network_events.id", ondelete="CASCADE"), primary_key=True),
    Column("structure_id", ForeignKey("structures.id"), primary_key=True, index=True),
)


class NetworkEvent(Base):
    """A meeting of the network: theme, date, structures present, head count, follow-ups.

    It names structures, never people: ``participants`` is a head count.
    """

    __tablename__ = "network_events"
    __table_args__ = (CheckConstraint("participants >= 0", name="participants_not_negative"),)

    id: Mapped[int_pk]
    theme: Mapped[str] = mapped_column(String(200))
    held_on: Mapped[date] = mapped_column(index=True)
    participants: Mapped[int] = mapped_column(Integer)
    follow_ups: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]
    updated_at: Mapped[datetime | None]

    structures: Mapped[list[Structure]] = relationship(
        secondary=network_event_structures, lazy="selectin", order_by=Structure.name
    )
    recorded_by: Mapped[User | None] = relationship()
