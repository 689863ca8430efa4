"""Page titles go to the browser's history, tabs and bookmarks: never an identity there.

Every page a caseworker opens about a person is rendered, by the structure that registered the
person and by the partner that accepted a hand-off (both see the name in the page), and the
``<title>`` must hold the pseudonym or a generic title only. Also: the shared page furniture
for small screens (favicon, tables in named scrolling regions).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffEvent
from app.domain.roles import Role
from app.services.handoffs import apply_event
from app.services.security.vault import Vault
from tests import factories
from tests.web.helpers import login, logout, region_names

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
TITLE = re.compile(r"<title>(.*?)</title>", re.S)
LAST, FIRST = "Zéphyrin", "Aurélie"


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _title(html: str) -> str:
    found = TITLE.search(html)
    assert found, "no <title>"
    return found.group(1)


@pytest.fixture
def followed(db_session: Session, vault: Vault) -> dict[str, str]:
    """A person of AAA handed off to BBB, who accepted: both structures see the name."""
    a = factories.structure(db_session, "AAA")
    b = factories.structure(db_session, "BBB")
    worker_a = factories.user(db_session, structure_=a, email="a@relais.example")
    worker_b = factories.user(db_session, structure_=b, email="b@relais.example")
    person = factories.person(db_session, vault, worker_a, last_name=LAST, first_name=FIRST)
    handoff = factories.handoff(db_session, vault, worker_a, person, b)
    apply_event(db_session, vault, worker_b, handoff, HandoffEvent.ACCEPT, now=datetime.now(UTC))
    db_session.commit()
    return {"pseudonym": person.pseudonym, "handoff": handoff.id.hex}


def _caseworker_pages(ids: dict[str, str]) -> list[str]:
    p, h = ids["pseudonym"], ids["handoff"]
    return [
        "/people/",
        f"/people/?q={LAST}",
        f"/people/{p}",
        f"/people/{p}/edit",
        f"/people/{p}/access-report",
        f"/people/{p}/consent/withdraw",
        f"/people/{p}/erase",
        f"/handoffs/new/{p}",
        f"/handoffs/{h}",
        "/handoffs/?box=in",
        "/handoffs/?box=out",
    ]


@pytest.mark.parametrize("email", ["a@relais.example", "b@relais.example"])
def test_no_caseworker_page_puts_the_name_in_its_title(
    client: FlaskClient, followed: dict[str, str], email: str
) -> None:
    login(client, email)
    person_page = client.get(f"/people/{followed['pseudonym']}").get_data(as_text=True)
    assert LAST.upper() in person_page, "the page itself shows the name to this structure"
    assert followed["pseudonym"] in _title(person_page)
    for path in _caseworker_pages(followed):
        answer = client.get(path)
        assert answer.status_code == 200, path
        title = _folded(_title(answer.get_data(as_text=True)))
        for value in (LAST, FIRST):
            assert _folded(value) not in title, f"{value} in the title of {path}: {title}"


def test_every_title_block_is_free_of_identity_fields() -> None:
    # The identity is rendered from an ``Identity`` (usually ``who``): no title may use one.
    blocks = {
        path.relative_to(TEMPLATES).as_posix(): block
        for path in TEMPLATES.rglob("*.html")
        for block in re.findall(
            r"{% block title %}(.*?){% endblock %}", path.read_text(encoding="utf-8"), re.S
        )
    }
    assert len(blocks) > 20
    leaking = {
        name: block
        for name, block in blocks.items()
        if re.search(r"\bwho\b|identit(y|ies)\[|full_name|last_name|first_name|email", block)
    }
    assert leaking == {}


def test_pages_link_the_favicon_served_from_static(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert re.search(r'<link rel="icon" href="/static/favicon\.svg" type="image/svg\+xml">', page)
    with client.get("/static/favicon.svg") as icon:
        assert icon.status_code == 200
        assert icon.mimetype == "image/svg+xml"
        assert icon.get_data(as_text=True).lstrip().startswith("<svg")


def test_every_table_scrolls_in_a_focusable_named_region() -> None:
    # On a phone a wide table scrolls inside its wrapper, never the page (WCAG 1.4.10); the
    # wrapper can be reached with the keyboard and is announced by name.
    region = re.compile(
        r'<div class="table-wrap" tabindex="0" role="region" aria-label(ledby)?="[^"]+">\s*'
        r"<table\b"
    )
    tables = {
        path.relative_to(TEMPLATES).as_posix(): path.read_text(encoding="utf-8")
        for path in TEMPLATES.rglob("*.html")
        if "<table" in path.read_text(encoding="utf-8")
    }
    assert len(tables) > 10
    unwrapped = {}
    for name, text in tables.items():
        for found in re.finditer(r"<table\b", text):
            before = text[: found.start()]
            opening = before.rfind('<div class="table-wrap"')
            if opening == -1 or not region.match(text, opening) or "</div>" in before[opening:]:
                unwrapped.setdefault(name, 0)
                unwrapped[name] += 1
    assert unwrapped == {}


def test_the_inbox_and_the_outbox_have_their_own_titles(
    client: FlaskClient, followed: dict[str, str]
) -> None:
    # Two pages, two titles: a screen reader's user knows which box the tab shows (RGAA 8.6).
    login(client, "a@relais.example")
    assert _title(client.get("/handoffs/?box=in").get_data(as_text=True)).startswith(
        "Orientations reçues"
    )
    assert _title(client.get("/handoffs/?box=out").get_data(as_text=True)).startswith(
        "Orientations envoyées"
    )
    assert _title(client.get("/handoffs/").get_data(as_text=True)).startswith("Orientations reçues")


def test_a_pathway_search_refused_says_so_in_the_title(
    client: FlaskClient, db_session: Session
) -> None:
    factories.user(db_session, Role.COORDINATOR, email="coord@relais.example")
    db_session.commit()
    login(client, "coord@relais.example")
    assert _title(client.get("/pathways/").get_data(as_text=True)).startswith("Parcours")
    refused = client.get("/pathways/?q=zz").get_data(as_text=True)
    assert 'aria-invalid="true"' in refused
    assert _title(refused).startswith("Erreur : Parcours")
    unknown = client.get("/pathways/?cohort=nothing-like-it").get_data(as_text=True)
    assert 'id="filter-error"' in unknown
    assert _title(unknown).startswith("Erreur : Parcours")


def test_no_region_is_named_twice(
    client: FlaskClient, db_session: Session, followed: dict[str, str]
) -> None:
    # A table's scrolling region inside a section of the same name is heard twice in the
    # list of regions of a screen reader, saying nothing more.
    factories.user(db_session, Role.ADMIN, email="admin@relais.example")
    factories.user(db_session, Role.COORDINATOR, email="coord@relais.example")
    db_session.commit()
    for email, paths in (
        ("a@relais.example", ("/import/", "/structures/AAA/figures")),
        ("admin@relais.example", ("/admin/reference",)),
        ("coord@relais.example", ("/steering/delays", "/dashboard/", "/steering/report")),
    ):
        login(client, email)
        for path in paths:
            names = region_names(client.get(path).get_data(as_text=True))
            assert names, path
            twice = sorted(n for n in set(names) if names.count(n) > 1)
            assert twice == [], (path, twice)
        logout(client)
