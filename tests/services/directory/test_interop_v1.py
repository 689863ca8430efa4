"""data·inclusion v1 and v0 files: every seeded Relais code publishes as a v1 value, v1 files
from elsewhere, the schema version told apart, v0 files mapped with a report of what could not
be mapped, and nothing half-written."""

from __future__ import annotations

import copy
import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from data_inclusion.schema.v1 import Public, ReseauPorteur, Thematique
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain import data_inclusion as di
from app.models import ReferenceItem, ReferenceKind, Structure, StructureCard
from app.services.directory.interop.apply import check_directory, import_directory
from app.services.directory.interop.files import read_directory_file, to_csv
from app.services.directory.interop.parsing import structure_code
from app.services.directory.interop.schema import (
    DirectoryFile,
    DirectoryImportError,
    version_of,
)
from app.services.directory.interop.v0 import V0_PROFILS, v0_to_v1
from app.services.directory.search import directory_entry
from tests.directory_data import paris_today

NOW = datetime(2026, 11, 25, 15, tzinfo=UTC)


def _codes(session: Session, kind: ReferenceKind) -> set[str]:
    return set(session.scalars(select(ReferenceItem.code).where(ReferenceItem.kind == kind)))


def test_every_seeded_code_publishes_as_a_v1_value(db_session: Session) -> None:
    """Read from the reference lists the migrations seed, against the package's enums."""
    thematiques = {t.value for t in Thematique}
    for code in _codes(db_session, ReferenceKind.BARRIER_CATEGORY):
        assert di.BARRIER_THEMATIQUES[code].value in thematiques, code
    for code in _codes(db_session, ReferenceKind.STAGE):
        assert code in di.STAGE_THEMATIQUES, code  # a thématique, or none on purpose
        mapped = di.STAGE_THEMATIQUES[code]
        assert mapped is None or mapped.value in thematiques
    for code in _codes(db_session, ReferenceKind.COHORT):
        assert di.COHORT_PUBLICS[code].value in {p.value for p in Public}, code
    for code in _codes(db_session, ReferenceKind.STRUCTURE_TYPE):
        assert code in di.TYPE_NETWORKS, code
        network = di.TYPE_NETWORKS[code]
        assert network is None or network.value in {n.value for n in ReseauPorteur}
    assert set(V0_PROFILS.values()) <= set(Public)


V1_FILE: dict[str, Any] = {
    "schema": "data·inclusion v1",
    "structures": [
        {
            "source": "dora",
            "id": "dora--42",
            "nom": "Mission Locale du Nord Franche-Comté",
            "date_maj": "2026-09-01",
            "description": "Accompagnement des jeunes de 16 à 25 ans vers l'emploi.",
            "commune": "Belfort",
            "code_postal": "90000",
            "telephone": "03 84 00 00 02",
            "courriel": "contact@exemple.fr",
            "horaires_accueil": "Mo-Fr 09:00-12:00",
            "reseaux_porteurs": ["mission-locale"],
        }
    ],
    "services": [
        {
            "source": "dora",
            "structure_id": "dora--42",
            "id": "dora--svc-1",
            "nom": "Garantie jeunes",
            "description": "Un an d'accompagnement intensif avec une allocation.",
            "date_maj": "2026-09-01",
            "type": "accompagnement",
            "frais": "gratuit",
            "thematiques": [
                "trouver-un-emploi--repondre-a-des-offres-demploi",
                "mobilite--preparer-un-permis",
                "souvrir-a-linternational--sorganiser-suite-a-son-retour-en-france",
            ],
            "publics": ["jeunes"],
            "conditions_acces": "Avoir entre 16 et 25 ans\nÊtre sans emploi",
            "modes_accueil": ["en-presentiel"],
            "modes_mobilisation": ["telephoner", "envoyer-un-courriel"],
            "mobilisable_par": ["professionnels"],
            "zone_eligibilite": ["200069052"],
        }
    ],
}


def test_a_v1_file_from_elsewhere(db_session: Session) -> None:
    data = DirectoryFile(**copy.deepcopy(V1_FILE))
    assert version_of(data) == "v1"
    report = import_directory(db_session, None, data, own_source="relais", now=NOW)
    assert report.version == "v1"
    assert [(u.where, u.field, u.value) for u in report.unmapped] == [
        (
            "structures[0]",
            "thematiques",
            "souvrir-a-linternational--sorganiser-suite-a-son-retour-en-france",
        )
    ]
    code = structure_code("dora--42", "Mission Locale du Nord Franche-Comté", own=False)
    assert report.created == [code]
    entry = directory_entry(db_session, code, today=paris_today(), stale_months=6)
    card, structure = entry.card, entry.structure
    assert structure.type.code == "mission_locale"
    assert structure.missions.startswith("Accompagnement des jeunes")
    assert (card.source, card.source_id) == ("dora", "dora--42")
    assert card.opening_hours == "Mo-Fr 09:00-12:00"
    assert card.phone == "+33384000002"
    assert sorted(card.codes(ReferenceKind.BARRIER_CATEGORY)) == ["mobility"]
    assert sorted(card.codes(ReferenceKind.STAGE)) == ["employment"]
    assert sorted(card.codes(ReferenceKind.COHORT)) == ["young_dropout", "young_graduate"]
    assert card.referral_conditions == "Avoir entre 16 et 25 ans\nÊtre sans emploi"
    assert sorted(card.referral_modes) == ["envoyer-un-mail", "telephoner"]
    assert card.reception_modes == ["en-presentiel"]
    assert (card.zone_type.value if card.zone_type else None, card.zone_code) == (
        "epci",
        "200069052",
    )
    (service,) = card.services
    assert (service.name, service.types, service.fees) == (
        "Garantie jeunes",
        ["accompagnement"],
        ["gratuit"],
    )


def _count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_v1_file_with_values_outside_the_vocabularies_is_refused_whole(
    db_session: Session,
) -> None:
    document = copy.deepcopy(V1_FILE)
    document["structures"].append({**document["structures"][0], "id": "dora--43"})
    document["structures"][1]["reseaux_porteurs"] = ["reseau-inconnu"]
    service = document["services"][0]
    service.update(type="massage", frais=["gratuit"], publics=["martiens"])
    service["thematiques"] = ["mobilite--teleportation"]
    with pytest.raises(DirectoryImportError) as raised:
        import_directory(db_session, None, DirectoryFile(**document), own_source="relais", now=NOW)
    problems = {(p.where, p.field) for p in raised.value.problems}
    assert problems == {
        ("structures[1]", "reseaux_porteurs"),
        ("services[0]", "type"),
        ("services[0]", "frais"),
        ("services[0]", "publics"),
        ("services[0]", "thematiques"),
    }
    assert _count(db_session, StructureCard) == 0


V0_FILE: dict[str, Any] = {
    "structures": [
        {
            "id": "s-1",
            "source": "soliguide",
            "nom": "Centre social des Glacis",
            "typologie": "CS",
            "labels_nationaux": ["france-service", "label-maison"],
            "date_maj": "2026-08-01",
            "presentation_resume": "Un centre social de quartier.",
            "thematiques": ["numerique--realiser-des-demarches-administratives", "handicap"],
            "horaires_ouverture": "Mo-Fr 14:00-18:00",
        },
        {
            "id": "s-2",
            "source": "soliguide",
            "nom": "Atelier vélo",
            "typologie": "ASSO",
            "date_maj": "2026-08-01",
        },
    ],
    "services": [
        {
            "id": "v-1",
            "structure_id": "s-1",
            "source": "soliguide",
            "nom": "Aide aux démarches en ligne",
            "presentation_resume": "Un accompagnement aux démarches.",
            "presentation_detail": "Un accompagnement aux démarches en ligne, sans rendez-vous.",
            "types": ["accompagnement", "numerique", "visio"],
            "frais": ["gratuit", "sur-devis"],
            "frais_autres": "Adhésion de 2 €",
            "profils": ["tous-publics", "extraterrestres"],
            "pre_requis": ["Venir avec ses identifiants"],
            "justificatifs": ["Pièce d'identité"],
            "modes_accueil": ["en-presentiel", "par-pigeon"],
            "modes_orientation_accompagnateur": ["envoyer-un-mail", "fax"],
            "zone_diffusion_type": "commune",
            "zone_diffusion_code": "90010",
            "zone_diffusion_nom": "Belfort",
            "date_maj": "2026-08-01",
        }
    ],
}


def test_a_v0_file_is_mapped_with_each_value_that_could_not_be(db_session: Session) -> None:
    data = DirectoryFile(**copy.deepcopy(V0_FILE))
    assert version_of(data) == "v0"
    mapped, unmapped = v0_to_v1(data)
    assert [(u.where, u.field, u.value) for u in unmapped] == [
        ("structures[0]", "typologie", "CS"),
        ("structures[0]", "labels_nationaux", "label-maison"),
        ("structures[0]", "thematiques", "handicap"),
        ("services[0]", "profils", "extraterrestres"),
        ("services[0]", "modes_accueil", "par-pigeon"),
        ("services[0]", "types", "visio"),
        ("services[0]", "frais", "sur-devis"),
        ("services[0]", "modes_orientation_accompagnateur", "fax"),
    ]
    record = mapped.services[0]
    assert record["description"].endswith("sans rendez-vous.")
    assert (record["type"], record["frais"], record["publics"]) == (
        "accompagnement",
        "gratuit",
        ["tous-publics"],
    )
    assert record["modes_mobilisation"] == ["envoyer-un-courriel"]
    assert record["zone_eligibilite"] == ["90010"]
    assert mapped.structures[0]["reseaux_porteurs"] == ["france-service"]
    assert mapped.structures[0]["horaires_accueil"] == "Mo-Fr 14:00-18:00"

    report = import_directory(db_session, None, data, own_source="relais", now=NOW)
    assert report.version == "v0"
    assert report.unmapped == unmapped
    assert len(report.created) == 2
    code = structure_code("s-1", "Centre social des Glacis", own=False)
    card = directory_entry(db_session, code, today=paris_today(), stale_months=6).card
    assert sorted(card.codes(ReferenceKind.BARRIER_CATEGORY)) == ["digital"]
    assert card.codes(ReferenceKind.COHORT) == ["other"]
    assert card.referral_conditions == "Venir avec ses identifiants"
    assert card.referral_documents == "Pièce d'identité"
    assert card.referral_modes == ["envoyer-un-mail"]
    assert (card.zone_code, card.territory) == ("90010", "Belfort")
    (service,) = card.services
    assert service.summary == "Un accompagnement aux démarches."
    assert (service.types, service.fees) == (["accompagnement", "numerique"], ["gratuit"])
    assert service.fees_detail == "Adhésion de 2 €"
    other = structure_code("s-2", "Atelier vélo", own=False)
    structure = db_session.scalar(select(Structure).where(Structure.code == other))
    assert structure is not None
    assert structure.type.code == "association"  # from the v0 typologie


def test_a_v0_csv_folder_is_told_apart_and_imported(db_session: Session, tmp_path: Path) -> None:
    v0_structure_columns = sorted({k for r in V0_FILE["structures"] for k in r})
    v0_service_columns = sorted({k for r in V0_FILE["services"] for k in r})
    folder = tmp_path / "v0"
    folder.mkdir()
    (folder / "structures.csv").write_text(
        to_csv(V0_FILE["structures"], v0_structure_columns), encoding="utf-8"
    )
    (folder / "services.csv").write_text(
        to_csv(V0_FILE["services"], v0_service_columns), encoding="utf-8"
    )
    data = read_directory_file(folder)
    checked = check_directory(db_session, data, own_source="relais")
    assert checked.version == "v0"
    assert len(checked.structures) == 2
    assert {(u.field, u.value) for u in checked.unmapped} >= {("types", "visio")}
    assert _count(db_session, StructureCard) == 0  # checking writes nothing


def test_a_v0_cell_that_cannot_be_read_refuses_the_file(db_session: Session) -> None:
    document = copy.deepcopy(V0_FILE)
    document["services"][0]["types"] = "[not json"
    with pytest.raises(DirectoryImportError) as raised:
        import_directory(db_session, None, DirectoryFile(**document), own_source="relais", now=NOW)
    assert [(p.where, p.field) for p in raised.value.problems] == [("services[0]", "types")]
    assert _count(db_session, StructureCard) == 0


@pytest.mark.parametrize(
    ("schema", "fields", "version"),
    [
        ("data·inclusion v1", {"typologie": "ASSO"}, "v1"),
        ("data·inclusion v0", {"description": "x"}, "v0"),
        (None, {"typologie": "ASSO", "presentation_resume": "x"}, "v0"),
        (None, {"description": "x", "reseaux_porteurs": []}, "v1"),
        (None, {}, "v1"),
    ],
)
def test_the_version_is_what_the_file_says_or_what_its_fields_tell(
    schema: str | None, fields: dict[str, Any], version: str
) -> None:
    data = DirectoryFile([{"id": "x", **fields}], [], schema)
    assert version_of(data) == version


def test_a_json_document_says_its_schema(tmp_path: Path) -> None:
    path = tmp_path / "v0.json"
    path.write_text(json.dumps({**V0_FILE, "schema": "data·inclusion v0"}), encoding="utf-8")
    assert read_directory_file(path).schema == "data·inclusion v0"


def test_relais_v1_csv_columns_are_the_package_model_fields() -> None:
    from data_inclusion.schema import v1

    from app.services.directory.interop.schema import SERVICE_FIELDS, STRUCTURE_FIELDS

    header = next(csv.reader(io.StringIO(to_csv([], STRUCTURE_FIELDS))))
    assert header == [*v1.Structure.model_fields, "relais"]
    assert list(SERVICE_FIELDS) == [*v1.Service.model_fields, "relais"]
