"""The forms of a card's capacity statuses, and the statuses a card page shows."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField
from wtforms.validators import Optional

from app.domain.capacity import CapacityStatus
from app.services.directory.capacity import WHOLE, CapacityLine, capacity_lines
from app.services.directory.search import DirectoryEntry
from app.web.context import today
from app.web.form_base import RelaisForm
from app.web.labels import enum_label


class CapacityStatusForm(RelaisForm):
    service = SelectField(_l("Service"))
    status = SelectField(_l("Capacity status"), validators=[Optional()])


class ConfirmStatusForm(RelaisForm):
    """A button: the status still holds."""

    service = HiddenField()


def lines(entry: DirectoryEntry) -> list[CapacityLine]:
    card = entry.card if entry.has_card else None
    weeks = int(current_app.config["CAPACITY_STALE_WEEKS"])
    return capacity_lines(card, today=today(), stale_weeks=weeks)


def status_form(entry: DirectoryEntry, form: CapacityStatusForm | None = None) -> Any:
    form = form or CapacityStatusForm()
    form.service.choices = [(WHOLE, _("The whole structure (every service)"))] + [
        (str(s.id), s.name) for s in (entry.card.services if entry.has_card else [])
    ]
    form.status.choices = [("", _("Not given"))] + [
        (s.value, enum_label(s)) for s in CapacityStatus
    ]
    return form
