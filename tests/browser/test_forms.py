"""Forms in Chromium, on an office screen and on a phone: the error summary, its links to the
fields, the values kept, and the rights' confirmation step; axe on every page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.test_journeys import check_accessibility, sign_in

pytestmark = pytest.mark.browser


def _fits(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


def test_registration_errors_are_summarised_and_linked(page: Any) -> None:
    from playwright.sync_api import expect

    sign_in(page, "conseil@ml90.demo")
    page.wait_for_url(re.compile(r"/(people|work)/"))
    page.goto("/people/new")
    page.locator("#phone").fill("12")
    page.locator("#address").fill("3 rue des Glycines")
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state("load")
    assert page.title().startswith("Erreur : ")
    summary = page.locator(".error-summary")
    expect(summary.get_by_role("heading")).to_have_text("4 erreurs à corriger")
    expect(page.locator("#address")).to_have_value("3 rue des Glycines")
    expect(page.locator("#phone")).to_have_value("12")
    check_accessibility(page)
    _fits(page)
    summary.get_by_role("link", name=re.compile("^Téléphone")).click()
    assert page.evaluate("document.activeElement.id") == "phone"


def test_rights_come_last_and_ask_first(page: Any) -> None:
    from playwright.sync_api import expect

    sign_in(page, "conseil@ml90.demo")
    page.wait_for_url(re.compile(r"/(people|work)/"))
    page.goto("/people/")
    page.locator("table.data tbody tr th a").first.click()
    page.wait_for_url(re.compile(r"/people/P-"))
    person_url = page.url
    # The form opens on its own page; sent as it comes, it is refused: no reason is chosen
    # in advance.
    page.locator("#end-follow-up").click()
    page.wait_for_url(re.compile(r"/people/P-[A-Z0-9-]+/end$"))
    page.locator("#end button[type=submit]").click()
    page.wait_for_load_state("load")
    assert page.title().startswith("Erreur : ")
    expect(page.locator(".error-summary a")).to_have_attribute("href", "#end-reason")
    check_accessibility(page)
    _fits(page)
    # Back on the person's page by its breadcrumb: nothing ended.
    page.locator(".breadcrumb a").click()
    page.wait_for_url(person_url)
    expect(page.locator("#end-follow-up")).to_be_visible()
    rights = page.locator("#rights")
    expect(page.locator("main > section").last).to_have_id("rights")
    rights.get_by_role("link", name="Droit d'accès : exporter le dossier").click()
    page.wait_for_url(re.compile(r"/access-report$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Exporter tout le dossier")
    check_accessibility(page)
    _fits(page)
    page.get_by_role("button", name="Afficher le dossier pour l'imprimer").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tout ce que Relais")
    check_accessibility(page)
