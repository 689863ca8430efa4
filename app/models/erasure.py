"""The erasure register: the ids of the people whose data was erased (crypto-shredded).

A row holds an id, a time and a cause - nothing that identifies anyone. There is no foreign
key to ``beneficiaries`` on purpose: after a database restore the register may name people
the restored copy does not hold yet (or holds unerased), and ``flask --app app gdpr
reapply-erasures`` must still read it. The same lines are appended to a file outside the
database (see ``app/services/rights/erasure.py``), so that a restore cannot lose them.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.rights import ErasureCause
from app.models.base import Base, enum_column


class ErasureRecord(Base):
    __tablename__ = "erasure_register"

    beneficiary_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    erased_at: Mapped[datetime]
    cause: Mapped[ErasureCause] = mapped_column(enum_column(ErasureCause, 16))
    # The last time ``reapply-erasures`` found the person readable again and erased them.
    reapplied_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<ErasureRecord {self.beneficiary_id}>"
