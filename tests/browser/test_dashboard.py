"""The coordinators' dashboard in Chromium, on the demo network."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_journeys import check_accessibility, sign_in

pytestmark = pytest.mark.browser


def shoot(page: Any, name: str) -> None:
    """A full-page screenshot when ``RELAIS_SCREENSHOTS`` names a folder."""
    folder = os.environ.get("RELAIS_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        width = page.viewport_size["width"]
        page.screenshot(path=str(Path(folder) / f"{name}-{width}.png"), full_page=True)


def test_coordinator_reads_the_dashboard_and_downloads_a_table(page: Any) -> None:
    sign_in(page, "coordination@relais.demo")
    page.wait_for_url(re.compile(r"/pathways/$"))
    page.get_by_role("link", name="Tableau de bord").click()
    page.wait_for_url(re.compile(r"/dashboard/$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Tableau de bord du réseau"
    for heading in (
        "Personnes entrant dans chaque étape",
        "Qui oriente vers qui",
        "Le réseau de coopération",
    ):
        assert page.get_by_role("heading", name=heading).is_visible()
    assert page.locator("svg[role=img]").count() >= 8
    # The cooperation network as a named heatmap, the quarterly trends with the network
    # events on their time axis, and the overdue hand-offs (exact view only) linking to
    # pathways.
    assert page.locator("#network-map svg[role=img] .cell").count() > 0
    assert page.locator("#trends svg[role=img] .trend-line").count() == 8
    assert page.locator("#trends .event-mark").count() >= 1
    assert page.locator("#overdue a[href^='/pathways/']").count() >= 1
    check_accessibility(page)
    shoot(page, "dashboard-exact")

    # Every chart has a table: open one, it is there with its caption.
    page.get_by_text("Tableau des freins par catégorie").click()
    assert page.get_by_role(
        "table", name="Freins repérés, par catégorie et statut actuel"
    ).is_visible()

    # Filters: an impossible period is refused with a message next to the field.
    page.get_by_role("textbox", name="Période du").fill("2026-06-01")
    page.get_by_role("textbox", name="Période au").fill("2026-01-01")
    page.get_by_role("button", name="Afficher").click()
    message = "Le début de la période doit précéder sa fin."
    assert page.locator("#start-error").inner_text() == message
    # Listed at the top of the page too, linked to the field, and said in the title.
    assert page.locator(".error-summary a[href='#start']").inner_text().endswith(message)
    assert page.title().startswith("Erreur : ")
    check_accessibility(page)

    page.get_by_role("textbox", name="Période du").fill("2025-01-01")
    page.get_by_role("textbox", name="Période au").fill("2026-11-25")
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_url(re.compile(r"start=2025-01-01"))
    # The exact figures by default; the publication view keeps the filters, and says so.
    assert page.locator("#view-note").get_attribute("data-view") == "exact"
    page.locator("#view-publication").click()
    page.wait_for_url(re.compile(r"view=publication"))
    assert "start=2025-01-01" in page.url
    assert page.locator("#view-note").get_attribute("data-view") == "publication"
    assert page.locator("#overdue").count() == 0
    check_accessibility(page)
    shoot(page, "dashboard-publication")
    with page.expect_download() as download:
        page.locator("a[href*='/dashboard/export/funnel.csv']").click()
    saved = download.value
    assert saved.suggested_filename == "relais-funnel-publication-2025-01-01-2026-11-25.csv"
    content = Path(saved.path()).read_text(encoding="utf-8-sig")
    assert content.splitlines()[0].startswith('"code";"Libellé";"Personnes"')
