"""The caseworker's side of steering in Chromium, at the issue's sizes (1280×800, 375×740):
the person page's "Pathway type" card (record a decision), the "No solution found" form, and
a hand-off to a partner whose capacity is "full" (the warning, the refusal without the box,
then the send with it). Each page checked by axe and for sideways scrolling."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.test_handoff_journeys import HANDOFF_URL, ML, log_in, visit
from tests.browser.test_handoff_suggestions import record_childcare_barrier, register_single_parent
from tests.browser.test_steering import at_issue_size, no_sideways_scroll

pytestmark = pytest.mark.browser

EPIDE_NAME = "EPIDE"  # its card says "full" for the whole structure (app/demo/directory.py)


def check(page: Any, name: str) -> None:
    visit(page, name)
    no_sideways_scroll(page)


def test_decision_no_solution_and_a_full_partner(page: Any) -> None:
    from playwright.sync_api import expect

    at_issue_size(page)
    log_in(page, ML)
    person = register_single_parent(page)
    record_childcare_barrier(page)

    # The "Pathway type" card: nothing decided yet, then a decision recorded.
    expect(page.locator("#no-decision")).to_be_visible()
    page.locator("#decide a").click()  # the form on its own page
    page.wait_for_url(re.compile(rf"/people/{person.pseudonym}/decisions$"))
    check(page, "decision-form")
    page.locator("#decision select[name='decision-pathway_type']").select_option(
        value="socio_professional"
    )
    page.locator("#decision button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/people/{person.pseudonym}#decision-title$"))
    expect(page.locator("#current-pathway-type")).to_have_attribute(
        "data-pathway-type", "socio_professional"
    )
    expect(page.locator("#decision-history tbody tr")).to_have_count(1)
    check(page, "decision-recorded")

    # "No solution found": the form, then the need in the timeline.
    page.locator("#no-solution-link").click()
    page.wait_for_url(re.compile(rf"/handoffs/no-solution/{person.pseudonym}$"))
    check(page, "no-solution-form")
    need = page.locator("#no-solution-form select").first
    need.select_option(index=1)
    page.locator("#no-solution-form button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/people/{person.pseudonym}"))
    expect(page.locator("[data-unmet-need=childcare]").first).to_be_visible()
    check(page, "no-solution-recorded")

    # A hand-off to a partner that says it is full: warned, refused without the box.
    page.goto(f"/handoffs/new/{person.pseudonym}")
    page.locator("input[name=purpose][value='stage:training']").check()
    option = page.locator("#to_structure option").filter(has_text=EPIDE_NAME)
    page.locator("#to_structure").select_option(value=option.first.get_attribute("value"))
    page.locator("#note").fill("Souhaite une formation avec hébergement.")
    page.locator("#consent_confirmed").check()
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state("load")
    expect(page.locator("#full-partner")).to_be_visible()
    assert re.search(r"/handoffs/new/", page.url)
    check(page, "handoff-full-partner")
    page.locator("#consent_confirmed").check()
    page.locator("#send_to_full").check()
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_url(HANDOFF_URL)
    check(page, "handoff-sent-to-full-partner")
