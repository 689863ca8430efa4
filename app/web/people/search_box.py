"""The caseload's search box: what was typed is kept out of the URL.

A search is posted, kept sealed in the session (``app.crypto.session_values``) and the browser
is sent to ``/people/?search=1``: the results page is a GET that the back button, a reload and
the page links reach again, and the name typed never enters a URL, the browser history or an
access log.
"""

from __future__ import annotations

from flask import current_app, request, session

from app.crypto.session_values import open_text, seal_text

_KEY = "people_search"
_PURPOSE = "people-search"
MARKER = "search"  # the query-string flag of a results page


def remember(text: str) -> None:
    session[_KEY] = _seal(text)


def forget() -> None:
    session.pop(_KEY, None)


def recalled() -> str | None:
    """The search to show on this page: the one kept, on a results page only."""
    if request.args.get(MARKER) != "1":
        return None
    return open_text(current_app.config["SECRET_KEY"], _PURPOSE, session.get(_KEY))


def _seal(text: str) -> str:
    return seal_text(current_app.config["SECRET_KEY"], _PURPOSE, text)
