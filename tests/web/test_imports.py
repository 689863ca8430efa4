"""The import page: caseworkers only, CSRF, error table, duplicates, result, size limit."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date
from io import BytesIO

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from werkzeug import formparser
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from app.domain.roles import Role
from app.models import AuditEvent, Beneficiary, FollowUp, User
from app.services import imports
from app.services.imports import writing
from app.services.people.identity import open_identity
from app.services.security.vault import Vault
from app.web.imports import views as web_imports
from tests import factories
from tests.spreadsheets import ERROR, ods_file, xlsx_file
from tests.web.helpers import KEEP_ALIVE_SCRIPT, csrf_token, login, page_tokens

HEADER = "Nom;Prénom;Date de naissance;Téléphone;E-mail;Public;Consentement"
LINES = (
    "Zephyrin;Aurélie;14/03/2004;06 12 34 56 78;aurelie.z@exemple.fr;Jeunes décrocheurs;oral",
    "Martin;Hélène;2001-07-04;;;single_parent;signé 12/09/2025",
)


def csv_file(*lines: str, encoding: str = "utf-8-sig") -> bytes:
    return "\r\n".join(lines).encode(encoding)


@pytest.fixture
def worker(db_session: Session) -> User:
    user = factories.user(
        db_session, structure_=factories.structure(db_session, "IMPW"), email="w@relais.example"
    )
    factories.user(db_session, Role.COORDINATOR, email="coord@relais.example")
    factories.user(db_session, Role.ADMIN, email="admin@relais.example")
    db_session.commit()
    return user


def send(
    client: FlaskClient,
    data: bytes,
    *,
    allow_duplicates: bool = False,
    token: str | None = None,
    submission: str | None = None,
    checked: str | None = None,
) -> TestResponse:
    """Post the file as a browser does (the body encoded in memory, whatever its size), with
    the tokens of a fresh page unless given (``submission``: the form's one-time token;
    ``checked``: the MAC of the file whose duplicates a confirmation page showed)."""
    tokens = page_tokens(client, "/import/")
    fields: dict[str, object] = {
        "csrf_token": token if token is not None else tokens["csrf_token"],
        "submission": submission or tokens["submission"],
        "file": FileStorage(BytesIO(data), filename="suivis.csv", content_type="text/csv"),
    }
    if allow_duplicates:
        fields["allow_duplicates"] = "y"
    if checked is not None:
        fields["checked"] = checked
    boundary, body = encode_multipart(fields)
    return client.post(
        "/import/", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


TICKED = '<input checked id="allow_duplicates" name="allow_duplicates" type="checkbox"'
CHECKED = re.compile(r'name="checked" type="hidden" value="([0-9a-f]{64})"')


def checked_file(response: TestResponse) -> str:
    """The MAC of the file whose possible duplicates the confirmation page shows."""
    found = CHECKED.search(response.get_data(as_text=True))
    assert found, "no checked file on the page"
    return found.group(1)


def people_count(db_session: Session) -> int:
    return db_session.scalar(select(func.count()).select_from(Beneficiary)) or 0


def table_rows(page: str, table_id: str) -> list[list[str]]:
    """The cells of a table's body, tags stripped."""
    body = page.split(f'id="{table_id}"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_the_page_is_for_caseworkers_only(client: FlaskClient, worker: User) -> None:
    assert client.get("/import/").status_code == 302  # visitors go to sign in
    for email in ("coord@relais.example", "admin@relais.example"):
        login(client, email)
        assert client.get("/import/").status_code == 404
        assert client.get("/import/done").status_code == 404
    login(client, "w@relais.example")
    page = client.get("/import/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in text
    assert 'type="file"' in text
    assert 'href="/import/"' in text  # the link in the menu
    # No script of its own: only the keep-alive of signed-in pages.
    assert re.findall(r"<script[^>]*>", text) == [KEEP_ALIVE_SCRIPT]
    assert "style=" not in text


def test_a_valid_file_is_imported_for_the_signed_in_caseworker(
    client: FlaskClient, worker: User, db_session: Session, vault: Vault
) -> None:
    login(client, "w@relais.example")
    response = send(client, csv_file(HEADER, *LINES))
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/import/done")
    page = client.get("/import/done")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert '<progress id="import-progress" max="2" value="2">' in text
    assert '<label for="import-progress">Personnes importées : 2 sur 2</label>' in text
    assert "Elles sont suivies par votre structure" in text
    assert people_count(db_session) == 2
    referents = db_session.scalars(select(FollowUp.referent_id)).all()
    assert referents == [worker.id, worker.id]
    actors = set(
        db_session.scalars(
            select(AuditEvent.actor_id).where(AuditEvent.action == "beneficiary:create")
        )
    )
    assert actors == {worker.id}
    # The result is shown once (it is not kept).
    assert client.get("/import/done").status_code == 302
    # The people are in the caseload.
    assert "ZEPHYRIN" in client.get("/people/").get_data(as_text=True)


def test_errors_are_listed_by_line_and_column_and_nothing_is_imported(
    client: FlaskClient, worker: User, db_session: Session
) -> None:
    login(client, "w@relais.example")
    bad = (
        LINES[0],
        "Martin;;31/02/2001;12;;astronauts;",
        "Petit;Anna;;;;other;oui",
    )
    response = send(client, csv_file(HEADER, *bad))
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'role="alert"' in text
    rows = table_rows(text, "line-problems")
    assert [(r[0], r[1]) for r in rows] == [
        ("3", "Prénom"),
        ("3", "Date de naissance"),
        ("3", "Téléphone"),
        ("3", "Public"),
        ("4", "Consentement"),
    ]
    assert all(r[2] for r in rows)  # a reason on each line
    assert people_count(db_session) == 0


def test_problems_with_the_whole_file_are_shown(
    client: FlaskClient, worker: User, db_session: Session
) -> None:
    login(client, "w@relais.example")
    response = send(client, csv_file("Nom;Surname;Public", "Roy;Léo;other"))
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Surname" in text
    assert "nom, prenom, date_naissance" in text  # the expected columns
    assert people_count(db_session) == 0


def test_duplicates_ask_for_confirmation_then_import(
    client: FlaskClient, worker: User, db_session: Session, vault: Vault
) -> None:
    known = factories.person(db_session, vault, worker)  # Aurélie Zephyrin, same phone
    db_session.commit()
    login(client, "w@relais.example")
    data = csv_file(HEADER, LINES[1], LINES[0])
    response = send(client, data)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert 'id="duplicates"' in text
    assert [row[0] for row in table_rows(text, "duplicate-lines")] == ["3"]
    assert known.pseudonym in text
    assert 'name="allow_duplicates"' in text
    assert people_count(db_session) == 1  # nothing imported yet
    lookups = db_session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action == "beneficiary:duplicate_check", AuditEvent.subject_type == "import"
        )
    )
    assert lookups == 1  # the lookup is recorded even though nothing was imported

    response = send(client, data, allow_duplicates=True, checked=checked_file(response))
    assert response.status_code == 303
    text = client.get("/import/done").get_data(as_text=True)
    assert 'value="2"' in text
    assert people_count(db_session) == 3


def test_one_person_imported_is_said_in_the_singular(
    client: FlaskClient, worker: User, db_session: Session
) -> None:
    login(client, "w@relais.example")
    assert send(client, csv_file(HEADER, LINES[0])).status_code == 303
    text = html.unescape(client.get("/import/done").get_data(as_text=True))
    assert "Personnes importées : 1 sur 1" in text
    assert "Elle est suivie par votre structure à partir d'aujourd'hui" in text


def test_the_confirmation_imports_only_the_file_it_was_shown(
    client: FlaskClient, worker: User, db_session: Session, vault: Vault
) -> None:
    """The box ticked on the page of one file's duplicates does not import another file: that
    one is checked, and its own possible duplicates shown, before anything is imported."""
    factories.person(db_session, vault, worker)  # Aurélie Zephyrin, same phone
    db_session.commit()
    login(client, "w@relais.example")
    shown = send(client, csv_file(HEADER, LINES[1], LINES[0]))
    checked = checked_file(shown)
    other = csv_file(HEADER, LINES[0])  # another file, with its own possible duplicate
    response = send(client, other, allow_duplicates=True, checked=checked)
    assert response.status_code == 200
    text = html.unescape(response.get_data(as_text=True))
    assert "Ce n'est pas le fichier dont les doublons possibles ont été montrés" in text
    assert [row[0] for row in table_rows(text, "duplicate-lines")] == ["2"]
    assert people_count(db_session) == 1  # nothing imported
    assert 'name="allow_duplicates"' in text
    assert TICKED not in text
    # Confirmed with the MAC of this page, the other file is imported.
    again = send(client, other, allow_duplicates=True, checked=checked_file(response))
    assert again.status_code == 303
    assert people_count(db_session) == 2
    # A forged or missing MAC confirms nothing either.
    third = csv_file(HEADER, LINES[0].replace("Aurélie", "Aurore"))
    for forged in ("0" * 64, None, "é" * 64):
        refused = send(client, third, allow_duplicates=True, checked=forged)
        assert refused.status_code == 200
        assert 'id="duplicates"' in refused.get_data(as_text=True)
    assert people_count(db_session) == 2


def test_the_confirmation_sent_without_its_file_keeps_the_box(
    client: FlaskClient, worker: User, db_session: Session, vault: Vault
) -> None:
    """The file must be chosen again on the confirmation page: forgotten, the page says so and
    keeps the ticked box and the file it confirms, so that choosing the file is enough."""
    factories.person(db_session, vault, worker)
    db_session.commit()
    login(client, "w@relais.example")
    data = csv_file(HEADER, LINES[1], LINES[0])
    checked = checked_file(send(client, data))
    tokens = page_tokens(client, "/import/")
    response = client.post(
        "/import/",
        data={**tokens, "allow_duplicates": "y", "checked": checked},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'id="file-error"' in text
    assert checked_file(response) == checked
    assert TICKED in text
    assert send(client, data, allow_duplicates=True, checked=checked).status_code == 303
    assert people_count(db_session) == 3


def test_post_without_csrf_token_is_refused(
    client: FlaskClient, worker: User, db_session: Session
) -> None:
    login(client, "w@relais.example")
    response = send(client, csv_file(HEADER, *LINES), token="")
    assert response.status_code == 400
    assert people_count(db_session) == 0


def test_no_file_chosen(client: FlaskClient, worker: User) -> None:
    login(client, "w@relais.example")
    response = client.post(
        "/import/",
        data={"csrf_token": csrf_token(client, "/import/")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert 'id="file-error"' in response.get_data(as_text=True)


def test_a_file_too_large_gets_a_clear_message(
    client: FlaskClient, worker: User, db_session: Session
) -> None:
    login(client, "w@relais.example")
    big = csv_file(HEADER, *LINES) + b"\r\n" + b"x" * (imports.MAX_FILE_BYTES + 100_000)
    response = send(client, big)
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert 'id="problems"' in text
    assert "5" in text
    assert 'type="file"' in text  # the form is there to try again
    assert people_count(db_session) == 0


def test_a_file_just_over_the_limit_is_refused_by_the_service(
    client: FlaskClient, worker: User, db_session: Session
) -> None:
    login(client, "w@relais.example")
    big = csv_file(HEADER, *LINES) + b"\r\n" + b"x" * imports.MAX_FILE_BYTES
    response = send(client, big)
    assert response.status_code == 422
    assert 'id="problems"' in response.get_data(as_text=True)
    assert people_count(db_session) == 0


def test_a_failure_while_writing_leaves_nothing_behind(
    client: FlaskClient,
    worker: User,
    db_session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = writing._write_batch
    calls = []

    def failing(*args: object, **kwargs: object) -> list[dict[str, object]]:
        calls.append(1)
        if len(calls) == 2:
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(writing, "BATCH_SIZE", 1)
    monkeypatch.setattr(writing, "_write_batch", failing)
    login(client, "w@relais.example")
    response = send(client, csv_file(HEADER, *LINES))
    assert response.status_code == 503
    assert 'id="problems"' in response.get_data(as_text=True)
    assert len(calls) == 2
    assert people_count(db_session) == 0


def test_long_lists_of_problems_are_cut_and_counted(
    client: FlaskClient, worker: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web_imports, "SHOWN_PROBLEMS", 2)
    login(client, "w@relais.example")
    lines = [f"Nom{n};Léo;;;;astronauts;" for n in range(5)]
    response = send(client, csv_file(HEADER, *lines))
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert [row[0] for row in table_rows(text, "line-problems")] == ["2", "3"]
    hidden = re.search(r'<p id="hidden-problems">([^<]*)</p>', text)
    assert hidden is not None
    assert "3" in hidden.group(1)  # how many more, not shown


def test_an_upload_is_never_spilled_to_a_temporary_file(
    client: FlaskClient, worker: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_disk(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the upload went to a temporary file")

    monkeypatch.setattr(formparser, "SpooledTemporaryFile", no_disk)
    login(client, "w@relais.example")
    big = csv_file("Nom;Surname;Public", *["Roy;Léo;" + "x" * 100] * 6_000)
    assert len(big) > 600_000  # werkzeug would spill it past 500 KB
    response = send(client, big)
    assert response.status_code == 422
    assert "Surname" in response.get_data(as_text=True)


def test_cell_values_shown_back_are_escaped(client: FlaskClient, worker: User) -> None:
    login(client, "w@relais.example")
    response = send(client, csv_file("Nom;Prénom;Public", "Roy;Léo;<script>alert(1)</script>"))
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;" in text


# -- spreadsheets as they are -----------------------------------------------------------------

TYPED_ROWS: list[list[object]] = [
    ["Nom", "Prénom", "Date de naissance", "Téléphone", "Public", "Consentement"],
    ["Zephyrin", "Aurélie", date(2004, 3, 14), 612345678, "Jeunes décrocheurs", "oral"],
    ["Martin", "Hélène", "2001-07-04", None, "single_parent", "signé 12/09/2025"],
]


@pytest.mark.parametrize("write", [xlsx_file, ods_file], ids=["xlsx", "ods"])
def test_a_spreadsheet_is_imported_as_it_is(
    client: FlaskClient,
    worker: User,
    db_session: Session,
    vault: Vault,
    write: Callable[..., bytes],
) -> None:
    login(client, "w@relais.example")
    page = client.get("/import/").get_data(as_text=True)
    assert ".xlsx" in page  # the file input accepts spreadsheets
    assert ".ods" in page
    response = send(client, write(TYPED_ROWS))
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/import/done")
    assert people_count(db_session) == 2
    people = {
        open_identity(vault, db_session, p).last_name: open_identity(vault, db_session, p)
        for p in db_session.scalars(select(Beneficiary))
    }
    assert people["Zephyrin"].phone == "+33612345678"
    assert people["Zephyrin"].birth_date == date(2004, 3, 14)


@pytest.mark.parametrize("write", [xlsx_file, ods_file], ids=["xlsx", "ods"])
def test_errors_of_a_spreadsheet_are_listed_by_row(
    client: FlaskClient, worker: User, db_session: Session, write: Callable[..., bytes]
) -> None:
    login(client, "w@relais.example")
    rows = [*TYPED_ROWS, [], ["Petit", ERROR, "31/02/2001", None, "astronauts"]]
    response = send(client, write(rows))
    assert response.status_code == 422
    assert [(r[0], r[1]) for r in table_rows(response.get_data(as_text=True), "line-problems")] == [
        ("5", "Prénom")
    ]
    response = send(client, write([*TYPED_ROWS, [], ["Petit", "Anna", "31/02/2001", None, "x"]]))
    assert response.status_code == 422
    assert [(r[0], r[1]) for r in table_rows(response.get_data(as_text=True), "line-problems")] == [
        ("5", "Date de naissance"),
        ("5", "Public"),
    ]
    assert people_count(db_session) == 0


@pytest.mark.parametrize(
    "data",
    [b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, b"PK\x03\x04 damaged", xlsx_file([])],
    ids=["xls-or-protected", "damaged", "empty-sheet"],
)
def test_unreadable_spreadsheets_get_a_clear_page(
    client: FlaskClient, worker: User, db_session: Session, data: bytes
) -> None:
    login(client, "w@relais.example")
    response = send(client, data)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'id="problems"' in text
    assert 'type="file"' in text
    assert people_count(db_session) == 0
