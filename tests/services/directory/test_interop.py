"""The directory in the data·inclusion schema: export, import, round trip, validation."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from data_inclusion.schema import v1 as di
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.extensions import make_engine
from app.models import ReferenceItem, ReferenceKind, Structure, StructureCard
from app.services.directory.cards import card_snapshot
from app.services.directory.interop.apply import import_directory
from app.services.directory.interop.export import export_directory
from app.services.directory.interop.files import read_directory_file, to_csv, to_json, write_csv
from app.services.directory.interop.parsing import structure_code
from app.services.directory.interop.records import ImportProblem, RecordReader
from app.services.directory.interop.schema import (
    SERVICE_FIELDS,
    STRUCTURE_FIELDS,
    DirectoryFile,
    DirectoryImportError,
)
from app.services.directory.search import directory_entry
from app.services.safe_csv import restore_cell
from tests.directory_data import build_demo_directory, paris_today
from tests.test_migrations import _migrate, _scratch_database

NOW = datetime(2026, 11, 25, 15, tzinfo=UTC)


def _snapshots(session: Session) -> dict[str, Any]:
    """Every active card as the directory shows it, with its dates."""
    result = {}
    for structure in session.scalars(select(Structure).where(Structure.active.is_(True))):
        card = directory_entry(session, structure.code, today=paris_today(), stale_months=6).card
        dates = (card.checked_at, card.capacity_updated_at, card.updated_at)
        days = [d.date() if d else None for d in dates]
        result[structure.code] = (card_snapshot(structure, card), days)
    return result


def test_a_round_trip_into_an_empty_database_gives_the_same_directory(
    app: Flask, db_url: str, db_session: Session, tmp_path: Path
) -> None:
    build_demo_directory(db_session)
    exported = export_directory(db_session, source="relais")
    assert len(exported.structures) == 21
    assert len(exported.services) == 34
    before = _snapshots(db_session)
    with _scratch_database(db_url, tmp_path) as url:
        _migrate(app, url, "upgrade", "head")
        engine = make_engine(url)
        try:
            with Session(engine) as empty:
                assert empty.scalar(select(func.count()).select_from(Structure)) == 0
                document = json.loads(to_json(exported))
                data = DirectoryFile(document["structures"], document["services"])
                report = import_directory(empty, None, data, own_source="relais", now=NOW)
                empty.commit()
                assert len(report.created) == 21
                assert report.services == 34
                assert sorted(report.qpvs_added) == [f"QN0900{n}X" for n in range(1, 6)]
                again = export_directory(empty, source="relais")
                after = _snapshots(empty)
        finally:
            engine.dispose()
    assert to_json(again) == to_json(exported)
    # Same cards, field by field, with the same dates of check, free places and change.
    assert after.keys() == before.keys()
    for code, (values, days) in before.items():
        assert after[code][0] == values, code
        assert after[code][1] == days, code


def _from_csv(data: DirectoryFile) -> DirectoryFile:
    def rows(text: str) -> list[dict[str, Any]]:
        # As the import reads a cell: the quote before a formula-like value taken off.
        return [
            {name: restore_cell(value) for name, value in row.items()}
            for row in csv.DictReader(io.StringIO(text))
        ]

    return DirectoryFile(
        rows(to_csv(data.structures, STRUCTURE_FIELDS)), rows(to_csv(data.services, SERVICE_FIELDS))
    )


def test_csv_cells_read_back_to_the_same_directory(db_session: Session, tmp_path: Path) -> None:
    build_demo_directory(db_session)
    exported = export_directory(db_session, source="relais")
    paths = write_csv(exported, tmp_path / "di")
    assert [p.name for p in paths] == ["structures.csv", "services.csv"]
    assert read_directory_file(tmp_path / "di") == _from_csv(exported)
    before = _snapshots(db_session)
    report = import_directory(db_session, None, _from_csv(exported), own_source="relais", now=NOW)
    assert len(report.updated) == 21
    assert report.created == []
    assert report.qpvs_added == []
    assert _snapshots(db_session) == before
    assert to_json(export_directory(db_session, source="relais")) == to_json(exported)


def test_the_export_follows_the_schema(db_session: Session) -> None:
    build_demo_directory(db_session)
    exported = export_directory(db_session, source="relais-belfort", base_url="https://r.example")
    garde = next(s for s in exported.structures if s["id"] == "GARDE90")
    assert garde["source"] == "relais-belfort"
    assert garde["reseaux_porteurs"] is None  # an association: no network
    assert garde["telephone"] == "+33353010150"
    assert garde["horaires_accueil"] == "Mo-Fr 07:00-19:00"
    assert garde["lien_source"] == "https://r.example/directory/GARDE90"
    assert garde["relais"]["freins"] == ["childcare"]
    assert garde["relais"]["places"] == 4
    services = [s for s in exported.services if s["structure_id"] == "GARDE90"]
    assert [s["id"] for s in services] == ["GARDE90--1", "GARDE90--2"]
    assert "famille--garde-denfants" in services[0]["thematiques"]
    assert services[0]["publics"] == ["tous-publics"]  # alone, as v1 wants it
    assert services[0]["frais"] == "payant"
    assert services[0]["relais"]["frais"] == ["payant"]
    assert services[0]["zone_eligibilite"] == ["200069052"]
    mission_locale = next(s for s in exported.structures if s["id"] == "ML90")
    assert mission_locale["reseaux_porteurs"] == ["mission-locale"]
    for record in exported.structures:
        assert set(record) == set(STRUCTURE_FIELDS)
    for record in exported.services:
        assert set(record) == set(SERVICE_FIELDS)


def test_every_exported_record_validates_with_the_package_models(db_session: Session) -> None:
    """The package's pydantic models (data·inclusion v1) accept every structure and service,
    warnings included (a name ending with a full stop...)."""
    build_demo_directory(db_session)
    exported = export_directory(db_session, source="relais", base_url="https://r.example")
    strict = {"ignore_warnings": False}
    for record in exported.structures:
        di.Structure.model_validate(record, context=strict)
    for record in exported.services:
        di.Service.model_validate(record, context=strict)
    # The same through CSV cells, as another reader would parse them.
    cells = _from_csv(exported)
    assert len(cells.structures) == len(exported.structures)


# -- files from elsewhere ---------------------------------------------------------------------

OTHER_FILE: dict[str, Any] = {
    "structures": [
        {
            "id": "a3f5e9c2-7d1b-4c6e-9f0a-2b8d4e6c1a35",
            "source": "dora",
            "nom": "Association Solidarité Mobilité du Nord",
            "typologie": "ASSO",
            "labels_nationaux": ["wimoov"],
            "commune": "Belfort",
            "code_postal": "90000",
            "telephone": "0384000002",
            "courriel": "contact@exemple.fr",
            "date_maj": "2026-09-01",
            "presentation_detail": "Location de vélos et accompagnement vers le permis de conduire.",
            "thematiques": ["mobilite--louer-un-vehicule"],
            "horaires_ouverture": "Mo-Fr 09:00-12:00",
        }
    ],
    "services": [
        {
            "id": "svc-1",
            "structure_id": "a3f5e9c2-7d1b-4c6e-9f0a-2b8d4e6c1a35",
            "source": "dora",
            "nom": "Location de vélos",
            "presentation_resume": "Des vélos à petit prix.",
            "types": ["aide-materielle"],
            "frais": ["payant"],
            "thematiques": ["mobilite--louer-un-vehicule", "equipement-et-alimentation"],
            "profils": ["jeunes-16-26", "beneficiaires-rsa"],
            "pre_requis": ["Être orienté par un professionnel"],
            "justificatifs": ["Pièce d'identité"],
            "modes_accueil": ["en-presentiel"],
            "modes_orientation_accompagnateur": ["telephoner"],
            "zone_diffusion_type": "departement",
            "zone_diffusion_code": "90",
            "zone_diffusion_nom": "Territoire de Belfort",
            "date_maj": "2026-09-01",
        },
        {
            "id": "svc-2",
            "structure_id": "a3f5e9c2-7d1b-4c6e-9f0a-2b8d4e6c1a35",
            "source": "dora",
            "nom": "Préparation au permis",
            "thematiques": ["illettrisme--permis-conduire"],
            "pre_requis": ["Être orienté par un professionnel", "Avoir 17 ans"],
            "date_maj": "2026-09-01",
        },
    ],
}


def test_a_v0_file_from_elsewhere_is_mapped_and_read(db_session: Session) -> None:
    report = import_directory(
        db_session, None, DirectoryFile(**OTHER_FILE), own_source="relais", now=NOW
    )
    assert report.version == "v0"
    assert [(u.where, u.field, u.value) for u in report.unmapped] == [
        ("services[0]", "thematiques", "equipement-et-alimentation")
    ]
    record = OTHER_FILE["structures"][0]
    code = structure_code(record["id"], record["nom"], own=False)
    assert report.created == [code]
    assert code.startswith("ASSOCIATION-SOLIDARI-")
    entry = directory_entry(db_session, code, today=paris_today(), stale_months=6)
    card, structure = entry.card, entry.structure
    assert structure.type.code == "association"
    assert structure.missions.startswith("Location de vélos")
    assert card.source == "dora"
    assert card.source_id == "a3f5e9c2-7d1b-4c6e-9f0a-2b8d4e6c1a35"
    assert sorted(card.codes(ReferenceKind.BARRIER_CATEGORY)) == ["language", "mobility"]
    assert sorted(card.codes(ReferenceKind.COHORT)) == ["rsa", "young_dropout", "young_graduate"]
    assert card.referral_conditions == "Être orienté par un professionnel\nAvoir 17 ans"
    assert card.referral_modes == ["telephoner"]
    assert card.zone_code == "90"
    assert card.territory == "Territoire de Belfort"
    assert [s.name for s in card.services] == ["Location de vélos", "Préparation au permis"]
    assert card.phone == "+33384000002"
    assert entry.checked_on is not None
    # Importing it again updates the same structure.
    again = import_directory(
        db_session, None, DirectoryFile(**OTHER_FILE), own_source="relais", now=NOW
    )
    assert again.updated == [code]


def _count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_file_with_problems_is_refused_whole_with_every_problem(db_session: Session) -> None:
    build_demo_directory(db_session)
    exported = json.loads(to_json(export_directory(db_session, source="relais")))
    exported["structures"][0]["nom"] = "Nouveau nom qui ne doit pas être écrit"
    exported["structures"][1]["telephone"] = "12"
    exported["structures"][2]["horaires_accueil"] = "tous les jours"
    exported["structures"][3]["relais"]["freins"] = ["teleportation"]
    exported["structures"][4]["relais"]["qpv"] = [{"code": "QN99999X"}]
    del exported["structures"][5]["date_maj"]
    exported["structures"].append(dict(exported["structures"][6]))  # the same id twice
    exported["services"][0]["frais"] = "hors de prix"
    exported["services"][1]["structure_id"] = "INCONNU"
    cards_before = _count(db_session, StructureCard)
    with pytest.raises(DirectoryImportError) as raised:
        import_directory(
            db_session, None, DirectoryFile(exported["structures"], exported["services"]),
            own_source="relais", now=NOW,
        )  # fmt: skip
    problems = [(p.where, p.field) for p in raised.value.problems]
    assert problems == [
        ("structures[1]", "telephone"),
        ("structures[2]", "horaires_accueil"),
        ("structures[3]", "relais.freins"),
        ("structures[4]", "relais.qpv"),
        ("structures[5]", "date_maj"),
        ("structures[21]", "id"),
        ("services[0]", "frais"),
        ("services[1]", "structure_id"),
    ]
    first = exported["structures"][0]["id"]
    assert (
        db_session.scalar(select(Structure.name).where(Structure.code == first))
        != "Nouveau nom qui ne doit pas être écrit"
    )
    assert _count(db_session, StructureCard) == cards_before
    assert (
        db_session.scalar(select(ReferenceItem.id).where(ReferenceItem.code == "QN99999X")) is None
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "is not valid JSON"),
        ('{"structures": "none"}', "holds"),
        ('{"structures": [1, 2]}', "lists of objects"),
    ],
)
def test_unreadable_files_are_refused(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "directory.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DirectoryImportError) as raised:
        read_directory_file(path)
    assert reason in raised.value.problems[0].reason
    with pytest.raises(DirectoryImportError):
        read_directory_file(tmp_path)  # a folder without structures.csv


@pytest.mark.parametrize(
    ("raw", "read"),
    [
        ("12", 12),
        (12, 12),
        ("", None),
        (None, None),
        ("²", "problem"),  # isdigit() is true: int() used to raise on it
        ("１２", "problem"),
        ("-3", "problem"),
        ("9" * 400, "problem"),
        (10**400, "problem"),  # a JSON number beyond the database's integer
        (True, "problem"),
    ],
)
def test_a_whole_number_of_a_directory_file_is_ascii_digits_within_range(
    raw: object, read: int | str | None
) -> None:
    problems: list[ImportProblem] = []
    found = RecordReader("structures[0]", {"places": raw}, problems).integer("places")
    if read == "problem":
        assert found is None
        assert [p.field for p in problems] == ["places"]
    else:
        assert found == read
        assert not problems
