"""The pages under Relais's Content-Security-Policy as browsers enforce it: nothing blocked.

Every browser test enforces the policy (``tests.browser.conftest.new_context``; the
caseworker's pages are toured by ``test_small_screens``); these tours visit the coordinator's
and the administrator's pages the journeys do not, and check what the policy once broke
unseen while the tests bypassed it: the report's print button (an inline ``onclick``, which
did nothing) and the network matrix's drawn width (an inline ``style``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import new_context, second_factor_code
from tests.browser.test_journeys import PASSWORD

pytestmark = pytest.mark.browser

COORDINATOR = "coordination@relais.demo"
ADMIN = "admin@relais.demo"
DESKTOP = {"width": 1366, "height": 768}


@contextmanager
def enforced(browser: Any, live_server: str, email: str) -> Iterator[tuple[Any, list[str]]]:
    """A page signed in as ``email`` with the policy enforced, and the violations it reports
    (Chromium's console errors naming the policy)."""
    context = new_context(browser, base_url=live_server, viewport=DESKTOP)
    try:
        page = context.new_page()
        blocked: list[str] = []

        def seen(message: Any) -> None:
            if message.type == "error" and "Content Security Policy" in message.text:
                blocked.append(f"{page.url}: {message.text[:160]}")

        page.on("console", seen)
        page.goto("/login")
        page.get_by_label("Adresse e-mail").fill(email)
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        parts = urlsplit(page.url)
        code = second_factor_code(f"{parts.scheme}://{parts.netloc}", email)
        if code is not None:
            page.wait_for_url(re.compile(r"/login/code$"))
            page.fill("#code", code)
            page.locator("main form button[type=submit]").click()
        page.wait_for_url(re.compile(r"/(work|pathways|admin/structures)/?$"))
        yield page, blocked
    finally:
        context.close()


def _tour(page: Any, blocked: list[str], paths: list[str]) -> None:
    for path in paths:
        answer = page.goto(path)
        assert answer is not None
        assert answer.status == 200, path
        page.wait_for_load_state("load")
    assert blocked == []


def test_the_coordinator_pages_need_nothing_the_policy_blocks(
    browser: Any, live_server: str
) -> None:
    with enforced(browser, live_server, COORDINATOR) as (page, blocked):
        pathway = page.locator("table.data tbody tr th a").first.get_attribute("href")
        assert pathway
        _tour(
            page,
            blocked,
            [
                pathway,
                "/dashboard/",
                "/dashboard/?view=publication",
                "/steering/",
                "/steering/delays",
                "/steering/lost",
                "/steering/unmet-needs",
                "/steering/report",
            ],
        )
        # The network's matrix keeps its drawn width (a width attribute, not an inline
        # style): wider than its region on this screen, it scrolls in it.
        matrix = page.goto("/dashboard/")
        assert matrix is not None
        drawn = page.locator(".network-heatmap svg").get_attribute("width")
        assert drawn
        shown = page.locator(".network-heatmap svg").evaluate(
            "e => e.getBoundingClientRect().width"
        )
        assert shown == pytest.approx(int(drawn), abs=1)
        assert blocked == []


def test_the_report_prints_from_its_button(browser: Any, live_server: str) -> None:
    """The report's "Imprimer (A4)" button, wired by ``static/report.js`` (no inline script),
    opens the browser's printing."""
    with enforced(browser, live_server, COORDINATOR) as (page, blocked):
        page.add_init_script("window.print = () => { window.relaisPrinted = true; };")
        page.goto("/steering/report")
        button = page.get_by_role("button", name="Imprimer (A4)")
        assert button.is_visible()
        button.click()
        assert page.evaluate("window.relaisPrinted === true")
        assert blocked == []


def test_the_admin_pages_need_nothing_the_policy_blocks(browser: Any, live_server: str) -> None:
    with enforced(browser, live_server, ADMIN) as (page, blocked):
        _tour(page, blocked, ["/admin/structures", "/admin/users", "/admin/reference"])
