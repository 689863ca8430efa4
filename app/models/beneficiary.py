"""People followed by the network, their data keys and their cohorts.

Identity fields are stored only as ciphertexts (see ``app.crypto.fields``) bound to this table,
their column, the row and the person. What stays in clear is generalised, for statistics:
birth year, sex if given, QPV, cohorts, education level band and the month of registration.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.people import EducationLevel, Sex
from app.models.base import Base, created_at, enum_column, uuid_pk
from app.models.reference import ReferenceItem

# Identity columns, each holding a ciphertext or NULL.
IDENTITY_FIELDS = (
    "last_name",
    "first_name",
    "birth_date",
    "phone",
    "email",
    "address",
    "france_travail_id",
    "ine",
    "notes",
)

beneficiary_cohorts = Table(
    "beneficiary_cohorts",
    Base.metadata,
    Column("beneficiary_id", ForeignKey("beneficiaries.id", ondelete="CASCADE"), primary_key=True),
    Column("cohort_id", ForeignKey("reference_items.id"), primary_key=True),
)


# The day kept as a person's last event while they have none (not NULL, so that the orders by
# news walk a plain index): before every real day, so last by news and first by idleness.
NO_EVENT = date(1, 1, 1)
# The stage position kept for a person without any step: after every stage.
NO_STAGE = 1_000_000


class Beneficiary(Base):
    __tablename__ = "beneficiaries"
    # The lists' newest-first order, read by keyset ("list keyset indexes" revision); the
    # orders by news (the idle order forwards, the last-event order backwards) and the stage
    # filter ("pathway state" revision).
    __table_args__ = (
        Index("ix_beneficiaries_newest", "created_at", "id"),
        Index("ix_beneficiaries_news", "last_event_on", "created_at", "id"),
        Index("ix_beneficiaries_stage", "current_stage_position", "created_at", "id"),
    )

    id: Mapped[uuid_pk]
    pseudonym: Mapped[str] = mapped_column(String(16), unique=True)

    last_name: Mapped[bytes | None] = mapped_column(LargeBinary)
    first_name: Mapped[bytes | None] = mapped_column(LargeBinary)
    birth_date: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone: Mapped[bytes | None] = mapped_column(LargeBinary)
    email: Mapped[bytes | None] = mapped_column(LargeBinary)
    address: Mapped[bytes | None] = mapped_column(LargeBinary)
    france_travail_id: Mapped[bytes | None] = mapped_column(LargeBinary)
    ine: Mapped[bytes | None] = mapped_column(LargeBinary)
    notes: Mapped[bytes | None] = mapped_column(LargeBinary)

    # Blind indexes (truncated keyed hashes) for possible-duplicate detection.
    index_version: Mapped[int | None] = mapped_column(SmallInteger)
    name_birth_index: Mapped[int | None] = mapped_column(Integer, index=True)
    email_index: Mapped[int | None] = mapped_column(Integer, index=True)
    phone_index: Mapped[int | None] = mapped_column(Integer, index=True)
    # Wider ones (``LOOKUP_BITS``), used only by the import's duplicate lookup, and the
    # normalisation version they were computed at (NULL: not yet - ``keys rebuild-index``).
    lookup_version: Mapped[int | None] = mapped_column(SmallInteger, index=True)
    name_birth_lookup: Mapped[int | None] = mapped_column(Integer, index=True)
    email_lookup: Mapped[int | None] = mapped_column(Integer, index=True)
    phone_lookup: Mapped[int | None] = mapped_column(Integer, index=True)

    # Statistical fields, in clear and generalised.
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    sex: Mapped[Sex | None] = mapped_column(enum_column(Sex, 8))
    qpv_id: Mapped[int | None] = mapped_column(ForeignKey("reference_items.id"), index=True)
    education_level: Mapped[EducationLevel | None] = mapped_column(enum_column(EducationLevel, 16))
    created_month: Mapped[date]

    created_by_structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id"))
    created_at: Mapped[created_at]
    erased_at: Mapped[datetime | None]
    # Set by the retention rule: the day the person will be erased, shown meanwhile to their
    # last structure (see ``app/services/rights/retention.py``).
    erasure_due_on: Mapped[date | None] = mapped_column(index=True)
    # The pathway state, kept by every write of an event in its transaction
    # (``app.services.pathways.state``): the day of the latest event as the people lost from
    # view count them - a step's start, a barrier identified or closed, a hand-off transition
    # done by a structure, a follow-up's start - (``NO_EVENT`` while none: ``last_event_day``
    # reads it) and the structure behind it (NULL: none named), and the stage of the latest
    # step (by start day, then recording time, then id; NULL: no step).
    # A server default only: the bulk inserts (generator) leave it out.
    last_event_on: Mapped[date] = mapped_column(server_default=text(f"'{NO_EVENT.isoformat()}'"))
    last_event_structure_id: Mapped[int | None] = mapped_column(ForeignKey("structures.id"))
    current_stage_id: Mapped[int | None] = mapped_column(ForeignKey("reference_items.id"))
    # That stage's position in the stage list (``NO_STAGE`` without a step), for the order by
    # stage and the stage filter to walk an index. Stage positions are set when a stage is
    # added, never changed.
    current_stage_position: Mapped[int] = mapped_column(Integer, server_default=text(str(NO_STAGE)))

    qpv: Mapped[ReferenceItem | None] = relationship(foreign_keys=[qpv_id], lazy="joined")
    cohorts: Mapped[list[ReferenceItem]] = relationship(
        secondary=beneficiary_cohorts, lazy="selectin", order_by=ReferenceItem.position
    )
    # The wrapped data key, read with the person where a request will open their identity (an
    # answer to a hand-off); ``Vault.person_key`` then finds it in the session. Read-only: the
    # key's row is written and shredded through ``PersonKey`` only.
    data_key: Mapped[PersonKey | None] = relationship(viewonly=True)

    @property
    def last_event_day(self) -> date | None:
        """The day of the person's latest event, None when they have none."""
        return None if self.last_event_on == NO_EVENT else self.last_event_on


class NameSearchToken(Base):
    """One blind-index value of a word of a person's name, for the caseload search.

    Each word of the last and first names (and each name with its words joined, for
    ``N'Diaye`` typed ``ndiaye``) gives the truncated keyed hash of its first three letters:
    a search finds the candidates by these values, then decrypts them to confirm.
    """

    __tablename__ = "name_search_tokens"

    beneficiary_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("beneficiaries.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)


class PersonKey(Base):
    """A person's data key, wrapped by a key-encryption key. Deleting it shreds the identity."""

    __tablename__ = "person_keys"

    beneficiary_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("beneficiaries.id", ondelete="CASCADE"), primary_key=True
    )
    kek_id: Mapped[str] = mapped_column(String(32), index=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[created_at]
    rewrapped_at: Mapped[datetime | None]
    # ``flask keys rotate-data-keys`` replaces the data key itself (fields re-encrypted): the
    # people it still has to do, and when each key was last replaced.
    rotation_requested: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), index=True
    )
    rotated_at: Mapped[datetime | None]
