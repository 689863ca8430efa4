"""The migrations build the schema the models describe, both ways, on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import CheckConstraint, Connection, create_engine, inspect, make_url, select, text
from sqlalchemy.orm import Session, scoped_session

from app.extensions import db, make_engine
from app.models import ReferenceItem
from app.models.audit import AUDIT_PARTITION
from app.paths import shipped

# Written out here rather than imported from the seed revision, so that a code dropped from
# the migration by mistake fails this test.
SEEDED_CODES: dict[str, list[str]] = {
    "structure_type": [
        "mission_locale", "france_travail", "epide", "e2c", "uniscite", "promo_16_18", "mlds",
        "departement", "ccas", "cap_emploi", "plie", "siae", "association", "ville",
        "employer", "prefecture", "other",
    ],
    "cohort": [
        "young_dropout", "young_graduate", "single_parent", "rsa", "deld", "rqth", "cej",
        "training_obligation", "other",
    ],
    "barrier_category": [
        "mobility", "childcare", "digital", "health", "mental_health", "addiction", "housing",
        "language", "legal_admin", "financial", "motivation",
    ],
    "stage": ["orientation", "barriers", "training", "employment", "exit_other"],
    "decline_reason": [
        "unreachable", "did_not_come", "not_eligible", "no_capacity", "not_interested",
        "followed_elsewhere", "barrier_prevents", "duplicate", "no_such_service", "other",
    ],
    "outcome": [
        "barrier_lifted", "training_entered", "job_signed", "oriented_further",
        "person_stopped", "other",
    ],
    "end_reason": [
        "goal_reached", "moved", "lost_contact", "handed_off", "person_stopped", "other",
    ],
    "pathway_type": ["professional", "socio_professional", "social"],
    "unmet_need_precision": [
        "no_partner_on_territory", "partners_full", "too_far", "not_eligible_anywhere",
        "waiting_too_long", "other",
    ],
}  # fmt: skip


def _alembic_config(app: Flask) -> Config:
    with app.app_context():
        config: Config = app.extensions["migrate"].migrate.get_config()
    return config


def _not_a_partition(name: str | None, type_: str, _parents: object) -> bool:
    return not (type_ == "table" and name is not None and AUDIT_PARTITION.match(name))


def _schema_differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_name": _not_a_partition}
    )
    return list(compare_metadata(context, db.metadata))


# -- the test database, migrated to head by conftest -----------------------------------------


def test_models_and_migrations_agree(app: Flask) -> None:
    with db.engine.connect() as connection:
        assert _schema_differences(connection) == []


def test_the_migrations_have_a_single_head(app: Flask) -> None:
    assert len(ScriptDirectory.from_config(_alembic_config(app)).get_heads()) == 1


def test_check_constraints_exist(app: Flask) -> None:
    # Autogenerate does not compare CHECK constraints: check them by name.
    expected = {
        table.name: {c.name for c in table.constraints if isinstance(c, CheckConstraint)}
        for table in db.metadata.sorted_tables
    }
    inspector = inspect(db.engine)
    for table, names in expected.items():
        found = {c["name"] for c in inspector.get_check_constraints(table)}
        assert names <= found, table
    assert expected["handoffs"] >= {
        "ck_handoffs_different_structures",
        "ck_handoffs_has_purpose",
        "ck_handoffs_declined_has_reason",
        "ck_handoffs_closed_has_outcome",
        "ck_handoffs_contact_before_progress",
        "ck_handoffs_closed_when_final",
        "ck_handoffs_open_until_final",
    }
    assert expected["users"] == {
        "ck_users_structure_iff_caseworker",
        "ck_users_card_editor_is_caseworker",
        "ck_users_manager_is_caseworker",
        "ck_users_api_client_is_caseworker",
    }
    assert expected["invitations"] == {
        "ck_invitations_structure_iff_caseworker",
        "ck_invitations_manager_is_caseworker",
    }


def test_open_follow_ups_index_is_partial_and_unique(app: Flask) -> None:
    # Autogenerate does not compare an index's WHERE clause either.
    indexes = {ix["name"]: ix for ix in inspect(db.engine).get_indexes("follow_ups")}
    index = indexes["uq_follow_ups_open"]
    assert index["unique"]
    assert index["column_names"] == ["beneficiary_id", "structure_id"]
    dialect = db.engine.dialect.name
    where = str(index.get("dialect_options", {}).get(f"{dialect}_where", ""))
    assert "ended_on is null" in where.lower()


def test_foreign_keys_are_enforced_after_migrating(app: Flask, db_url: str) -> None:
    # env.py turns enforcement off on SQLite while migrating; no pooled connection keeps that.
    if make_url(db_url).get_backend_name() != "sqlite":
        pytest.skip("a SQLite pragma")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_reference_lists_are_seeded(db_session: scoped_session[Session]) -> None:
    rows = db_session.execute(
        select(ReferenceItem.kind, ReferenceItem.code, ReferenceItem.position)
        .where(ReferenceItem.active.is_(True))
        .order_by(ReferenceItem.kind, ReferenceItem.position)
    ).all()
    seeded: dict[str, list[str]] = {}
    for kind, code, _position in rows:
        seeded.setdefault(kind.value, []).append(code)
    for kind, codes in SEEDED_CODES.items():
        assert seeded.get(kind, [])[: len(codes)] == codes, kind
    positions = {(kind.value, code): position for kind, code, position in rows}
    assert positions[("stage", "orientation")] == 10
    assert positions[("stage", "exit_other")] == 50
    assert "qpv" not in seeded


def test_seeded_labels_are_filled_in_both_languages(db_session: scoped_session[Session]) -> None:
    items = db_session.scalars(select(ReferenceItem)).all()
    assert items
    for item in items:
        assert item.label_fr.strip(), (item.kind, item.code)
        assert item.label_en.strip(), (item.kind, item.code)
    barrier = {i.code: i for i in items if i.kind.value == "barrier_category"}
    assert barrier["childcare"].label("fr") == "Garde d'enfants"
    assert barrier["childcare"].label("en") == "Childcare"


# -- a scratch database: up, down, up again ------------------------------------------------


@contextmanager
def _scratch_database(db_url: str, folder: Path) -> Iterator[str]:
    """An empty database of the same kind as the test database, removed afterwards."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{folder / 'scratch.sqlite3'}"
        return
    name = f"relais_scratch_{uuid.uuid4().hex[:12]}"
    maintenance = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with maintenance.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with maintenance.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        maintenance.dispose()


@contextmanager
def just_before(app: Flask, db_url: str, folder: Path, revision: str) -> Iterator[tuple[str, str]]:
    """A scratch database migrated to the revision just before ``revision``: its URL and that
    previous revision (for the test of one migration's data changes, up and down)."""
    script = ScriptDirectory.from_config(_alembic_config(app)).get_revision(revision)
    assert script is not None, revision
    previous = script.down_revision
    assert isinstance(previous, str), "a merge revision has several predecessors"
    with _scratch_database(db_url, folder) as url:
        _migrate(app, url, "upgrade", previous)
        yield url, previous


def _migrate(app: Flask, url: str, direction: str, revision: str) -> None:
    """Run ``alembic upgrade|downgrade`` on ``url``; env.py uses the connection it is given."""
    config = _alembic_config(app)
    engine = make_engine(url)
    try:
        with engine.connect() as connection, app.app_context():
            config.attributes["connection"] = connection
            getattr(command, direction)(config, revision)
    finally:
        engine.dispose()


def _inspect(url: str) -> tuple[str | None, set[str], int, list[object]]:
    """Current revision, table names, number of reference items and schema differences."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
            tables = {
                name
                for name in inspect(connection).get_table_names()
                if not AUDIT_PARTITION.match(name)
            }
            items = 0
            if "reference_items" in tables:
                items = connection.execute(
                    text("SELECT count(*) FROM reference_items")
                ).scalar_one()
            differences = _schema_differences(connection) if revision else []
    finally:
        engine.dispose()
    return revision, tables, items, differences


def test_upgrade_downgrade_upgrade_on_a_fresh_database(
    app: Flask, db_url: str, tmp_path: Path
) -> None:
    head = ScriptDirectory.from_config(_alembic_config(app)).get_current_head()
    expected_items = sum(len(codes) for codes in SEEDED_CODES.values())
    with _scratch_database(db_url, tmp_path) as url:
        _migrate(app, url, "upgrade", "head")
        revision, tables, items, differences = _inspect(url)
        assert revision == head
        assert tables == set(db.metadata.tables) | {"alembic_version"}
        assert items == expected_items
        assert differences == []

        _migrate(app, url, "downgrade", "base")
        revision, tables, items, _ = _inspect(url)
        assert revision is None
        assert tables == {"alembic_version"}

        _migrate(app, url, "upgrade", "head")
        revision, _, items, differences = _inspect(url)
        assert revision == head
        assert items == expected_items
        assert differences == []


def test_the_seed_downgrades_alone(app: Flask, db_url: str, tmp_path: Path) -> None:
    script = ScriptDirectory.from_config(_alembic_config(app))
    seed = next(rev for rev in script.walk_revisions() if "seed reference lists" in (rev.doc or ""))
    with _scratch_database(db_url, tmp_path) as url:
        _migrate(app, url, "upgrade", seed.revision)
        _migrate(app, url, "downgrade", str(seed.down_revision))
        revision, tables, items, _ = _inspect(url)
        assert revision == seed.down_revision
        assert "reference_items" in tables
        assert items == 0


# -- SQLite table rebuilds keep the rows that reference the rebuilt table -------------------

REBUILD_REVISION = '''"""rebuild beneficiaries (test only)"""
import sqlalchemy as sa
from alembic import op

revision = "rebuild_test"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("beneficiaries", recreate="always") as batch_op:
        batch_op.alter_column("pseudonym", existing_type=sa.String(16), type_=sa.String(20))


def downgrade() -> None:
    pass
'''


def test_a_batch_rebuild_on_sqlite_does_not_cascade(
    app: Flask, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild drops the original table: with foreign keys enforced, ``ON DELETE CASCADE``
    would empty ``person_keys`` and shred every identity. env.py migrates without enforcement.
    """
    if make_url(db_url).get_backend_name() != "sqlite":
        pytest.skip("table rebuilds are SQLite's batch mode")
    scripts = tmp_path / "migrations"
    shutil.copytree(shipped("migrations"), scripts, ignore=shutil.ignore_patterns("__pycache__"))
    head = ScriptDirectory.from_config(_alembic_config(app)).get_current_head()
    (scripts / "versions" / "rebuild_test.py").write_text(REBUILD_REVISION.format(head=head))
    engine = make_engine(f"sqlite:///{tmp_path / 'rebuild.sqlite3'}")
    monkeypatch.setattr(db, "_engine", engine)  # env.py migrates db.engine
    try:
        with app.app_context():
            config = app.extensions["migrate"].migrate.get_config(str(scripts))
            command.upgrade(config, str(head))
            with engine.begin() as connection:
                _insert_a_person_with_a_key(connection)
            command.upgrade(config, "rebuild_test")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM person_keys")).scalar_one() == 1
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def _insert_a_person_with_a_key(connection: Connection) -> None:
    person = uuid.uuid4().hex
    connection.execute(
        text(
            "INSERT INTO structures (code, name, type_id, missions, contact, city, active,"
            " created_at) SELECT 'S1', 'Structure', id, '', '', '', 1, '2026-01-01'"
            " FROM reference_items WHERE kind = 'structure_type' AND code = 'association'"
        )
    )
    connection.execute(
        text(
            "INSERT INTO beneficiaries (id, pseudonym, created_month, created_by_structure_id,"
            " created_at) SELECT :id, 'P-AAAA-AAAA', '2026-01-01', id, '2026-01-01'"
            " FROM structures WHERE code = 'S1'"
        ),
        {"id": person},
    )
    connection.execute(
        text(
            "INSERT INTO person_keys (beneficiary_id, kek_id, wrapped_key, created_at)"
            " VALUES (:id, 'k1', :wrapped, '2026-01-01')"
        ),
        {"id": person, "wrapped": b"\x00" * 40},
    )
