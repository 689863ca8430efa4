"""Rows written in raw SQL into a scratch database migrated to an old revision, for the tests
of one migration's data changes (``tests.test_migrations.just_before``): ids and UTC moments
as each database stores them, two structures, a person, and the hand-offs' closings read back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy import Connection, Engine, text

HANDOFF_CLOSINGS = sa.table(
    "handoffs",
    sa.column("id", sa.Uuid()),
    sa.column("closed_at", sa.DateTime(timezone=True)),
    sa.column("closed_on", sa.Date()),
)


@dataclass(frozen=True)
class RawRows:
    sqlite: bool

    def key(self, value: uuid.UUID) -> str:
        """A UUID as the database stores it (32 hex digits on SQLite)."""
        return value.hex if self.sqlite else str(value)

    def moment(self, value: str | None) -> str | None:
        """A UTC moment (``2026-03-01 09:00:00``) as the database stores it."""
        if value is None:
            return None
        return f"{value}.000000" if self.sqlite else f"{value}+00"

    def structures(self, connection: Connection, prefix: str) -> None:
        """Structures 1 and 2, coded ``prefix1`` and ``prefix2``."""
        kind = connection.execute(
            text("SELECT id FROM reference_items WHERE kind = 'structure_type' LIMIT 1")
        ).scalar_one()
        for n in (1, 2):
            connection.execute(
                text(
                    "INSERT INTO structures (id, code, name, type_id, missions, contact, city,"
                    " active, created_at) VALUES (:id, :code, :code, :kind, '', '', '', true, :at)"
                ),
                {
                    "id": n,
                    "code": f"{prefix}{n}",
                    "kind": kind,
                    "at": self.moment("2026-01-01 00:00:00"),
                },
            )

    def person(self, connection: Connection, pseudonym: str) -> str:
        """A person registered by structure 1: their stored id."""
        person = self.key(uuid.uuid4())
        connection.execute(
            text(
                "INSERT INTO beneficiaries (id, pseudonym, created_month, created_by_structure_id,"
                " created_at) VALUES (:id, :pseudonym, '2026-01-01', 1, :at)"
            ),
            {"id": person, "pseudonym": pseudonym, "at": self.moment("2026-01-05 10:00:00")},
        )
        return person


def raw_rows(engine: Engine) -> RawRows:
    return RawRows(sqlite=engine.dialect.name == "sqlite")


def closings(connection: Connection) -> dict[uuid.UUID, tuple[datetime | None, date | None]]:
    """Each hand-off's ``closed_at`` (in UTC) and ``closed_on``, by id."""
    rows = connection.execute(
        sa.select(HANDOFF_CLOSINGS.c.id, HANDOFF_CLOSINGS.c.closed_at, HANDOFF_CLOSINGS.c.closed_on)
    )
    return {row_id: (_utc(moment), day) for row_id, moment, day in rows}


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
