"""Deciding a person's pathway type (orientation decision) from their page.

The form lives on the person's page (``_pathway.html``, "Pathway type"); a failed decision
shows the page again with the form, what was typed and each error on its field.
"""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from app.domain.orientation import DecisionReason
from app.domain.roles import Role
from app.services import pathways
from app.services.errors import ServiceError
from app.services.people import access
from app.services.submissions import AlreadySubmitted, fulfil
from app.unit_of_work import attempt
from app.web import submissions
from app.web.context import actor, dbs, roles_required, today
from app.web.forms_support import attach_error, keeps_typed_values
from app.web.people import records
from app.web.people.blueprint import bp
from app.web.people.decision_form import decision_form

ANCHOR = "#decision-title"


@bp.route("/<pseudonym>/decisions", methods=["POST"])
@keeps_typed_values
@roles_required(Role.CASEWORKER)
def decide_pathway(pseudonym: str) -> ResponseReturnValue:
    person = access.followed_person(dbs(), actor(), pseudonym, today())
    form = decision_form(empty=False)
    if not form.validate_on_submit():
        return records.person_page(person, {"decision": form})
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
        return records.person_page(person, {"decision": form})
    flash(_("Pathway type recorded."), "success")
    return redirect(url)
