"""A structure's own figures beside the network's, in Chromium, on the demo network."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest

from tests.browser.test_journeys import check_accessibility, sign_in

pytestmark = pytest.mark.browser


def test_a_caseworker_reads_the_figures_of_the_structure(page: Any) -> None:
    sign_in(page, "conseil@ml90.demo")
    page.wait_for_url(re.compile(r"/work/$"))
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator("[data-testid=nav-my-structure]").click()
    page.locator("a[data-tab='figures.index']").click()
    page.wait_for_url(re.compile(r"/structures/[^/]+/figures$"))
    assert page.locator("#view-note").get_attribute("data-view") == "publication"
    assert page.locator("#partner-figures tr[data-indicator]").count() == 12
    assert page.locator(".partner-chart svg[role=img]").count() == 1
    check_accessibility(page)
    if os.environ.get("RELAIS_SCREENSHOTS"):
        page.screenshot(
            path=os.environ["RELAIS_SCREENSHOTS"] + "/partner-figures.png", full_page=True
        )
    # A phone: the same page, readable (the tables scroll in their own region).
    page.set_viewport_size({"width": 390, "height": 844})
    check_accessibility(page)
    with page.expect_download() as download:
        page.locator("[data-testid=figures-export]").click()
    assert "publication" in download.value.suggested_filename
