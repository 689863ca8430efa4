""" "No solution found": a caseworker records that no partner could be found for a need of a
person (one of their open barriers, or a barrier category) - an unmet need
(``app.services.unmet_needs``), shown in the person's chronology and counted for the
coordination (``/steering/unmet-needs``).
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from wtforms import SelectChoice

from app.domain.roles import Role
from app.models import Beneficiary, ReferenceKind
from app.services.errors import ServiceError
from app.services.handoffs import lists as handoff_lists
from app.services.people import access
from app.services.submissions import AlreadySubmitted, fulfil
from app.services.unmet_needs import record_no_solution
from app.unit_of_work import attempt
from app.web import submissions
from app.web.confirmations import who
from app.web.context import actor, dbs, label, roles_required, today
from app.web.forms_support import attach_error, choices, keeps_typed_values
from app.web.handoffs.blueprint import bp
from app.web.handoffs.forms import NoSolutionForm

# The service's fields, as the form names them.
FIELDS = {"barrier": "need", "barrier_category": "need", "unmet_need_precision": "precision"}


def _need_choices(person: Beneficiary) -> list[SelectChoice]:
    session = dbs()
    mine, others = _("The person's open barriers"), _("Another barrier category")
    options = [SelectChoice("", _("Choose the need"))]
    for barrier in handoff_lists.person_barriers(session, person.id):
        if not barrier.status.is_closed:
            options.append(
                SelectChoice(f"barrier:{barrier.id.hex}", label(barrier.category), optgroup=mine)
            )
    for item in choices(session, ReferenceKind.BARRIER_CATEGORY):
        options.append(SelectChoice(f"category:{item.value}", item.label, optgroup=others))
    return options


@bp.route("/no-solution/<pseudonym>", methods=["GET", "POST"])
@keeps_typed_values
@roles_required(Role.CASEWORKER)
def no_solution(pseudonym: str) -> ResponseReturnValue:
    session, user = dbs(), actor()
    person = access.person_to_change(session, user, pseudonym, today())
    form = NoSolutionForm()
    form.need.choices = _need_choices(person)
    form.precision.choices = [
        SelectChoice("", _("Not said")),
        *choices(session, ReferenceKind.UNMET_NEED_PRECISION),
    ]
    back = url_for("people.detail", pseudonym=person.pseudonym)
    if form.validate_on_submit():
        kind, _sep, value = (form.need.data or "").partition(":")
        try:
            with attempt():
                claimed = submissions.claim(form, "no_solution")
                record_no_solution(
                    session,
                    user,
                    person,
                    barrier_id=value if kind == "barrier" else None,
                    category_code=value if kind == "category" else None,
                    precision_code=form.precision.data or None,
                    today=today(),
                )
                fulfil(session, claimed, back)
        except AlreadySubmitted as exc:
            return submissions.already_recorded(exc, back)
        except ServiceError as exc:
            attach_error(form, exc, FIELDS)
        else:
            flash(_("Recorded: no partner found for this need."), "success")
            return redirect(back)
    page = render_template(
        "handoffs/no_solution.html", form=form, person=person, person_name=who(person)
    )
    return page, (422 if form.errors else 200)
