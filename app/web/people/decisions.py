"""Deciding a person's pathway type (orientation decision) from their page.

The person's page links to the form's page (a GET of the address the form posts to); a failed
decision shows that page again with what was typed and each error on its field.
"""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.domain.orientation import DecisionReason
from app.domain.roles import Role
from app.models import Beneficiary
from app.services import pathways
from app.services.errors import ServiceError
from app.services.people import access
from app.services.submissions import AlreadySubmitted, fulfil
from app.unit_of_work import attempt
from app.web import submissions
from app.web.context import actor, dbs, roles_required, today
from app.web.forms_support import attach_error, keeps_typed_values
from app.web.people import records
from app.web.people.action_forms import posted
from app.web.people.blueprint import bp
from app.web.people.decision_form import decision_form
from app.web.people.forms import DecisionForm

ANCHOR = "#decision-title"


def _page(person: Beneficiary, form: DecisionForm) -> str:
    return records.form_page(person, "decision", _("Decide the pathway"), form=form)


@bp.route("/<pseudonym>/decisions", methods=["GET", "POST"])
@keeps_typed_values
@roles_required(Role.CASEWORKER)
def decide_pathway(pseudonym: str) -> ResponseReturnValue:
    person = access.followed_person(dbs(), actor(), pseudonym, today())
    form = decision_form(empty=not posted())
    if not posted() or not form.validate_on_submit():
        return _page(person, form)
    url = url_for("people.detail", pseudonym=person.pseudonym) + ANCHOR
    try:
        with attempt():
            claimed = submissions.claim(form, "decision")
            pathways.decide_pathway(
                dbs(),
                actor(),
                person,
                pathway_type_code=form.pathway_type.data,
                decided_on=form.decided_on.data,
                reason=DecisionReason(form.reason.data) if form.reason.data else None,
                today=today(),
            )
            fulfil(dbs(), claimed, url)
    except AlreadySubmitted as exc:
        return submissions.already_recorded(exc, url)
    except ServiceError as exc:
        attach_error(form, exc)
        return _page(person, form)
    flash(_("Pathway type recorded."), "success")
    return redirect(url)
