"""Formula injection through the exports, end to end: what a user typed on a page reaches a
spreadsheet as text (a leading single quote), never as a formula (``app.services.safe_csv``)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.orm import Session

from app.domain.roles import Role
from app.models import User
from app.services.directory.editors import set_card_editor
from app.services.directory.interop.files import read_directory_file
from tests import factories
from tests.directory_data import build_demo_directory
from tests.web.helpers import csrf_token, login
from tests.web.test_dashboard import COORDINATOR, PERIOD, fill, rows
from tests.world import World

ATTACK = '=HYPERLINK("http://evil.example","card")'


def test_a_formula_typed_on_a_directory_card_is_exported_as_text(
    client: FlaskClient, runner: FlaskCliRunner, db_session: Session, tmp_path: Path
) -> None:
    garde = build_demo_directory(db_session)["GARDE90"]
    caseworker = factories.user(db_session, Role.CASEWORKER, garde)
    db_session.commit()
    set_card_editor(db_session, None, db_session.get(User, caseworker.id), True)
    db_session.commit()
    login(client, caseworker.email)
    data = {
        "csrf_token": csrf_token(client, "/directory/GARDE90/edit"),
        "missions": ATTACK,
        "services-0-name": "@SUM(A1:A9)",
        "services-0-types": "accompagnement",
        "phone": "03 53 01 01 50",
    }
    assert client.post("/directory/GARDE90/edit", data=data).status_code == 302

    folder = tmp_path / "csv"
    result = runner.invoke(args=["directory", "export", "--type", "csv", "--output", str(folder)])
    assert result.exit_code == 0, result.output
    text = (folder / "structures.csv").read_text(encoding="utf-8")
    assert f'"\'{ATTACK.replace(chr(34), chr(34) * 2)}"' in text  # quoted, with its quote
    structures = list(csv.DictReader(io.StringIO(text)))
    card = next(s for s in structures if s["id"] == "GARDE90")
    assert card["description"] == "'" + ATTACK
    assert card["telephone"] == "'+33353010150"  # a phone number is no formula either
    services = list(csv.DictReader(io.StringIO((folder / "services.csv").read_text("utf-8"))))
    assert "'@SUM(A1:A9)" in {s["nom"] for s in services}
    for line in [*structures, *services]:
        assert not any(v and v[0] in "=+-@\t\r" for v in line.values())
    # Read back by Relais, the card is what was typed.
    read = read_directory_file(folder)
    assert next(s for s in read.structures if s["id"] == "GARDE90")["description"] == (ATTACK)


def test_structure_names_reach_the_dashboard_exports_as_text(
    client: FlaskClient, db_session: Session, world: World
) -> None:
    fill(world)
    world.b.name = ATTACK
    world.c.name = "-1+2 insertion"
    db_session.commit()
    factories.user(db_session, Role.COORDINATOR, email=COORDINATOR)
    db_session.commit()
    login(client, COORDINATOR)
    response = client.get(f"/dashboard/export/handoff-matrix.csv?{PERIOD}")
    header, ind_a = rows(response.data)[:2]
    assert "'" + ATTACK in header
    assert "'-1+2 insertion" in header
    assert ind_a[-1] == "13"
    assert ";13\r\n" in response.get_data(as_text=True)  # a count stays a number
    pathways = rows(client.get(f"/dashboard/export/pathways.csv?{PERIOD}").data)
    assert len(pathways) > 1  # the pathway export names structures by code, through the writer
    for line in pathways[1:]:
        assert not any(cell and cell[0] in "=+-@\t\r" for cell in line)
