"""The forms of the answers to a hand-off (accept, decline, outcome...): read from a POST, and
shown on the hand-off's page.

Reading an answer needs none of the lists its form shows: the selects of a reason, an outcome
and a partner do not check their value against their choices (``validate_choice=False``; the
service refuses a code or a partner it does not know), and the date's label and bounds are
only shown. ``read_form`` therefore builds the bare form (the contract's choices only for an
outcome, the one select that checks its value), and ``shown_form`` adds what the page shows:
the list of its own answer only (a decline's reasons, an outcome's outcomes, a redirect's
partners), the contracts and the date's label. An accept, a first contact or a decline that
is refused is shown again through ``shown_form``.
"""

from __future__ import annotations

from flask_babel import gettext as _
from wtforms import SelectChoice

from app.domain.employment import ContractType
from app.domain.handoffs import HandoffEvent, outcome_fits
from app.models import Handoff, ReferenceKind
from app.services.structures import list_structures
from app.web.context import dbs, today
from app.web.forms_support import choices, enum_choices
from app.web.handoffs.dates import prepare_date
from app.web.handoffs.forms import ActionForm


def read_form(event: HandoffEvent, **options: object) -> ActionForm:
    """The form of ``event`` as far as reading it needs (see the module); prefixed so that
    several forms on a page keep unique ids."""
    form = ActionForm(prefix=event.value, on=today(), **options)
    form.reason.choices, form.outcome.choices, form.redirect_to.choices = [], [], []
    if event is HandoffEvent.COMPLETE:
        form.contract_type.choices = _contracts()
    else:
        # Only an outcome reads a contract (``employment_from``): elsewhere it is left aside.
        form.contract_type.choices = []
        form.contract_type.validate_choice = False
    return form


def shown_form(handoff: Handoff, event: HandoffEvent, form: ActionForm | None = None) -> ActionForm:
    """``form`` (a new, empty one if not given) with what the page shows of it: only the list
    its own answer shows, none for an acceptance or a first contact."""
    form = form if form is not None else read_form(event, formdata=None)
    session = dbs()
    if event is HandoffEvent.DECLINE:
        form.reason.choices = [_choose(), *choices(session, ReferenceKind.DECLINE_REASON)]
    if event in (HandoffEvent.COMPLETE, HandoffEvent.NOT_COMPLETE):
        fitting = [
            c for c in choices(session, ReferenceKind.OUTCOME) if outcome_fits(event, str(c.value))
        ]
        form.outcome.choices = [_choose(), *fitting]
    if event is HandoffEvent.REDIRECT:
        form.redirect_to.choices = partner_choices(
            {handoff.to_structure_id, handoff.from_structure_id}
        )
    form.contract_type.choices = _contracts()
    form.contract_type.validate_choice = True
    prepare_date(form, handoff, event)
    return form


def partner_choices(exclude: set[int]) -> list[SelectChoice]:
    """The active partners but ``exclude``, after an empty choice."""
    return [SelectChoice("", _("Choose a partner"))] + [
        SelectChoice(str(s.id), s.name)
        for s in list_structures(dbs(), include_inactive=False)
        if s.id not in exclude
    ]


def _choose() -> SelectChoice:
    return SelectChoice("", _("Choose…"))


def _contracts() -> list[SelectChoice]:
    return [_choose(), *enum_choices(ContractType)]
