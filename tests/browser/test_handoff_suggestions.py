"""The directory in the browser: the hand-off form suggests the partners that fit first, and the
directory's pages pass axe.

A Mission Locale caseworker registers a single parent living in Les Vergers (Offemont), records
a childcare barrier, chooses it as the purpose of a hand-off and asks for suggestions: the
childcare partners covering that neighbourhood come first, with their free places, and the
hand-off goes to the first one.

Set ``RELAIS_SCREENSHOTS`` to a folder to get full-page screenshots of the pages visited.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.test_handoff_journeys import (
    HANDOFF_URL,
    ML,
    PERSON_URL,
    Person,
    _paris_today,
    log_in,
    send_handoff_form,
    signed_in,
    visit,
)

pytestmark = pytest.mark.browser

COORDINATOR = "coordination@relais.demo"
GARDE_NAME = "Les Petits Pas"
CD_NAME = "Conseil départemental"
CHILDCARE = re.compile(r"Garde d'enfants|Childcare")
FREE_PLACES = re.compile(r"\d+ (places? libres?|free places?)")


def register_single_parent(page: Any) -> Person:
    """A single parent living in Les Vergers (Offemont), with oral consent."""
    person = Person.fictional()
    page.goto("/people/new")
    page.locator("#last_name").fill(person.last_name)
    page.locator("#first_name").fill(person.first_name)
    birth = _paris_today().replace(year=_paris_today().year - 31, day=1)
    page.locator("#birth_date").fill(birth.isoformat())
    page.locator("#email").fill(person.email)
    page.locator("input[name=cohorts][value=single_parent]").check()
    page.locator("#qpv").select_option(value="QN09004X")
    page.get_by_role("radio", name=re.compile(r"Given orally|oralement", re.I)).check()
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(PERSON_URL)
    pseudonym = page.locator("h1 code.pseudonym").inner_text().strip()
    return Person(person.last_name, person.first_name, person.email, pseudonym)


def record_childcare_barrier(page: Any) -> None:
    page.locator("#add-barrier a").click()  # the form on its own page
    page.wait_for_url(re.compile(r"/people/P-[A-Z0-9]{4}-[A-Z0-9]{4}/barriers$"))
    page.locator("#barrier-category").select_option(value="childcare")
    page.locator("#barrier button[type=submit]").click()
    page.wait_for_url(re.compile(r"/people/P-[A-Z0-9]{4}-[A-Z0-9]{4}#barriers-title$"))


def test_the_handoff_form_suggests_matching_partners_first(page: Any) -> None:
    from playwright.sync_api import expect

    log_in(page, ML)
    person = register_single_parent(page)
    record_childcare_barrier(page)
    page.locator(f"a[href$='/handoffs/new/{person.pseudonym}']").click()
    page.wait_for_url(re.compile(rf"/handoffs/new/{person.pseudonym}$"))
    visit(page, "handoff-form-before-purpose")

    page.get_by_role("radio", name=CHILDCARE).check()
    page.locator("input[type=submit][name=suggest]").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("radio", name=CHILDCARE)).to_be_checked()
    visit(page, "handoff-form-suggestions")

    # The suggestions list and the select agree: the childcare partners of Les Vergers first.
    suggestions = page.locator("ol.suggestion-list > li")
    expect(suggestions).to_have_count(2)
    expect(suggestions.nth(0)).to_contain_text(GARDE_NAME)
    expect(suggestions.nth(0)).to_contain_text(FREE_PLACES)
    expect(suggestions.nth(1)).to_contain_text(CD_NAME)
    first_group = page.locator("#to_structure optgroup").first
    options = first_group.locator("option")
    expect(options).to_have_count(2)
    expect(options.nth(0)).to_contain_text(GARDE_NAME)
    # Its one service says it is full (the details above show it): the list says what the
    # send would then say, not the free places of the structure.
    expect(options.nth(0)).to_contain_text("— complet")
    expect(options.nth(1)).to_contain_text(CD_NAME)
    others = page.locator("#to_structure optgroup").nth(1).locator("option")
    assert others.count() >= 15
    assert page.locator("#to_structure option", has_text="Mission Locale").count() == 0

    # The card opens from the suggestion, in a new tab.
    with page.context.expect_page() as opened:
        suggestions.nth(0).get_by_role("link").click()
    card = opened.value
    card.wait_for_load_state("load")
    expect(card.get_by_role("heading", level=1)).to_contain_text(GARDE_NAME)
    visit(card, "directory-card-from-suggestion")
    card.close()

    page.locator("#to_structure").select_option(value=options.nth(0).get_attribute("value"))
    page.locator("#note").fill("Recherche une place de crèche pour reprendre une formation.")
    page.locator("#consent_confirmed").check()
    send_handoff_form(page)
    page.wait_for_url(HANDOFF_URL)
    expect(page.locator(".flash-success")).to_contain_text("envoyée aux Petits Pas")
    visit(page, "handoff-sent-to-suggestion")


def test_the_directory_pages(page: Any, browser: Any, live_server: str) -> None:
    from playwright.sync_api import expect

    log_in(page, ML)
    page.get_by_role("link", name=re.compile(r"^(Annuaire|Directory)$")).click()
    page.wait_for_url(re.compile(r"/directory/$"))
    page.locator("#filter-barrier").select_option(value="childcare")
    page.locator("#filter-qpv").select_option(value="QN09004X")
    page.locator("form.directory-search button[type=submit]").click()
    page.wait_for_load_state("load")
    results = page.locator("ul.directory-results > li h2")
    expect(results).to_have_count(2)
    texts = results.all_inner_texts()
    assert any(t.startswith(CD_NAME) for t in texts)
    assert any(t.startswith(GARDE_NAME) for t in texts)
    visit(page, "directory-search")
    page.goto("/directory/ML90")
    visit(page, "directory-own-card")
    page.get_by_role("link", name=re.compile(r"Modifier la fiche|Edit the card")).click()
    page.wait_for_url(re.compile(r"/directory/ML90/edit$"))
    visit(page, "directory-edit")
    page.goto("/network-events/")
    visit(page, "network-events")

    with signed_in(browser, live_server, COORDINATOR, page.viewport_size) as coordinator:
        coordinator.goto("/network-events/")
        coordinator.locator("table.data tbody tr th a").first.click()
        coordinator.wait_for_load_state("load")
        expect(coordinator.locator("#cooperation-title")).to_be_visible()
        visit(coordinator, "network-event")
        coordinator.goto("/network-events/new")
        visit(coordinator, "network-event-form")
