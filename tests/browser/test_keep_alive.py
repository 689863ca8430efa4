"""Typing in a form keeps the session open (``app/static/keepalive.js``): the session ends after
30 minutes without a request, and what was typed in a long form would be lost when sent. When
it has ended all the same, the page says so while the person types, before they send."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session

from app.models import User, UserSession
from tests.browser.conftest import new_context
from tests.browser.test_journeys import sign_in

pytestmark = pytest.mark.browser

# An account no other browser test signs in with: its sessions are aged here.
ACCOUNT = "conseil@num90.demo"
ALIVE = re.compile(r"/account/alive$")


def _sessions_idle(database_url: str, email: str, minutes: int) -> None:
    """The account's open sessions, last seen ``minutes`` earlier than they were."""
    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            user_id = session.scalars(select(User.id).where(User.email == email)).one()
            for row in session.scalars(
                select(UserSession).where(
                    UserSession.user_id == user_id, UserSession.ended_at.is_(None)
                )
            ):
                session.execute(
                    update(UserSession)
                    .where(UserSession.id == row.id)
                    .values(last_seen_at=row.last_seen_at - timedelta(minutes=minutes))
                )
            session.commit()
    finally:
        engine.dispose()


def test_typing_keeps_the_session_and_an_ended_one_is_told_before_sending(
    browser: Any, live_server: str, browser_db: str
) -> None:
    context = new_context(browser, base_url=live_server, viewport={"width": 390, "height": 844})
    page = context.new_page()
    pings: list[int] = []
    page.on("response", lambda r: pings.append(r.status) if ALIVE.search(r.url) else None)
    try:
        sign_in(page, ACCOUNT)
        page.goto("/people/new")
        notice = page.locator("#keep-alive")
        assert notice.is_hidden()
        with page.expect_response(ALIVE) as first:
            page.locator("input[name=last_name]").type("Quin")
        assert first.value.status == 204
        page.locator("input[name=first_name]").type("Noé")
        page.wait_for_timeout(300)
        assert pings == [204]  # once, not at every key: at most every five minutes
        assert notice.is_hidden()

        # The page opened again, then left alone until the session ends.
        page.goto("/people/new")
        _sessions_idle(browser_db, ACCOUNT, minutes=31)
        with page.expect_response(ALIVE) as ended:
            page.locator("input[name=last_name]").type("Quintavalle")
        assert ended.value.status == 302  # to the sign-in page: the session is over
        notice.wait_for(state="visible")
        assert "Votre session a pris fin" in notice.inner_text()
        assert page.locator("input[name=last_name]").input_value() == "Quintavalle"
        # Sent all the same: the sign-in page says it once (the ping flashed nothing).
        page.locator("main form button[type=submit]").last.click()
        page.wait_for_url(re.compile(r"/login\?next="))
        assert page.locator(".flash").count() == 1
    finally:
        context.close()
