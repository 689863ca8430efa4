"""The coordinators' steering pages in Chromium, on the demo network, at the sizes of the
issue (desktop 1280×800, phone 375×740): the index, decisions and delays, unmet needs and
lost from view, each checked by axe and for a page that never scrolls sideways."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.test_journeys import check_accessibility, sign_in

pytestmark = pytest.mark.browser

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 375, "height": 740}}


def no_sideways_scroll(page: Any) -> None:
    """The page itself never scrolls sideways (wide tables scroll in their own region)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url}: {width}px wide"


def check(page: Any) -> None:
    check_accessibility(page)
    no_sideways_scroll(page)


def at_issue_size(page: Any) -> None:
    """The conftest's desktop and phone, at the issue's sizes."""
    phone = page.viewport_size["width"] < 600
    page.set_viewport_size(SIZES["phone" if phone else "desktop"])


def test_coordinator_reads_the_steering_pages(page: Any) -> None:
    at_issue_size(page)
    sign_in(page, "coordination@relais.demo")
    page.wait_for_url(re.compile(r"/pathways/$"))
    page.goto("/steering/")
    # Decisions and delays, unmet needs, lost from view, and the quarterly report to the CDE.
    assert page.locator("#steering-pages > li").count() == 4
    assert page.locator("#steering-report h2 a").get_attribute("href") == "/steering/report"
    assert int(page.locator("[data-figure=decisions]").inner_text().replace("\u202f", "")) > 0
    assert int(page.locator("[data-figure=lost]").inner_text().replace("\u202f", "")) > 0
    check(page)

    page.locator("#steering-delays h2 a").click()
    page.wait_for_url(re.compile(r"/steering/delays"))
    check(page)
    page.locator("#view-publication").click()
    page.wait_for_url(re.compile(r"view=publication"))
    check(page)

    page.goto("/steering/unmet-needs")
    check(page)
    page.locator("#view-publication").click()
    page.wait_for_url(re.compile(r"view=publication"))
    check(page)

    page.goto("/steering/")
    page.locator("#steering-lost h2 a").click()
    page.wait_for_url(re.compile(r"/steering/lost"))
    assert page.locator("#table-lost-counts").is_visible()
    assert page.locator("#lost-list tbody tr").count() > 0
    check(page)
    page.locator("#view-publication").click()
    page.wait_for_url(re.compile(r"view=publication"))
    assert page.locator("#lost-counts").get_attribute("data-view") == "publication"
    check(page)
