"""The CDE report in Chromium: printed to PDF on A4 (a sane number of pages), with no identity
and no pseudonym in it; with ``RELAIS_SCREENSHOTS`` set (``docs/screenshots``), screenshots of
the printed pages."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from app.domain.periods import Quarter
from tests.browser.test_handoff_journeys import (
    COORDINATOR,
    ML,
    _paris_today,
    register,
    signed_in,
)
from tests.browser.test_journeys import check_accessibility

pytestmark = pytest.mark.browser


def _pages(pdf: bytes) -> int:
    """The pages of a PDF Chromium wrote: its "/Type /Page" objects (not "/Pages")."""
    return len(re.findall(rb"/Type\s*/Page(?![a-z])", pdf))


def test_the_cde_report_prints_on_a4_without_identity(browser: Any, live_server: str) -> None:
    desktop = {"width": 1366, "height": 768}
    with signed_in(browser, live_server, ML, desktop) as page:
        person = register(page)  # a person of the quarter: counted, never named
    quarter = Quarter.of(_paris_today())
    with signed_in(browser, live_server, COORDINATOR, desktop) as page:
        pseudonyms = set(re.findall(r"P-[A-Z0-9]{4}-[A-Z0-9]{4}", page.goto("/pathways/").text()))
        page.goto("/steering/unmet-needs")
        page.locator("#link-cde-report").click()
        page.wait_for_url(re.compile(r"/steering/report$"))
        page.goto(f"/steering/report?quarter={quarter}")
        assert page.locator("#cde-report").get_attribute("data-quarter") == str(quarter)
        assert page.locator("#cde-report .report-section").count() == 7
        assert page.locator("#cde-report svg[role=img]").count() >= 1
        check_accessibility(page)
        html = page.content()
        for value in (*person.identity, person.pseudonym, *pseudonyms):
            assert value.lower() not in html.lower(), value
        # The last full quarter (the default) has the demo's figures: printed and shot.
        page.goto("/steering/report")
        for value in (*person.identity, person.pseudonym, *pseudonyms):
            assert value.lower() not in page.content().lower(), value
        page.emulate_media(media="print")
        assert not page.locator(".site-header").is_visible()
        assert not page.locator("#report-bundle").is_visible()
        page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
        if os.environ.get("RELAIS_SCREENSHOTS"):  # docs/screenshots: kept with the docs
            folder = Path(os.environ["RELAIS_SCREENSHOTS"])
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / "cde-report-print.png"), full_page=True)
            page.locator("#report-outcomes").screenshot(
                path=str(folder / "cde-report-outcomes.png")
            )
        pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF")
    # Seven sections, each from a new page, tables maybe spilling over: 7 to 20 pages.
    assert 7 <= _pages(pdf) <= 20, _pages(pdf)
    for value in (*person.identity, person.pseudonym):
        assert value.encode() not in pdf
