"""The decision form of the person's page (``records``) and of its route (``decisions``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice

from app.domain.orientation import DecisionReason
from app.models import ReferenceKind
from app.web.context import dbs, today
from app.web.forms_support import choices, enum_choices
from app.web.people.forms import DecisionForm


def decision_form(*, empty: bool) -> DecisionForm:
    """The decision form with its choices: empty (dated today) or as posted."""
    if empty:
        form = DecisionForm(formdata=None, decided_on=today(), prefix="decision")
    else:
        form = DecisionForm(prefix="decision")
    form.pathway_type.choices = [
        SelectChoice("", _l("Choose…")),
        *choices(dbs(), ReferenceKind.PATHWAY_TYPE),
    ]
    form.reason.choices = [SelectChoice("", _l("Not given")), *enum_choices(DecisionReason)]
    return form
