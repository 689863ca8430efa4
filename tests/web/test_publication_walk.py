"""Everything that leaves the coordination is in the publication view (issue 14, "Must show").

The walk discovers its routes from the application: every route whose URL ends with ".csv"
(the dashboard's table exports, a structure's figures, any export added later), except the
row-level pseudonymous pathway export (``ROW_LEVEL``: documented as row-level, audited, and
for the coordinators only), then the partner pages and the dashboard's printed view. For each
request it spies on the protection (``app/domain/disclosure.py``, ``disclosure_links.py``):
every call must get the publication threshold k, never the exact view's 1. On a known world
with a pair of partners exchanging 3 hand-offs, the 3 shows in the coordinators' exact page and
nowhere in what leaves.
"""

from __future__ import annotations

import csv
import html as html_lib
import inspect
import io
import itertools
import re
import sys
import zipfile
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from app.domain import disclosure, disclosure_links
from app.domain.handoffs import HandoffStatus
from app.domain.roles import Role
from app.services.statistics.dashboard import TABLE_NAMES, View
from app.services.statistics.delays import TABLE_NAMES as DELAY_TABLES
from app.services.statistics.unmet_needs import TABLE_NAMES as UNMET_TABLES
from app.web.dashboard import views as dashboard_views
from app.web.steering.views import DECISION_TABLES
from tests import factories
from tests.web.helpers import login
from tests.world import World, at

QUERY = {"start": "2026-01-01", "end": "2026-11-30"}
COORDINATOR, WORKER = "coord@relais.example", "worker@relais.example"
# Row-level and pseudonymous by design (docs/statistics.md, "Exports"): not a table of counts.
ROW_LEVEL = {"dashboard.export_pathways"}
# The protection's entry points: each takes the threshold ``k``.
GUARDS: tuple[Callable[..., Any], ...] = (
    disclosure.protect,
    disclosure.protect_value,
    disclosure.statistic_is_safe,
    disclosure_links.protect_linked,
)
# The partner's figures that are counts (their other lines are medians and shares).
PARTNER_COUNTS = re.compile(r"^(received|sent|sent_declined|followed|declined:.*)$")


@pytest.fixture
def threshold(app: Flask) -> int:
    k = int(app.config["SMALL_COUNT_THRESHOLD"])
    assert k > 3  # the world's small count must be a small count
    return k


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The thresholds the protection gets, call by call, wherever the application calls it
    (every module of ``app`` holding one of the guards is patched)."""
    seen: list[int] = []
    for original in GUARDS:
        signature = inspect.signature(original)

        def wrapper(
            *args: Any,
            _original: Callable[..., Any] = original,
            _signature: inspect.Signature = signature,
            **kwargs: Any,
        ) -> Any:
            bound = _signature.bind(*args, **kwargs)
            bound.apply_defaults()
            seen.append(int(bound.arguments["k"]))
            return _original(*args, **kwargs)

        for name, module in list(sys.modules.items()):
            if module is None or not (name == "app" or name.startswith("app.")):
                continue
            for attribute, value in list(vars(module).items()):
                if value is original:
                    monkeypatch.setattr(module, attribute, wrapper)
    return seen


@pytest.fixture
def known(db_session: Session, world: World) -> World:
    """IND-A sends 13 hand-offs to IND-B and 3 to IND-C, and does nothing else."""
    for receiver, count in ((world.b, 13), (world.c, 3)):
        for _ in range(count):
            person = world.person()
            world.step(person, "orientation", date(2026, 3, 2), world.b)
            world.handoff(person, world.a, receiver, HandoffStatus.SENT, at(date(2026, 3, 4)))
    factories.user(db_session, Role.COORDINATOR, email=COORDINATOR)
    factories.user(db_session, Role.CASEWORKER, world.a, email=WORKER)
    db_session.commit()
    return world


def _argument_values(world: World) -> dict[str, list[str]]:
    return {
        "name": list(TABLE_NAMES),
        "code": [world.a.code, world.b.code, world.c.code],
        "table": sorted(DELAY_TABLES | DECISION_TABLES),
    }


def export_rules(app: Flask) -> list[Rule]:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.rule.endswith(".csv") and rule.endpoint not in ROW_LEVEL
    ]


# URL arguments whose values differ by endpoint (the tables of two steering pages).
ARGUMENTS_OF: dict[str, dict[str, list[str]]] = {
    "steering.unmet_needs_export": {"table": list(UNMET_TABLES)},
}


def export_urls(app: Flask, world: World) -> Iterator[str]:
    """Every export of the application, with every value of its URL arguments."""
    for rule in export_rules(app):
        values = {**_argument_values(world), **ARGUMENTS_OF.get(rule.endpoint, {})}
        unknown = sorted(set(rule.arguments) - set(values))
        if unknown:
            pytest.fail(
                f"{rule.endpoint} takes {unknown}: give the walk its values (_argument_values) "
                "so that it checks this export is in the publication view"
            )
        names = sorted(rule.arguments)
        for combination in itertools.product(*(values[name] for name in names)):
            with app.test_request_context():
                yield url_for(rule.endpoint, **dict(zip(names, combination, strict=True)), **QUERY)


def _csv(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))


def problems_of_export(client: FlaskClient, url: str, spy: list[int], k: int) -> list[str]:
    """What is wrong with one export: not the publication view, or a small count in it."""
    spy.clear()
    response = client.get(url)
    if response.status_code != 200:
        return [f"{url}: answered {response.status_code}"]
    found = []
    if not spy:
        found.append(f"{url}: the protection was never called")
    elif min(spy) < k:
        found.append(f"{url}: protected with k={min(spy)} (the exact view?), not {k}")
    disposition = response.headers.get("Content-Disposition", "")
    if "publication" not in disposition:
        found.append(f"{url}: its file name does not say publication ({disposition})")
    lines = _csv(response.data)
    if not lines or lines[-1][0] != "view":
        found.append(f"{url}: no last line saying the view")
    partner = "/figures.csv" in url
    for line in lines[1:-1]:
        if partner and not PARTNER_COUNTS.match(line[0]):
            continue  # a median or a share, which needs k behind it (tested elsewhere)
        for value in line[2:]:
            if value in ("", "0", "pas encore"):  # hidden, none, a horizon not elapsed yet
                continue
            if int(value) < k:
                found.append(f"{url}: a small count {value} on line {line[0]}")
    return found


def problems_of_bundle(client: FlaskClient, url: str, spy: list[int], k: int) -> list[str]:
    """What is wrong with the CDE report's bundle: each of its CSV files checked as an export
    (every file ends with the view line; counts of 1 to k-1 never appear)."""
    spy.clear()
    response = client.get(url)
    if response.status_code != 200:
        return [f"{url}: answered {response.status_code}"]
    found = []
    if not spy or min(spy) < k:
        found.append(f"{url}: protected with k={min(spy, default=None)}, not {k}")
    if "publication" not in response.headers.get("Content-Disposition", ""):
        found.append(f"{url}: its file name does not say publication")
    bundle = zipfile.ZipFile(io.BytesIO(response.data))
    for name in bundle.namelist():
        if not name.endswith(".csv"):
            continue
        lines = _csv(bundle.read(name))
        if not lines or lines[-1][0] != "view":
            found.append(f"{url} {name}: no last line saying the view")
        if name in ("delays-by-structure.csv", "network-events.csv"):
            continue  # shares, medians (k behind them), dates and themes: no count of people
        for line in lines[1:-1]:
            for value in line[2:]:
                if value not in ("", "0") and int(value) < k:
                    found.append(f"{url} {name}: a small count {value} on line {line[0]}")
    return found


def test_the_cde_report_and_its_bundle_are_in_the_publication_view(
    client: FlaskClient, known: World, spy: list[int], threshold: int
) -> None:
    login(client, COORDINATOR)
    for quarter in ("2026-Q1", "2026-Q2"):
        assert not problems_of_bundle(client, f"/steering/report/{quarter}.zip", spy, threshold)
        spy.clear()
        page = client.get("/steering/report", query_string={"quarter": quarter})
        assert page.status_code == 200
        assert spy
        assert min(spy) == threshold
    # The pair's 3 hand-offs (first quarter) read "< k" in the report, never 3.
    html = client.get("/steering/report", query_string={"quarter": "2026-Q1"}).get_data(True)
    row = _matrix_row(html.split('id="report-outcomes-table"')[1], known.c.name)
    assert "3" not in row
    assert f"< {threshold}" in row


def test_the_walk_finds_the_exports(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in export_rules(app)}
    assert {"dashboard.export_table", "figures.export"} <= endpoints
    assert not endpoints & ROW_LEVEL


def test_every_export_is_in_the_publication_view(
    client: FlaskClient, known: World, spy: list[int], threshold: int
) -> None:
    login(client, COORDINATOR)
    urls = list(export_urls(client.application, known))
    assert len(urls) == (
        len(TABLE_NAMES) + 3 + len(DELAY_TABLES | DECISION_TABLES) + len(UNMET_TABLES) + 1
    )  # the dashboard's tables, three structures' figures, the steering tables, lost from view
    problems = [p for url in urls for p in problems_of_export(client, url, spy, threshold)]
    assert not problems, problems
    # The pair's 3 hand-offs: an empty cell of the matrix's export.
    lines = _csv(client.get(url_for_table(client, "handoff-matrix")).data)
    header, row_a = lines[0], next(line for line in lines if line[0] == known.a.code)
    assert row_a[header.index(known.c.name)] == ""
    assert row_a[-1] == "16"  # the row's total is published


def url_for_table(client: FlaskClient, name: str) -> str:
    with client.application.test_request_context():
        return url_for("dashboard.export_table", name=name, **QUERY)


def test_the_walk_fails_an_export_in_the_exact_view(
    client: FlaskClient,
    known: World,
    spy: list[int],
    threshold: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Someone passes View.EXACT to an export: the walk says so."""
    original = dashboard_views.dashboard

    def exact(*args: Any, **kwargs: Any) -> Any:
        kwargs["view"] = View.EXACT
        return original(*args, **kwargs)

    monkeypatch.setattr(dashboard_views, "dashboard", exact)
    login(client, COORDINATOR)
    problems = problems_of_export(client, url_for_table(client, "handoff-matrix"), spy, threshold)
    assert any("k=1" in p for p in problems), problems
    assert any("small count 3" in p for p in problems), problems


def _matrix_row(html: str, name: str) -> list[str]:
    """The cells of ``name``'s row in the pages' tables (IND-A is a row of the matrix only;
    the network's heatmap, whose cells name their partner, is left out)."""
    rows = re.findall(rf'<th scope="row">{re.escape(name)}</th>(.*?)</tr>', html, re.S)
    rows = [row for row in rows if 'class="text"' not in row]
    assert len(rows) == 1, rows
    cells = re.findall(r"<td[^>]*>(.*?)</td>", rows[0], re.S)
    return [html_lib.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells]


def test_the_pages_that_leave_are_in_the_publication_view(
    client: FlaskClient, known: World, spy: list[int], threshold: int
) -> None:
    login(client, COORDINATOR)
    # The coordinators' own page, exact: the pair's 3 hand-offs are there...
    exact = client.get("/dashboard/", query_string=QUERY).get_data(as_text=True)
    assert min(spy) == 1
    assert _matrix_row(exact, known.a.name) == ["13", "3", "16"]
    # ... and printed, the exact view prints no figure: its indicators are marked for the
    # print style to hide them, and a note asks for the publication view.
    assert '<div class="indicators exact-view">' in exact
    assert 'class="print-only"' in exact
    stylesheet = client.get("/static/relais.css")
    css = stylesheet.get_data(as_text=True)
    stylesheet.close()  # a static file's response holds the file open
    print_rules = css[css.index("@media print") :].split("\n}", 1)[0]
    assert re.search(r"\.indicators\.exact-view[^{]*\{\s*display:\s*none", print_rules)
    # The publication view (what is printed): k, and the 3 reads "< k".
    spy.clear()
    published = client.get("/dashboard/", query_string={**QUERY, "view": "publication"})
    assert spy
    assert min(spy) == threshold
    row = _matrix_row(published.get_data(as_text=True), known.a.name)
    assert "3" not in row
    assert row[1] == f"< {threshold}"
    # A structure's figures, read by the coordinators and by its caseworkers.
    pages = [(COORDINATOR, s.code) for s in (known.a, known.b, known.c)] + [(WORKER, known.a.code)]
    for email, code in pages:
        login(client, email)
        spy.clear()
        page = client.get(f"/structures/{code}/figures", query_string=QUERY)
        assert page.status_code == 200, (email, code)
        assert spy
        assert min(spy) == threshold, (email, code)
        html = page.get_data(as_text=True)
        counts = re.findall(
            r'data-indicator="(?:received|sent|sent_declined|followed)".*?</tr>', html, re.S
        )
        for row_html in counts:
            for value in re.findall(r'<td data-who="\w+">([^<]*)</td>', row_html):
                assert value.strip() in ("", "0") or int(value) >= threshold, (code, value)
