"""Reference lists an administrator can extend: one table, one ``kind`` per list."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, enum_column, int_pk


class ReferenceKind(StrEnum):
    STRUCTURE_TYPE = "structure_type"
    COHORT = "cohort"
    BARRIER_CATEGORY = "barrier_category"
    STAGE = "stage"
    DECLINE_REASON = "decline_reason"
    OUTCOME = "outcome"
    END_REASON = "end_reason"
    QPV = "qpv"
    PATHWAY_TYPE = "pathway_type"
    UNMET_NEED_PRECISION = "unmet_need_precision"


class ReferenceItem(Base):
    """One entry of a reference list (a cohort, a QPV, a decline reason...).

    Codes are stable identifiers used by the rules and by data exchange; labels are what
    people read, in French and in English. Entries are deactivated, never deleted, so that
    past records keep their meaning.
    """

    __tablename__ = "reference_items"
    __table_args__ = (UniqueConstraint("kind", "code"),)

    id: Mapped[int_pk]
    kind: Mapped[ReferenceKind] = mapped_column(enum_column(ReferenceKind), index=True)
    code: Mapped[str] = mapped_column(String(64))
    label_fr: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def label(self, locale: str) -> str:
        return self.label_en if locale == "en" else self.label_fr
