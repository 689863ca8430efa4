"""The forms of the actions on a person's record, each with its choices.

Each form opens on its own page (``records.form_page``), never on the person's page: a
visit that only reads pays for no form. A builder gives the form as posted during a POST,
and an empty one (dated today, nothing destructive chosen) otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice

from app.domain.pathway import BARRIER_TRANSITIONS, BarrierStatus, ConsentMethod
from app.models import Barrier, ReferenceKind
from app.services.structures import list_structures
from app.web.context import dbs, today
from app.web.forms_support import choices, enum_choices
from app.web.people.forms import (
    BarrierAssessmentForm,
    BarrierForm,
    BarrierStatusForm,
    ConsentForm,
    EndFollowUpForm,
    StepForm,
    contract_choices,
    level_choices,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# Nothing destructive is chosen in advance: a blank first option, refused if left.
CHOOSE = _l("Choose…")


def posted() -> bool:
    return request.method == "POST"


def step_form() -> StepForm:
    if posted():
        form = StepForm(prefix="step")
    else:
        form = StepForm(formdata=None, started_on=today(), prefix="step")
    form.stage.choices = choices(dbs(), ReferenceKind.STAGE)
    form.contract_type.choices = contract_choices()
    return form


def barrier_form() -> BarrierForm:
    if posted():
        form = BarrierForm(prefix="barrier")
    else:
        form = BarrierForm(formdata=None, identified_on=today(), prefix="barrier")
    form.category.choices = choices(dbs(), ReferenceKind.BARRIER_CATEGORY)
    form.level.choices = level_choices()
    form.acting_structure.choices = structure_choices(dbs())
    return form


def status_form(barrier: Barrier, *, empty: bool) -> BarrierStatusForm:
    """The status form of ``barrier``: empty (dated today) or as posted."""
    prefix = f"b{barrier.id.hex[:8]}"
    if not empty:
        form = BarrierStatusForm(prefix=prefix)
    else:
        form = BarrierStatusForm(formdata=None, on=today(), prefix=prefix)
    status_choices(form, barrier)
    return form


def status_choices(form: BarrierStatusForm, barrier: Barrier) -> None:
    allowed = sorted(BARRIER_TRANSITIONS[barrier.status])
    form.status.choices = [SelectChoice("", CHOOSE), *enum_choices(BarrierStatus, allowed)]


def assessment_form(barrier: Barrier, detail: str | None = None) -> BarrierAssessmentForm:
    """The level-and-detail form of ``barrier``: filled with ``detail`` and its level, or
    with what was posted when ``detail`` is None."""
    prefix = f"a{barrier.id.hex[:8]}"
    if detail is None:
        form = BarrierAssessmentForm(prefix=prefix)
    else:
        level = barrier.level.value if barrier.level else ""
        form = BarrierAssessmentForm(formdata=None, prefix=prefix, level=level, detail=detail)
    form.level.choices = level_choices()
    return form


def end_form() -> EndFollowUpForm:
    if posted():
        form = EndFollowUpForm(prefix="end")
    else:
        form = EndFollowUpForm(formdata=None, ended_on=today(), prefix="end")
    form.reason.choices = [SelectChoice("", CHOOSE), *choices(dbs(), ReferenceKind.END_REASON)]
    return form


def consent_form() -> ConsentForm:
    if posted():
        return ConsentForm(prefix="consent")
    return ConsentForm(
        formdata=None, given_on=today(), method=ConsentMethod.ORAL.value, prefix="consent"
    )


def structure_choices(session: Session) -> list[SelectChoice]:
    return [SelectChoice("", _("Not yet decided"))] + [
        SelectChoice(str(s.id), s.name) for s in list_structures(session, include_inactive=False)
    ]
