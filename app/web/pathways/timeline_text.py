"""The words of a person's timeline, translated once per page rather than once per entry.

A timeline of two hundred entries asked the translations for each sentence and formatted each
date again (about 530 translation calls and 320 date formats on one page). ``TimelineWords``
translates each sentence once and keeps each formatted date, label and structure phrase the
first time it is asked, for the length of one page. A sentence is ``Markup``, as Jinja's own
``_()`` returns it, so that the values put in it are escaped the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from markupsafe import Markup

from app.domain.french import StructurePhrases
from app.models import ReferenceItem, Structure
from app.web.context import label, named
from app.web.labels import enum_label


def _sentences() -> dict[str, str]:
    return {
        "start": _("Follow-up starts at %(structure)s"),
        "end": _("Follow-up ends at %(structure)s"),
        "stage": _("Stage: %(stage)s"),
        "employer": _("employer: %(employer)s"),
        "barrier": _("Barrier identified: %(category)s"),
        "decision": _("Pathway type decided: %(type)s"),
        "closed": _("Barrier %(category)s: %(status)s"),
        "event": _("%(event)s: %(sender)s → %(receiver)s"),
        "later": _("recorded on %(date)s"),
        "no_solution": _("No partner found for %(need)s"),
    }


@dataclass
class TimelineWords:
    """What the timeline's entries say, each translated or formatted once for the page."""

    sentences: dict[str, Markup]
    _days: dict[date, str] = field(default_factory=dict)
    _labels: dict[int, str] = field(default_factory=dict)
    _enums: dict[Enum, str] = field(default_factory=dict)
    _names: dict[int, StructurePhrases] = field(default_factory=dict)

    def say(self, key: str, **values: Any) -> Markup:
        """The sentence ``key`` with ``values`` (escaped) in its place holders."""
        return self.sentences[key] % values

    def day(self, on: date) -> str:
        if on not in self._days:
            self._days[on] = format_date(on)
        return self._days[on]

    def label(self, item: ReferenceItem | None) -> str:
        if item is None:
            return label(None)
        if item.id not in self._labels:
            self._labels[item.id] = label(item)
        return self._labels[item.id]

    def enum(self, member: Enum | None) -> str:
        if member is None:
            return enum_label(None)
        if member not in self._enums:
            self._enums[member] = enum_label(member)
        return self._enums[member]

    def named(self, structure: Structure | None) -> StructurePhrases:
        if structure is None:
            return named(None)
        if structure.id not in self._names:
            self._names[structure.id] = named(structure)
        return self._names[structure.id]


def timeline_words() -> TimelineWords:
    """The words of one page's timeline, in the request's language."""
    return TimelineWords({key: Markup(text) for key, text in _sentences().items()})  # noqa: S704
