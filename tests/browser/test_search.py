"""A caseworker of a Mission Locale finds a named person among 3,000 with one search.

A server of its own: the demo network plus ``demo generate --people 3000`` (synthetic names are
drawn from the demo's, so several people share a name, as in a real territory).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import VIEWPORTS, new_context, scratch_database, serve
from tests.browser.test_journeys import check_accessibility, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def crowded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    for database in scratch_database(tmp_path_factory, "crowd"):
        yield from serve(database, ["demo", "load"], ["demo", "generate", "--people", "3000"])


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_one_search_finds_a_named_person_among_3000(
    browser: Any, crowded_server: str, size: str
) -> None:
    context = new_context(browser, base_url=crowded_server, viewport=VIEWPORTS[size])
    page = context.new_page()
    try:
        sign_in(page, "conseil@ml90.demo")
        page.wait_for_url(re.compile(r"/work/$"))
        page.goto("/people/")
        followed = page.get_by_role("paragraph").filter(has_text=re.compile(r"^\d+ personnes$"))
        assert int(followed.first.inner_text().split()[0]) > 300  # a real caseload
        page.get_by_label("Trouver une personne").fill("belkacem YANIS")
        page.get_by_role("button", name="Chercher").click()
        page.wait_for_url(re.compile(r"/people/\?search=1$"))
        assert "belkacem" not in page.url.lower()
        rows = page.locator("table.data tbody tr")
        assert 1 <= rows.count() < 10
        found = page.get_by_role("link", name="Yanis BELKACEM").first
        assert found.is_visible()
        check_accessibility(page)
        found.click()
        assert page.get_by_role("heading", level=1).inner_text().startswith("Yanis BELKACEM")
        page.go_back()
        assert page.get_by_role("link", name="Yanis BELKACEM").first.is_visible()
    finally:
        context.close()
