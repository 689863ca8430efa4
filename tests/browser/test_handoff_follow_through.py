"""Following hand-offs through in the browser, axe on every page, at both sizes: the sender
reorients a declined hand-off (the form pre-filled) and sees when it may remind; a partner that
lifted a barrier is asked whether its follow-up ends, and ends it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.test_handoff_journeys import (
    EPIDE,
    EPIDE_NAME,
    HANDOFF_URL,
    TRAINING_STAGE,
    act,
    hand_off,
    log_in,
    register,
    signed_in,
    visit,
)
from tests.browser.test_handoff_suggestions import record_childcare_barrier

pytestmark = pytest.mark.browser

ML = "conseil@ml90.demo"
GARDE = "conseil@garde90.demo"
GARDE_NAME = "Petits Pas"
DECLINED = re.compile(r"Refusée|Declined")
COMPLETED = re.compile(r"Aboutie|Completed")
CHILDCARE = re.compile(r"Garde d'enfants|Childcare")


def test_a_declined_hand_off_is_reoriented_and_a_pending_one_reminded_later(
    page: Any, browser: Any, live_server: str
) -> None:
    from playwright.sync_api import expect

    note = "Internat souhaité, disponible dès lundi."
    log_in(page, ML)
    person = register(page)
    path = hand_off(page, person, EPIDE_NAME, TRAINING_STAGE, note)
    # Just sent: the reminder waits a few days, and says until when.
    remind = page.locator("form#remind")
    expect(remind).to_contain_text(re.compile(r"Prochaine relance possible|Next reminder"))
    assert remind.locator("button").count() == 0
    # The sender follows the person: the hand-off names them (not in the page's title).
    expect(page.get_by_role("heading", level=1)).to_contain_text(person.last_name.upper())
    assert person.last_name.lower() not in page.title().lower()

    with signed_in(browser, live_server, EPIDE, page.viewport_size) as receiver:
        receiver.goto(path)
        receiver.locator("#decline-reason").select_option(value="no_capacity")
        act(receiver, "decline", DECLINED)

    page.goto(path)
    page.get_by_role("link", name=re.compile(r"Réorienter|Reorient")).click()
    page.wait_for_url(re.compile(rf"/handoffs/new/{person.pseudonym}\?reorient=[0-9a-f]{{32}}$"))
    expect(page.locator("#reorienting")).to_contain_text(EPIDE_NAME)
    expect(page.get_by_role("radio", name=TRAINING_STAGE)).to_be_checked()
    expect(page.locator("#note")).to_have_value(note)
    assert page.locator("#to_structure option", has_text=EPIDE_NAME).count() == 0
    visit(page, "reorient-form")
    option = page.locator("#to_structure option", has_text="2e chance")
    page.locator("#to_structure").select_option(value=option.get_attribute("value"))
    page.locator("#consent_confirmed").check()
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(HANDOFF_URL)
    expect(page.locator(".flash-success")).to_contain_text("2e chance")
    visit(page, "reoriented")


def test_the_partner_that_lifted_a_barrier_ends_its_follow_up(
    page: Any, browser: Any, live_server: str
) -> None:
    from playwright.sync_api import expect

    log_in(page, ML)
    person = register(page)
    record_childcare_barrier(page)
    path = hand_off(page, person, GARDE_NAME, CHILDCARE, "Place en crèche pour reprendre.")

    with signed_in(browser, live_server, GARDE, page.viewport_size) as partner:
        partner.goto(path)
        act(partner, "accept", re.compile(r"Acceptée|Accepted"))
        act(partner, "first_contact", re.compile(r"En cours|In progress"))
        partner.locator("#complete-outcome").select_option(value="barrier_lifted")
        act(partner, "complete", COMPLETED)
        question = partner.locator("#follow-up")
        expect(question).to_contain_text(person.last_name.upper())
        visit(partner, "follow-up-question")
        question.get_by_role("button", name=re.compile(r"Terminer notre suivi|End our")).click()
        expect(partner.locator(".flash-success")).to_contain_text(
            re.compile(r"est terminé|has ended")
        )
        assert partner.locator("#follow-up").count() == 0
        expect(partner.locator("#history-title + ol")).to_contain_text(
            re.compile(r"Suivi terminé|Follow-up ended")
        )
        visit(partner, "follow-up-ended")

    # The sender sees, in the history, that the partner's follow-up ended.
    page.goto(path)
    expect(page.locator("#history-title + ol")).to_contain_text(
        re.compile(r"Suivi terminé|Follow-up ended")
    )
    assert page.locator("#follow-up").count() == 0  # the sender is not asked
