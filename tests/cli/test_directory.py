"""``flask directory``: data·inclusion export and import, editors, cards to check; and the
field worker accounts of ``flask users create``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.roles import Role
from app.models import Structure, StructureCard, User
from tests import factories
from tests.directory_data import build_demo_directory


@pytest.mark.parametrize(
    "args",
    [
        ["directory"],
        ["directory", "export"],
        ["directory", "import"],
        ["directory", "allow-editor"],
        ["directory", "revoke-editor"],
        ["directory", "stale"],
    ],
)
def test_every_command_has_help(runner: FlaskCliRunner, args: list[str]) -> None:
    result = runner.invoke(args=[*args, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_export_then_import_json_and_csv(
    runner: FlaskCliRunner, db_session: Session, tmp_path: Path
) -> None:
    build_demo_directory(db_session)
    db_session.commit()
    out = tmp_path / "directory.json"
    result = runner.invoke(
        args=["directory", "export", "--format", "data-inclusion", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["schema"] == "data·inclusion v1"
    assert len(document["structures"]) == 21
    assert {s["source"] for s in document["structures"]} == {"relais"}

    printed = runner.invoke(args=["directory", "export"])
    assert printed.exit_code == 0
    assert '"id": "GARDE90"' in printed.output

    folder = tmp_path / "csv"
    result = runner.invoke(args=["directory", "export", "--type", "csv", "--output", str(folder)])
    assert result.exit_code == 0, result.output
    assert (folder / "structures.csv").is_file()
    assert (folder / "services.csv").is_file()
    no_folder = runner.invoke(args=["directory", "export", "--type", "csv"])
    assert no_folder.exit_code != 0
    assert "--output" in no_folder.output

    checked = runner.invoke(args=["directory", "import", str(out), "--dry-run"])
    assert checked.exit_code == 0, checked.output
    assert "21 structures" in checked.output
    imported = runner.invoke(args=["directory", "import", str(folder)])
    assert imported.exit_code == 0, imported.output
    assert "0 created, 21 updated" in imported.output


def test_a_bad_file_is_refused_with_each_problem_and_nothing_imported(
    runner: FlaskCliRunner, db_session: Session, tmp_path: Path
) -> None:
    good = {
        "id": "NEW90",
        "source": "relais",
        "nom": "Nouvelle structure",
        "date_maj": "2026-10-01",
        "relais": {"type": "association"},
    }
    bad = {**good, "id": "BAD90", "telephone": "pas un numéro", "code_postal": "9"}
    path = tmp_path / "file.json"
    path.write_text(json.dumps({"structures": [good, bad]}), encoding="utf-8")
    before = db_session.scalar(select(func.count()).select_from(Structure))
    result = runner.invoke(args=["directory", "import", str(path)])
    assert result.exit_code == 1
    assert "nothing was imported: 2 problem(s)" in result.output
    assert "structures[1]: telephone:" in result.output
    assert "structures[1]: code_postal: A postcode has 5 digits." in result.output
    assert db_session.scalar(select(func.count()).select_from(Structure)) == before
    assert db_session.scalar(select(func.count()).select_from(StructureCard)) == 0

    path.write_text(json.dumps({"structures": [good]}), encoding="utf-8")
    checked = runner.invoke(args=["directory", "import", str(path), "--dry-run"])
    assert checked.exit_code == 0, checked.output
    assert (
        "The file is valid (data·inclusion v1): 1 structures (nothing written)." in checked.output
    )
    assert db_session.scalar(select(func.count()).select_from(Structure)) == before
    result = runner.invoke(args=["directory", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 created" in result.output
    missing = runner.invoke(args=["directory", "import", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.csv", "", "is empty: nothing to import"),
        ("header.csv", "id,nom,source\n", "has no structure below its header line"),
        ("object.csv", '{"a":1}\n', "has no structure below its header line"),
        ("empty.json", "[]", "lists no structure: nothing to import"),
        ("none.json", '{"structures": [], "services": []}', "lists no structure"),
        ("folder/structures.csv", "", "is empty: nothing to import"),
    ],
)
def test_a_file_without_structures_is_refused(
    runner: FlaskCliRunner, tmp_path: Path, name: str, content: str, reason: str
) -> None:
    """Importing nothing is a mistake (the wrong file, an export cut short): exit 1, not
    "Imported 0 structures"; with --dry-run too."""
    path = tmp_path / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(content, encoding="utf-8")
    given = path.parent if name.startswith("folder/") else path
    for dry_run in ([], ["--dry-run"]):
        result = runner.invoke(args=["directory", "import", str(given), *dry_run])
        assert result.exit_code == 1, result.output
        assert "nothing was imported: 1 problem(s)" in result.output
        assert f"{path}: file: {reason}" in result.output
        assert "Imported" not in result.output


def test_editors_and_stale_cards(runner: FlaskCliRunner, db_session: Session) -> None:
    structures = build_demo_directory(db_session)
    caseworker = factories.user(db_session, Role.CASEWORKER, structures["CAPE90"])
    coordinator = factories.user(db_session, Role.COORDINATOR)
    db_session.commit()
    allowed = runner.invoke(args=["directory", "allow-editor", caseworker.email])
    assert allowed.exit_code == 0, allowed.output
    assert "may edit the card of CAPE90" in allowed.output
    again = runner.invoke(args=["directory", "allow-editor", caseworker.email])
    assert "(unchanged)" in again.output
    refused = runner.invoke(args=["directory", "allow-editor", coordinator.email])
    assert refused.exit_code != 0
    unknown = runner.invoke(args=["directory", "allow-editor", "nobody@relais.example"])
    assert unknown.exit_code != 0
    revoked = runner.invoke(args=["directory", "revoke-editor", caseworker.email])
    assert revoked.exit_code == 0
    db_session.expire_all()
    assert not db_session.get(User, caseworker.id).can_edit_card  # type: ignore[union-attr]

    stale = runner.invoke(args=["directory", "stale"])
    assert stale.exit_code == 0
    codes = sorted(line.split("\t")[0] for line in stale.output.splitlines() if "\t" in line)
    assert codes == ["ADDI90", "CAPE90", "EMP90"]


def test_field_worker_accounts_have_no_structure(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    created = runner.invoke(
        args=[
            "users",
            "create",
            "educ@relais.example",
            "--name",
            "Éducateur",
            "--role",
            "field_worker",
            "--stdin",
        ],
        input="a perfectly fine passphrase\n",
    )
    assert created.exit_code == 0, created.output
    assert "Created field_worker account" in created.output
    user = db_session.scalar(select(User).where(User.email == "educ@relais.example"))
    assert user is not None
    assert user.structure_id is None
    structure = factories.structure(db_session)
    db_session.commit()
    refused = runner.invoke(
        args=["users", "create", "educ2@relais.example", "--name", "X", "--role", "field_worker",
              "--structure", structure.code, "--stdin"],
        input="a perfectly fine passphrase\n",
    )  # fmt: skip
    assert refused.exit_code != 0
    assert "Only caseworkers belong to a structure" in refused.output


def test_a_v0_file_imports_with_what_could_not_be_mapped(
    runner: FlaskCliRunner, db_session: Session, tmp_path: Path
) -> None:
    v0 = {
        "schema": "data·inclusion v0",
        "structures": [
            {
                "id": "asso-1",
                "source": "dora",
                "nom": "Épicerie solidaire du Mont",
                "typologie": "ASSO",
                "labels_nationaux": ["banques-alimentaires", "label-inconnu"],
                "date_maj": "2026-09-01",
                "thematiques": ["equipement-et-alimentation--alimentation", "mobilite"],
            }
        ],
        "services": [
            {
                "id": "svc-1",
                "structure_id": "asso-1",
                "source": "dora",
                "nom": "Colis alimentaires",
                "date_maj": "2026-09-01",
                "profils": ["jeunes-16-26", "profil-inconnu"],
                "types": ["aide-materielle", "type-inconnu"],
                "zone_diffusion_type": "region",
                "zone_diffusion_code": "27",
            }
        ],
    }
    path = tmp_path / "v0.json"
    path.write_text(json.dumps(v0), encoding="utf-8")
    checked = runner.invoke(args=["directory", "import", str(path), "--dry-run"])
    assert checked.exit_code == 0, checked.output
    assert "(data·inclusion v0)" in checked.output
    assert db_session.scalar(select(func.count()).select_from(StructureCard)) == 0
    result = runner.invoke(args=["directory", "import", str(path)])
    assert result.exit_code == 0, result.output
    for line in (
        "structures[0]: thematiques: equipement-et-alimentation--alimentation",
        "structures[0]: labels_nationaux: label-inconnu",
        "services[0]: profils: profil-inconnu",
        "services[0]: types: type-inconnu",
    ):
        assert line in result.stderr
    assert "1 created, 0 updated" in result.stdout
    assert "(data·inclusion v0)" in result.stdout
    assert db_session.scalar(select(func.count()).select_from(StructureCard)) == 1
