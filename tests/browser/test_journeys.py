"""The main screens as people use them, with an accessibility check on every page visited."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import new_context, second_factor_code

pytestmark = pytest.mark.browser

PASSWORD = "relais-demo-2026"
SERIOUS = {"serious", "critical"}


DUPLICATE_IDS = """() => {
  const seen = {};
  document.querySelectorAll("[id]").forEach((e) => { seen[e.id] = (seen[e.id] || 0) + 1; });
  return Object.keys(seen).filter((id) => seen[id] > 1);
}"""


def check_accessibility(page: Any) -> None:
    """Fail on any serious or critical axe-core violation of the page, and on an id given to
    two elements (axe-core no longer reports them; a label or a link reaches the first only)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    violations = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
    summary = [(v["id"], v["impact"], len(v["nodes"])) for v in violations]
    assert not violations, f"{page.url}: {summary}"
    assert page.evaluate(DUPLICATE_IDS) == [], f"{page.url}: ids given twice"


def sign_in(page: Any, email: str) -> None:
    page.goto("/login")
    check_accessibility(page)
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    parts = urlsplit(page.url)
    code = second_factor_code(f"{parts.scheme}://{parts.netloc}", email)
    if code is not None:  # the coordinator and the administrator: the code after the password
        page.wait_for_url(re.compile(r"/login/code$"))
        page.fill("#code", code)
        page.locator("main form button[type=submit]").click()


def test_caseworker_sees_people_with_identity(page: Any) -> None:
    sign_in(page, "conseil@ml90.demo")
    page.wait_for_url(re.compile(r"/work/$"))
    assert page.get_by_role("heading", level=1).inner_text().startswith("À faire")
    check_accessibility(page)
    page.get_by_role("link", name="Personnes suivies").first.click()
    page.wait_for_url(re.compile(r"/people/$"))
    assert page.get_by_role("heading", level=1).inner_text().startswith("Personnes suivies")
    check_accessibility(page)
    first = page.locator("table.data tbody tr th a").first
    name = first.inner_text()
    first.click()
    assert page.get_by_role("heading", level=1).inner_text().startswith(name)
    assert page.get_by_role("heading", name="Identité").is_visible()
    assert page.get_by_role("heading", name="Chronologie").is_visible()
    check_accessibility(page)


def test_coordinator_sees_pathways_without_identity(page: Any, browser: Any) -> None:
    # Collect the names the Mission Locale sees, then look for them in the coordinator's pages.
    sign_in(page, "conseil@ml90.demo")
    page.wait_for_url(re.compile(r"/work/$"))
    page.goto("/people/")
    names = [n.split(" ")[-1] for n in page.locator("table.data tbody tr th a").all_inner_texts()]
    pseudonym = page.locator("code.pseudonym").first.inner_text()
    assert names
    page.context.clear_cookies()
    sign_in(page, "coordination@relais.demo")
    page.wait_for_url(re.compile(r"/pathways/$"))
    check_accessibility(page)
    page.goto(f"/pathways/{pseudonym}")
    assert pseudonym in page.get_by_role("heading", level=1).inner_text()
    check_accessibility(page)
    for visited in ("/pathways/", "/pathways/?page=2", f"/pathways/{pseudonym}"):
        page.goto(visited)
        text = page.content()
        for last_name in names:
            assert last_name not in text, f"{last_name} shown on {visited}"


def test_admin_pages_and_language_switch(page: Any) -> None:
    sign_in(page, "admin@relais.demo")
    page.wait_for_url(re.compile(r"/admin/structures$"))
    assert page.locator("table.data tbody tr").count() >= 20
    check_accessibility(page)
    for link in ("Comptes", "Listes de référence"):
        page.get_by_role("link", name=link, exact=True).click()
        check_accessibility(page)
    page.get_by_role("button", name="English").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Reference lists"
    page.get_by_role("link", name="Accounts", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Accounts"
    # The account keeps its choice: back to French, for the other tests of the run, which
    # sign in with the same demo accounts.
    page.get_by_role("button", name="Français").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Comptes"


def test_pages_work_with_the_keyboard_and_without_javascript(
    browser: Any, live_server: str
) -> None:
    context = new_context(browser, base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/login")
        page.keyboard.press("Tab")
        assert page.locator(":focus").get_attribute("class") == "skip-link"
        page.fill("#email", "conseil@ml90.demo")
        page.fill("#password", PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/work/$"))
        page.get_by_role("button", name="Se déconnecter").click()
        page.wait_for_url(re.compile(r"/login$"))
    finally:
        context.close()
