"""One-time submission tokens of the forms that create something (idempotent writes)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at


class SubmissionToken(Base):
    """A form's token, once a submission carrying it created a record.

    The row is written in the same transaction as the record, so the primary key lets only one
    of two submissions with the same token (a double click, a resend, a tab restored) create
    anything; the other finds this row and shows ``target``, where the record is. ``form`` names
    the form (``register``, ``handoff``...). Rows are purged after a few days
    (``flask --app app submissions purge``): by then no form carrying the token is accepted.
    """

    __tablename__ = "submission_tokens"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    form: Mapped[str] = mapped_column(String(32))
    target: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[created_at] = mapped_column(index=True)

    def __repr__(self) -> str:
        return f"<SubmissionToken {self.form} user={self.user_id}>"
