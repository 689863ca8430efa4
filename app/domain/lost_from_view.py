"""Why a person is lost from view (docs/statistics.md, "People lost from view")."""

from __future__ import annotations

from enum import StrEnum


class LostReason(StrEnum):
    # No event from any partner (step, barrier, hand-off event, follow-up start) for N days.
    NO_NEWS = "no_news"
    # Some news, but a hand-off accepted long ago still has no first contact.
    NO_FIRST_CONTACT = "no_first_contact"
