"""The caseload by name past its limit, in Chromium: the notice, the narrowing that gets to a
list sorted by name, on an office screen and a phone (screenshots with ``RELAIS_SCREENSHOTS``).

A server of its own on the demo network, with ``RELAIS_NAME_ORDER_LIMIT=4``: the Mission
Locale's ten people are too many to sort by name; its three people removing barriers are not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import VIEWPORTS, new_context, scratch_database, serve
from tests.browser.test_dashboard import shoot
from tests.browser.test_journeys import check_accessibility, sign_in

pytestmark = pytest.mark.browser

NOTICE = "Cette liste n'est pas triée par nom."


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    for database in scratch_database(tmp_path_factory, "names"):
        yield from serve(database, ["demo", "load"], settings={"RELAIS_NAME_ORDER_LIMIT": "4"})


def _fits(page: Any) -> None:
    sizes = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert sizes[0] <= sizes[1], f"{page.url}: {sizes[0]} px wide in a {sizes[1]} px window"


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_the_name_order_past_its_limit_says_so_and_narrowing_sorts(
    browser: Any, limited_server: str, size: str, tmp_path: Path
) -> None:
    context = new_context(browser, base_url=limited_server, viewport=VIEWPORTS[size])
    page = context.new_page()
    try:
        sign_in(page, "conseil@ml90.demo")
        page.wait_for_url(re.compile(r"/work/$"))
        page.goto("/people/?sort=name")
        notice = page.locator("#name-order-refused")
        assert notice.is_visible()
        assert NOTICE in notice.inner_text()
        assert "4 personnes au plus" in notice.inner_text()
        assert page.locator("th[aria-sort]").count() == 0  # no column claims an order
        box = notice.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= VIEWPORTS[size]["width"]
        _fits(page)
        check_accessibility(page)
        shot = tmp_path / "refused.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        shoot(page, "name-order-refused")
        # Her own people are the ten: that narrowing is no help here; a stage is.
        notice.get_by_role("link", name="choisissez une étape actuelle ou un public").click()
        page.get_by_label("Étape actuelle").select_option(label="Levée des freins")
        page.get_by_role("button", name="Filtrer").click()
        page.wait_for_url(re.compile(r"stage=barriers"))
        assert "sort=name" in page.url
        assert page.locator("#name-order-refused").count() == 0
        header = page.locator("th[aria-sort=ascending]")
        assert header.inner_text().startswith("Personne")
        names = page.locator("table.data tbody tr th a").all_inner_texts()
        assert len(names) == 3
        last = [name.split()[-1] for name in names]
        assert last == sorted(last)
        _fits(page)
        check_accessibility(page)
        shoot(page, "name-order-narrowed")
    finally:
        context.close()
