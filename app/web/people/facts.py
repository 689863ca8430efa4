"""What a person's record says beyond the identity, corrected by the structure that follows
them: the registration facts kept for the statistics (QPV, cohorts, education level, sex) and
the level and detail of a barrier. Each change is audited by its service."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from wtforms import SelectChoice

from app.domain.pathway import BarrierLevel
from app.domain.people import EducationLevel, Sex
from app.domain.roles import Role
from app.models import Beneficiary, ReferenceKind
from app.services import pathways
from app.services.errors import ServiceError
from app.services.people import access
from app.services.people.facts import Facts, facts_of, update_facts
from app.unit_of_work import attempt
from app.web.context import actor, dbs, label, roles_required, today, vault
from app.web.forms_support import attach_error, choices, enum_choices
from app.web.mentions import names_the_person
from app.web.people.action_forms import assessment_form
from app.web.people.barriers import barrier_page
from app.web.people.blueprint import bp
from app.web.people.forms import FactsForm


def _person(pseudonym: str) -> Beneficiary:
    return access.followed_person(dbs(), actor(), pseudonym, today())


@bp.post("/<pseudonym>/barriers/<barrier_id>/assessment")
@roles_required(Role.CASEWORKER)
def assess_barrier(pseudonym: str, barrier_id: str) -> ResponseReturnValue:
    session = dbs()
    person = _person(pseudonym)
    barrier = pathways.barrier_of(session, person, barrier_id)
    form = assessment_form(barrier)
    if not form.validate_on_submit() or names_the_person(form, person, form.detail):
        return barrier_page(person, barrier, assessment=form)
    try:
        with attempt():
            changed = pathways.assess_barrier(
                session,
                vault(),
                actor(),
                barrier,
                level=BarrierLevel(form.level.data) if form.level.data else None,
                detail=form.detail.data,
            )
    except ServiceError as exc:
        attach_error(form, exc)
        return barrier_page(person, barrier, assessment=form)
    flash(_("Barrier updated.") if changed else _("Nothing was changed."), "success")
    return redirect(url_for("people.detail", pseudonym=person.pseudonym) + "#barriers-title")


def _facts_form(person: Beneficiary) -> FactsForm:
    """The form, filled with the person's facts on a GET; the choices keep an item the person
    has that was deactivated since."""
    session = dbs()
    form = FactsForm(data=_form_data(person))
    cohorts = choices(session, ReferenceKind.COHORT)
    known = {str(c.value) for c in cohorts}
    cohorts += [SelectChoice(c.code, label(c)) for c in person.cohorts if c.code not in known]
    form.cohorts.choices = cohorts
    qpvs = choices(session, ReferenceKind.QPV)
    if person.qpv and person.qpv.code not in {str(c.value) for c in qpvs}:
        qpvs.append(SelectChoice(person.qpv.code, label(person.qpv)))
    form.qpv.choices = [SelectChoice("", _("Not in a QPV / unknown")), *qpvs]
    form.sex.choices = [SelectChoice("", _("Not given")), *enum_choices(Sex)]
    form.education_level.choices = [SelectChoice("", _("Unknown")), *enum_choices(EducationLevel)]
    return form


def _form_data(person: Beneficiary) -> dict[str, object]:
    facts = facts_of(person)
    return {
        "cohorts": facts.cohort_codes,
        "qpv": facts.qpv_code or "",
        "education_level": facts.education_level.value if facts.education_level else "",
        "sex": facts.sex.value if facts.sex else "",
    }


@bp.route("/<pseudonym>/facts", methods=["GET", "POST"])
@roles_required(Role.CASEWORKER)
def edit_facts(pseudonym: str) -> ResponseReturnValue:
    session = dbs()
    # An open follow-up: during the reading grace period, 404 as for any other structure.
    person = access.person_to_change(session, actor(), pseudonym, today())
    form = _facts_form(person)
    if form.validate_on_submit():
        facts = Facts(
            cohort_codes=list(form.cohorts.data or []),
            qpv_code=form.qpv.data or None,
            education_level=EducationLevel(form.education_level.data)
            if form.education_level.data
            else None,
            sex=Sex(form.sex.data) if form.sex.data else None,
        )
        try:
            with attempt():
                changed = update_facts(session, actor(), person, facts)
        except ServiceError as exc:
            attach_error(form, exc, {"cohort": "cohorts"})
        else:
            flash(_("Situation updated.") if changed else _("Nothing was changed."), "success")
            return redirect(url_for("people.detail", pseudonym=person.pseudonym))
    return render_template("people/facts.html", form=form, person=person)
