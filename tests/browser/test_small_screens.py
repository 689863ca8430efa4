"""Phones and small screens: reflow without horizontal scrolling (WCAG 1.4.10), the chronology
instead of the pathway chart under 600 px, and a focus outline that stands out everywhere."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import new_context
from tests.browser.test_journeys import check_accessibility, sign_in

pytestmark = pytest.mark.browser

CASEWORKER = "conseil@ml90.demo"
COORDINATOR = "coordination@relais.demo"
CASEWORKER_HOME = re.compile(r"/work/$")  # the work queue ("À faire")
WHITE = (255, 255, 255)
HEADER_BLUE = (0x14, 0x50, 0x7A)


def _context(browser: Any, live_server: str, width: int, height: int) -> Any:
    return new_context(browser, base_url=live_server, viewport={"width": width, "height": height})


@pytest.fixture
def caseworker_paths(browser: Any, live_server: str) -> Iterator[list[str]]:
    """The caseworker's pages, with a person and a hand-off of the demo found on the way."""
    context = _context(browser, live_server, 1366, 768)
    page = context.new_page()
    try:
        sign_in(page, CASEWORKER)
        page.wait_for_url(CASEWORKER_HOME)
        page.goto("/people/")
        person = page.locator("table.data tbody tr th a").first.get_attribute("href")
        page.goto("/handoffs/?box=out")
        handoff = page.locator("table.data tbody tr th a").first.get_attribute("href")
        assert person
        assert handoff
        pseudonym = person.rsplit("/", 1)[-1]
        yield [
            "/work/",
            "/people/",
            person,
            "/people/new",
            f"/people/{pseudonym}/edit",
            # The forms the person's page opens, each on its own page.
            f"/people/{pseudonym}/steps",
            f"/people/{pseudonym}/barriers",
            f"/people/{pseudonym}/decisions",
            f"/handoffs/new/{pseudonym}",
            "/handoffs/?box=in",
            "/handoffs/?box=out",
            handoff,
            "/directory/",
            "/directory/ML90",
            "/network-events/",
            "/import/",
            "/account/password",
            # After the lists: the pages that change who follows, and how partners reach them.
            f"/people/{pseudonym}/facts",
            "/people/hand-over",
            "/account/contact",
            # The structure's own pages (the demo caseworker manages the Mission Locale), the
            # person's access report, the account's sessions.
            "/structures/ML90/accounts",
            "/structures/ML90/api-tokens",
            "/structures/ML90/webhooks",
            "/structures/ML90/figures",
            f"/people/{pseudonym}/access-report",
            "/account/sessions",
        ]
    finally:
        context.close()


def _page_fits(page: Any) -> None:
    sizes = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert sizes[0] <= sizes[1], f"{page.url}: {sizes[0]} px wide in a {sizes[1]} px window"


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (390, 844), (320, 700)])
def test_caseworker_pages_reflow_without_horizontal_scrolling(
    browser: Any, live_server: str, caseworker_paths: list[str], width: int, height: int
) -> None:
    context = _context(browser, live_server, width, height)
    page = context.new_page()
    try:
        sign_in(page, CASEWORKER)
        page.wait_for_url(CASEWORKER_HOME)
        for path in caseworker_paths:
            answer = page.goto(path)
            assert answer is not None
            assert answer.status == 200, path
            _page_fits(page)
            check_accessibility(page)
    finally:
        context.close()


@pytest.mark.parametrize(("width", "height"), [(390, 844), (320, 700)])
def test_coordinator_pages_reflow_without_horizontal_scrolling(
    browser: Any, live_server: str, width: int, height: int
) -> None:
    context = _context(browser, live_server, width, height)
    page = context.new_page()
    try:
        sign_in(page, COORDINATOR)
        page.wait_for_url(re.compile(r"/pathways/$"))
        pathway = page.locator("table.data tbody tr th a").first.get_attribute("href")
        paths = ("/pathways/", pathway, "/dashboard/", "/directory/", "/network-events/")
        for path in (*paths, "/account/two-factor"):
            page.goto(path)
            _page_fits(page)
            check_accessibility(page)
    finally:
        context.close()


def test_login_reflows_at_320_px(browser: Any, live_server: str) -> None:
    context = _context(browser, live_server, 320, 700)
    page = context.new_page()
    try:
        page.goto("/login")
        _page_fits(page)
        check_accessibility(page)
    finally:
        context.close()


@pytest.mark.parametrize(("width", "chart_shown"), [(390, False), (599, False), (1366, True)])
def test_the_chronology_replaces_the_chart_on_small_screens(
    browser: Any, live_server: str, caseworker_paths: list[str], width: int, chart_shown: bool
) -> None:
    context = _context(browser, live_server, width, 900)
    page = context.new_page()
    try:
        sign_in(page, CASEWORKER)
        page.wait_for_url(CASEWORKER_HOME)
        page.goto(caseworker_paths[2])
        assert page.locator("svg.timeline-chart, .timeline-chart svg").is_visible() is chart_shown
        assert page.get_by_role("heading", name="Chronologie").is_visible()
        assert page.locator("ol.timeline").is_visible()
        page.context.clear_cookies()
        sign_in(page, COORDINATOR)
        page.wait_for_url(re.compile(r"/pathways/$"))
        page.locator("table.data tbody tr th a").first.click()
        page.wait_for_url(re.compile(r"/pathways/P-"))
        assert page.locator(".timeline-chart svg").is_visible() is chart_shown
        assert page.locator("ol.timeline").is_visible()
    finally:
        context.close()


FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const s = getComputedStyle(e);
  return {tag: e.tagName, text: (e.innerText || e.value || e.id || '').slice(0, 40),
          style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor,
          inHeader: !!e.closest('.site-header')};
}"""


def _rgb(css: str) -> tuple[int, int, int]:
    parts = [int(float(n)) for n in re.findall(r"[\d.]+", css)[:3]]
    return parts[0], parts[1], parts[2]


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: tuple[int, int, int], other: tuple[int, int, int]) -> float:
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_helper() -> None:
    assert round(contrast((0, 0, 0), WHITE), 1) == 21.0
    assert contrast((0xF2, 0xB7, 0x05), WHITE) < 3  # the old yellow focus ring


def test_keyboard_focus_is_outlined_at_3_to_1_everywhere(
    browser: Any, live_server: str, caseworker_paths: list[str]
) -> None:
    context = _context(browser, live_server, 1366, 768)
    page = context.new_page()
    try:
        sign_in(page, CASEWORKER)
        page.wait_for_url(CASEWORKER_HOME)
        seen = set()
        # The person's page (links, buttons, a select, a table region) and the page of one of
        # its forms (fields), which opens on its own page.
        for path in (caseworker_paths[2], f"{caseworker_paths[2]}/steps"):
            page.goto(path)
            for _ in range(60):
                page.keyboard.press("Tab")
                focused = page.evaluate(FOCUSED)
                if focused is None:
                    break
                seen.add(focused["tag"])
                where = f"{focused['tag']} {focused['text']!r}"
                assert focused["style"] != "none", f"no focus outline on {where}"
                assert focused["width"] >= 2, f"thin focus outline on {where}"
                background = HEADER_BLUE if focused["inHeader"] else WHITE
                ratio = contrast(_rgb(focused["color"]), background)
                assert ratio >= 3, f"focus outline at {ratio:.1f}:1 on {where}"
        assert {"A", "BUTTON", "SELECT", "INPUT"} <= seen, seen
    finally:
        context.close()


@pytest.mark.parametrize("path", ["/people/", "/handoffs/?box=out"])
def test_lists_stack_on_phones_and_stay_tables(browser: Any, live_server: str, path: str) -> None:
    context = _context(browser, live_server, 390, 844)
    page = context.new_page()
    try:
        sign_in(page, CASEWORKER)
        page.wait_for_url(CASEWORKER_HOME)
        page.goto(path)
        wrap = page.locator(".table-wrap").last
        # One block per row, nothing to scroll sideways, each cell under its column's name.
        assert wrap.evaluate("(e) => e.scrollWidth <= e.clientWidth")
        cell = page.locator("table.stack tbody td[data-label]").first
        label = cell.evaluate("(e) => getComputedStyle(e, '::before').content")
        assert label.strip('"') == cell.get_attribute("data-label")
        # Still a table for assistive technologies (Chromium's accessibility tree).
        nodes = page.context.new_cdp_session(page).send("Accessibility.getFullAXTree")["nodes"]
        roles = [n.get("role", {}).get("value") for n in nodes]
        rows = page.locator("table.stack tbody tr").count()
        assert roles.count("table") >= 1
        assert roles.count("rowheader") >= rows > 0
        assert roles.count("columnheader") >= 5
    finally:
        context.close()
