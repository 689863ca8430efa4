"""The barriers of a person's record: record one, and a barrier's own page (its status, and
its level and detail: ``facts.assess_barrier``), each form on the action's page
(``records.form_page``)."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from wtforms import SelectChoice

from app.domain.numbers import read_id
from app.domain.pathway import BarrierLevel, BarrierStatus
from app.domain.roles import Role
from app.models import Barrier, Beneficiary
from app.services import pathways
from app.services.errors import ServiceError
from app.services.people import access
from app.services.repeats import AlreadyRecorded
from app.services.submissions import AlreadySubmitted, fulfil
from app.unit_of_work import attempt
from app.web import submissions
from app.web.context import actor, dbs, label, roles_required, today, vault
from app.web.forms_support import attach_error, keeps_typed_values
from app.web.mentions import names_the_person
from app.web.people.action_forms import (
    assessment_form,
    barrier_form,
    posted,
    status_choices,
    status_form,
)
from app.web.people.blueprint import bp
from app.web.people.forms import BarrierAssessmentForm, BarrierForm, BarrierStatusForm
from app.web.people.records import form_page
from app.web.submissions import shown_once

ANCHOR = "#barriers-title"


def _person(pseudonym: str) -> Beneficiary:
    return access.followed_person(dbs(), actor(), pseudonym, today())


def _page_url(person: Beneficiary) -> str:
    return url_for("people.detail", pseudonym=person.pseudonym) + ANCHOR


def _new_page(person: Beneficiary, form: BarrierForm) -> str:
    return form_page(person, "barrier", _("Record a barrier"), form=form)


@bp.route("/<pseudonym>/barriers", methods=["GET", "POST"])
@keeps_typed_values
@roles_required(Role.CASEWORKER)
def add_barrier(pseudonym: str) -> ResponseReturnValue:
    person = _person(pseudonym)
    form = barrier_form()
    if not posted() or not form.validate_on_submit() or names_the_person(form, person, form.detail):
        return _new_page(person, form)
    try:
        with attempt():
            claimed = submissions.claim(form, "barrier")
            pathways.add_barrier(
                dbs(),
                actor(),
                person,
                category_code=form.category.data,
                identified_on=form.identified_on.data,
                acting_structure_id=read_id(form.acting_structure.data),
                level=BarrierLevel(form.level.data) if form.level.data else None,
                detail=form.detail.data,
                vault=vault(),
            )
            fulfil(dbs(), claimed, _page_url(person))
    except AlreadySubmitted as exc:
        return submissions.already_recorded(exc, _page_url(person))
    except AlreadyRecorded:  # the same barrier, sent from another tab a moment ago
        return shown_once(_page_url(person))
    except ServiceError as exc:
        attach_error(form, exc)
        return _new_page(person, form)
    return _done(person, _("Barrier recorded."))


def barrier_page(
    person: Beneficiary,
    barrier: Barrier,
    status: BarrierStatusForm | None = None,
    assessment: BarrierAssessmentForm | None = None,
) -> str:
    """A barrier's page: its status form and its level-and-detail form, either as posted
    (``status``, ``assessment``) or empty (the detail decrypted to fill its form)."""
    if assessment is None:
        detail = vault().open_many(
            dbs(), person.id, [("barriers", "detail", barrier.id, barrier.detail)]
        )
        assessment = assessment_form(barrier, detail.get(barrier.id, ""))
    if status is None:  # (also when the page's other form was sent: this one stays empty)
        status = status_form(barrier, empty=True)
    heading = _("Barrier: %(category)s", category=label(barrier.category))
    return form_page(
        person, "barrier_change", heading, barrier=barrier, status=status, assessment=assessment
    )


@bp.route("/<pseudonym>/barriers/<barrier_id>", methods=["GET", "POST"])
@keeps_typed_values
@roles_required(Role.CASEWORKER)
def change_barrier(pseudonym: str, barrier_id: str) -> ResponseReturnValue:
    session = dbs()
    person = _person(pseudonym)
    barrier = pathways.barrier_of(session, person, barrier_id)
    if not posted():
        return barrier_page(person, barrier)
    form = status_form(barrier, empty=False)
    if form.status.data == barrier.status.value:  # sent again: the service says it is recorded
        form.status.choices.append(SelectChoice(barrier.status.value, ""))
    if not form.validate_on_submit():
        status_choices(form, barrier)
        return barrier_page(person, barrier, status=form)
    try:
        with attempt():
            pathways.set_barrier_status(
                session, actor(), barrier, BarrierStatus(form.status.data), on=form.on.data
            )
    except AlreadyRecorded:  # the same change sent twice (a double click, two tabs)
        return shown_once(_page_url(person))
    except ServiceError as exc:
        attach_error(form, exc)
        return barrier_page(person, barrier, status=form)
    return _done(person, _("Barrier updated."))


def _done(person: Beneficiary, message: str) -> ResponseReturnValue:
    flash(message, "success")
    return redirect(_page_url(person))
