"""The pathway chart in Chromium: a busy single day and a long pathway, on an office screen and
on a phone. On the screen the chart shows, its same-day marks side by side (their boxes never
overlap), its legend inside the drawing and in colour on paper, each mark a link the keyboard
reaches to its line of the chronology; on the phone the chronology replaces it.

Set ``RELAIS_SCREENSHOTS`` to a folder (``docs/screenshots``) to keep the screenshots:
``pathway-one-day-desktop.png``, ``pathway-long-phone.png``, ``pathway-one-day-print.png``...
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import _FLASK, ROOT, new_context, scratch_database, serve
from tests.browser.test_journeys import check_accessibility, sign_in

pytestmark = pytest.mark.browser

COORDINATOR = "coordination@relais.demo"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
# The boxes of the chart's marks on the page: the shape of each link (not its focus ring).
MARK_BOXES = """() => [...document.querySelectorAll('.timeline-chart a.mark')].map(a => {
  const shape = a.querySelector(':scope > :not(title):not(.ring)');
  const box = a.classList.contains('arrow') ? a.querySelector('path').getBoundingClientRect()
                                            : shape.getBoundingClientRect();
  return {href: a.getAttribute('href'), span: shape.classList.contains('span'),
          x: box.x, y: box.y, w: box.width, h: box.height};
})"""


@pytest.fixture(scope="module")
def chart_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """The demo network plus a busy single day and a long pathway (tests/pathway_scenes.py),
    added by a process of their own; yields the base URL and their pseudonyms."""
    for database in scratch_database(tmp_path_factory, "charts"):
        for base in serve(database, ["demo", "load"]):
            _flask, env = _FLASK[base]
            done = subprocess.run(
                [sys.executable, "-m", "tests.browser.seed_pathways"],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
                timeout=300,
            )
            yield base, json.loads(done.stdout.strip().splitlines()[-1])


def _shot(target: Any, name: str) -> None:
    folder = os.environ.get("RELAIS_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        target.screenshot(path=str(Path(folder) / f"{name}.png"))


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    """Whether two boxes overlap by more than half a pixel each way."""
    return (
        min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"]) > 0.5
        and min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"]) > 0.5
    )


def _check_chart(page: Any, name: str) -> None:
    chart = page.locator(".timeline-chart")
    assert chart.is_visible()
    # The legend is part of the drawing: every stage, the hand-off states, the barriers...
    assert page.locator(".timeline-chart svg .legend-box .key").count() >= 18
    assert page.locator("figcaption.legend").count() == 0
    boxes = page.evaluate(MARK_BOXES)
    assert boxes
    for a, b in combinations(boxes, 2):
        if a["span"] and b["span"] and abs(a["y"] - b["y"]) > 1:
            continue  # stage bars of two lanes
        assert not _overlap(a, b), f"{name}: {a['href']} and {b['href']} overlap"
    # Every mark leads to a line of the chronology.
    for box in boxes:
        assert page.locator(box["href"]).count() == 1
    _shot(chart, f"pathway-{name}-desktop")


def _keyboard_reaches_a_mark(page: Any) -> None:
    """Tab until a mark of the chart has the focus; Enter goes to its line of the chronology."""
    for _ in range(120):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('.timeline-chart a.mark')"):
            break
    else:
        pytest.fail("Tab never reached a mark of the chart")
    href = page.evaluate("document.activeElement.getAttribute('href')")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineWidth")
    assert outline == "3px"  # the focus shows
    _shot(page.locator(".timeline-chart"), "pathway-one-day-focus")
    page.keyboard.press("Enter")
    page.wait_for_function(f"location.hash === '{href}'")
    entry = page.locator(href)
    assert entry.evaluate("e => e.matches(':target')")
    box = entry.bounding_box()
    assert box is not None
    assert 0 <= box["y"] < page.viewport_size["height"]


def _dashboard_labels_are_whole(page: Any) -> None:
    """The dashboard's bar labels (long decline reasons, structure names) wrap inside the
    chart: none starts left of its drawing."""
    page.goto("/dashboard/")
    cut = page.evaluate(
        """() => [...document.querySelectorAll('.dash-chart svg text.row-label')].filter(t => {
             const svg = t.ownerSVGElement.getBoundingClientRect();
             return t.getBoundingClientRect().x < svg.x - 0.5;
           }).map(t => t.textContent)"""
    )
    assert page.locator(".dash-chart svg text.row-label").count() > 0
    assert cut == []
    _shot(
        page.locator("figure.dash-chart", has=page.locator("#reasons-title")), "dashboard-reasons"
    )


def test_pathway_chart_on_screen_phone_and_paper(
    browser: Any, chart_server: tuple[str, dict[str, str]]
) -> None:
    base, pseudonyms = chart_server
    context = new_context(browser, base_url=base, viewport=DESKTOP)
    page = context.new_page()
    sign_in(page, COORDINATOR)
    page.wait_for_url(f"{base}/pathways/")
    for name, key in (("one-day", "one_day"), ("long", "long")):
        page.goto(f"/pathways/{pseudonyms[key]}")
        check_accessibility(page)
        _check_chart(page, name)
    page.goto(f"/pathways/{pseudonyms['one_day']}")
    _keyboard_reaches_a_mark(page)
    # On paper: the chart and its legend keep their colours.
    page.emulate_media(media="print")
    key = page.locator(".timeline-chart .legend-box .span.stage-employment")
    assert key.evaluate("e => getComputedStyle(e).fill") == "rgb(79, 157, 105)"
    _shot(page.locator(".timeline-chart"), "pathway-one-day-print")
    page.emulate_media(media="screen")
    _dashboard_labels_are_whole(page)
    state = context.storage_state()
    context.close()

    phone = new_context(browser, base_url=base, viewport=PHONE, storage_state=state)
    page = phone.new_page()
    for name, key in (("one-day", "one_day"), ("long", "long")):
        page.goto(f"/pathways/{pseudonyms[key]}")
        check_accessibility(page)
        assert page.locator(".timeline-chart").is_hidden()
        timeline = page.locator("ol.timeline")
        assert timeline.is_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        for entry in timeline.locator("li").all():  # every line within the screen's width
            box = entry.bounding_box()
            assert box is not None
            assert box["x"] >= 0
            assert box["x"] + box["width"] <= PHONE["width"]
        page.locator("#timeline-title").scroll_into_view_if_needed()
        page.evaluate("document.getElementById('timeline-title').scrollIntoView()")
        _shot(page, f"pathway-{name}-phone")
    phone.close()
