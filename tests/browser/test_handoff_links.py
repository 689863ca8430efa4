"""A structure without an account answers a hand-off from the link in its mail (issue 13,
item 1), in a real browser: the Mission Locale hands a person off to Mobilité 90, whose only
caseworker account is closed; the administrator reads the queued mail in the development
outbox; a browser with no session opens the link, reads the hand-off without the identity,
accepts it, reports the first contact; the Mission Locale sees the answer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import new_context, scratch_database, serve
from tests.browser.test_handoff_journeys import (
    ACCEPTED,
    IN_PROGRESS,
    ML,
    MOB_NAME,
    TRAINING_STAGE,
    assert_no_identity,
    expect_status,
    hand_off,
    register,
    signed_in,
    visit,
)
from tests.browser.test_journeys import sign_in

pytestmark = pytest.mark.browser

ADMIN = "admin@relais.demo"
MOB_ACCOUNT = "conseil@mob90.demo"
MOB_CONTACT = "accueil@mob90.demo"
LINK = re.compile(r"https?://[^\s]+/answer/[A-Za-z0-9_-]{40,}")
DESKTOP = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def link_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo network, Mobilité 90's caseworker account closed: it answers by link."""
    for database in scratch_database(tmp_path_factory, "links"):
        yield from serve(database, ["demo", "load"], ["users", "deactivate", MOB_ACCOUNT])


def _link_from_outbox(page: Any, pseudonym: str) -> str:
    """The answer link of the mail to Mobilité 90's contact address about ``pseudonym``."""
    page.goto("/dev/outbox")
    visit(page, "outbox")
    mail = page.locator("article.card").filter(has_text=MOB_CONTACT).filter(has_text=pseudonym)
    assert mail.count() == 1, f"{mail.count()} mails to {MOB_CONTACT} about {pseudonym}"
    found = LINK.search(mail.inner_text())
    assert found, "no answer link in the mail"
    # The mail's address is RELAIS_PUBLIC_BASE_URL's (development default); the path is the
    # link's, on this test server.
    return urlsplit(found.group(0)).path


def test_a_structure_without_an_account_answers_from_the_mailed_link(
    browser: Any, link_server: str
) -> None:
    with signed_in(browser, link_server, ML, DESKTOP) as sender:
        person = register(sender)
        handoff_path = hand_off(sender, person, MOB_NAME, TRAINING_STAGE, "Permis B à financer.")
        admin_context = new_context(browser, base_url=link_server, viewport=DESKTOP)
        try:
            admin = admin_context.new_page()
            sign_in(admin, ADMIN)
            admin.wait_for_url(re.compile(r"/(?!login)[^?]*$"))
            link = _link_from_outbox(admin, person.pseudonym)
        finally:
            admin_context.close()
        # The partner: no account, no session, only the link of its mail.
        context = new_context(browser, base_url=link_server, viewport=DESKTOP)
        try:
            partner = context.new_page()
            response = partner.goto(link)
            assert response is not None
            assert response.headers["referrer-policy"] == "no-referrer"
            visit(partner, "link-answer")
            assert person.pseudonym in partner.locator("h1").inner_text()
            assert "Permis B à financer." in partner.locator("[data-testid=link-note]").inner_text()
            assert_no_identity(partner, person)
            partner.locator("[data-testid=link-action-accept] button[type=submit]").click()
            partner.wait_for_selector("#account-invite")
            assert partner.url != link
            visit(partner, "link-accepted")
            assert_no_identity(partner, person)
            assert partner.locator("#put-in-touch").is_visible()
            # The first contact, from the follow-through link it landed on.
            partner.locator("[data-testid=link-action-first_contact] button[type=submit]").click()
            partner.wait_for_selector("[data-testid=link-action-complete]")
            assert_no_identity(partner, person)
            # The answer link no longer works: one clear page, nothing else.
            gone = partner.goto(link)
            assert gone is not None
            assert gone.status == 410
            assert partner.locator("[data-testid=link-invalid]").is_visible()
            assert person.pseudonym not in partner.content()
            visit(partner, "link-gone")
        finally:
            context.close()
        # The sender sees the answer.
        sender.goto(handoff_path)
        expect_status(sender, IN_PROGRESS)
        accepted = re.compile(ACCEPTED.pattern, re.IGNORECASE)
        assert accepted.search(sender.locator(".timeline").inner_text())
