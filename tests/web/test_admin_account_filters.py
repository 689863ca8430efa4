"""The administrator's list of accounts, narrowed by name or address (case and accents
folded), role, structure and status; a value Relais does not know is no filter."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.domain.roles import Role
from tests import factories
from tests.sql_count import count_queries
from tests.web.helpers import login

ADMIN = "admin-filters@relais.example"


@pytest.fixture
def accounts(db_session: Session) -> None:
    bastion = factories.structure(db_session, "AFB")
    glacis = factories.structure(db_session, "AFG")
    people = [
        (Role.CASEWORKER, bastion, "Léa Vandenbroucke", "lea.v@afb.example", True),
        (Role.CASEWORKER, bastion, "Ousmane Keita", "o.keita@afb.example", False),
        (Role.CASEWORKER, glacis, "Éloïse Marchetti", "eloise@afg.example", True),
        (Role.COORDINATOR, None, "Délégation Glacis", "coordination@afg.example", True),
        (Role.ADMIN, None, "Admin Filtres", ADMIN, True),
    ]
    for role, structure, name, email, active in people:
        user = factories.user(db_session, role, structure, email=email)
        user.display_name = name
        user.active = active
    db_session.commit()


def _shown(client: FlaskClient, query: str) -> tuple[list[str], str]:
    """The names of the accounts listed for ``query``, and the count line."""
    html = client.get(f"/admin/users{query}").get_data(as_text=True)
    names = re.findall(r'<th scope="row">([^<]+)</th>', html)
    count = re.search(r'id="accounts-shown" data-total="\d+">(.*?)</p>', html)
    assert count
    return [n for n in names if n in NAMES], re.sub(r"<[^>]+>", "", count.group(1)).strip()


NAMES = {"Léa Vandenbroucke", "Ousmane Keita", "Éloïse Marchetti", "Délégation Glacis"}


def test_the_accounts_narrowed_by_name_role_structure_and_status(
    client: FlaskClient, accounts: None
) -> None:
    login(client, ADMIN)
    everyone, _count = _shown(client, "")
    assert set(everyone) == NAMES
    # Typed as people type: no accent, any case, a part of the name or of the address.
    assert _shown(client, "?q=LEA") == (["Léa Vandenbroucke"], "1 compte · Tous les comptes")
    assert _shown(client, "?q=eloise")[0] == ["Éloïse Marchetti"]
    assert _shown(client, "?q=afb.example")[0] == ["Léa Vandenbroucke", "Ousmane Keita"]
    assert _shown(client, "?role=coordinator")[0] == ["Délégation Glacis"]
    assert _shown(client, "?structure=AFG")[0] == ["Éloïse Marchetti"]
    assert _shown(client, "?structure=AFB&status=deactivated")[0] == ["Ousmane Keita"]
    assert _shown(client, "?structure=AFB&status=active&role=caseworker")[0] == [
        "Léa Vandenbroucke"
    ]
    # Nothing found: said, with the way back to every account.
    html = client.get("/admin/users?q=zzz").get_data(as_text=True)
    assert "Aucun compte ne correspond à ces filtres." in html
    assert '<a href="/admin/users">Tous les comptes</a>' in html
    assert 'id="accounts-shown" data-total="0">0 compte' in html


@pytest.mark.parametrize(
    "query", ["?role=king", "?structure=NOPE", "?status=asleep", "?q=", "?q=%20%20"]
)
def test_an_unknown_filter_is_no_filter(client: FlaskClient, accounts: None, query: str) -> None:
    login(client, ADMIN)
    answer = client.get(f"/admin/users{query}")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert set(re.findall(r'<th scope="row">([^<]+)</th>', html)) >= NAMES
    assert "Tous les comptes</a>" not in html


def test_the_filters_keep_what_was_chosen(client: FlaskClient, accounts: None) -> None:
    login(client, ADMIN)
    html = client.get("/admin/users?q=keita&role=caseworker&structure=AFB&status=deactivated")
    page = html.get_data(as_text=True)
    assert 'name="q" value="keita"' in page
    assert '<option value="caseworker" selected>' in page
    assert '<option value="AFB" selected>' in page
    assert '<option value="deactivated" selected>' in page


def test_only_administrators_list_the_accounts(client: FlaskClient, accounts: None) -> None:
    login(client, "lea.v@afb.example")
    assert client.get("/admin/users?q=lea").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/admin/users",
        "/admin/structures",
        "/structures/AFB/accounts",
        "/structures/AFB/api-tokens",
        "/directory/AFB",
    ],
)
def test_the_pages_read_no_secret(client: FlaskClient, accounts: None, path: str) -> None:
    """Neither the password hashes nor the second factors' keys leave the database to show
    accounts (``User``'s deferred group of secrets: only the sign-in reads them)."""
    login(client, ADMIN)
    with count_queries() as queries:
        assert client.get(path).status_code == 200
    assert queries.statements
    for statement in queries.statements:
        for column in ("password_hash", "second_factor_kek", "second_factor_key", "seed"):
            assert column not in statement, statement
