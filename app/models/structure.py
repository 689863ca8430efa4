"""Partner structures of the network."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, created_at, int_pk
from app.models.reference import ReferenceItem


class Structure(Base):
    """A partner organisation (Mission Locale, France Travail, an association...)."""

    __tablename__ = "structures"

    id: Mapped[int_pk]
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # The article of the name in a French sentence (``app.domain.french.Article``); NULL:
    # derived from the name (``guess_article``).
    article: Mapped[str | None] = mapped_column(String(8))
    type_id: Mapped[int] = mapped_column(ForeignKey("reference_items.id"), index=True)
    missions: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[str] = mapped_column(String(300), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    capacity: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[created_at]
    updated_at: Mapped[datetime | None]

    type: Mapped[ReferenceItem] = relationship(lazy="joined")
