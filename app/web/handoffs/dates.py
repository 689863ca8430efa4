"""The date field of the answers that may be back-dated (acceptance, first contact, outcome):
prefilled with today, labelled for its event, saying the earliest day it may take and
offering only days between that one and today."""

from __future__ import annotations

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.domain.handoffs import HandoffEvent
from app.models import Handoff
from app.services.effective_dates import BOUND_MESSAGES
from app.services.handoffs import floor_of
from app.web.context import today
from app.web.handoffs.forms import ActionForm

DATE_LABELS = {
    HandoffEvent.ACCEPT: _l("Date of the acceptance"),
    HandoffEvent.FIRST_CONTACT: _l("Date of the first contact"),
    HandoffEvent.COMPLETE: _l("Date of the outcome"),
    HandoffEvent.NOT_COMPLETE: _l("Date of the outcome"),
}


def prepare_date(form: ActionForm, handoff: Handoff, event: HandoffEvent) -> None:
    """Label ``form.on`` for ``event`` and say (and set as ``min``) its earliest day."""
    label = DATE_LABELS.get(event)
    if label is None:
        return
    floor = floor_of(handoff, event)
    form.on.label.text = str(label)
    bound = _(BOUND_MESSAGES[floor.bound], date=format_date(floor.day))
    form.on.description = _("Today, or the day it happened if earlier.") + " " + bound
    form.on.render_kw = {"min": floor.day.isoformat(), "max": today().isoformat()}
