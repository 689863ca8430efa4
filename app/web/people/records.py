"""The person's page and the actions on their record: identity, consent, steps, end of
follow-up (barriers: ``barriers``; decisions: ``decisions``).

The person's page only reads: each action is a link to the action's own page (a GET of the
action's address), which shows its form; the form posts to the same address, which redirects
back to the person's page (post-redirect-get). When it fails, the action's page is shown again
with what was typed, each error on its field (a service error too, on the field it names) and
the page's error summary. A visit that only reads renders no form.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from app.domain.employment import EMPLOYMENT_STAGE, ContractType
from app.domain.pathway import ConsentMethod
from app.domain.roles import Role
from app.models import Beneficiary
from app.services import pathways
from app.services.errors import Forbidden, ServiceError
from app.services.people import access, identity
from app.services.people.registration import ConsentInput, active_consent, record_consent
from app.services.repeats import AlreadyRecorded, ended_a_moment_ago
from app.services.rights.consents import last_withdrawn_consent
from app.services.submissions import AlreadySubmitted, fulfil
from app.unit_of_work import attempt
from app.web import submissions
from app.web.confirmations import shown_on_page, who
from app.web.context import actor, dbs, roles_required, today, vault
from app.web.forms_support import (
    attach_error,
    checked_identity_form,
    identity_from,
    keeps_typed_values,
)
from app.web.labels import enum_label
from app.web.mentions import names_the_person
from app.web.pathways.timeline_text import timeline_words
from app.web.people.action_forms import consent_form, end_form, posted, step_form
from app.web.people.blueprint import bp
from app.web.people.forms import ConsentForm, EndFollowUpForm, IdentityForm, StepForm


def person_page(person: Beneficiary) -> str:
    """The person's page: their identity revealed (audited) and their pathway, with a link to
    each action's page. The person's data key is read and unwrapped once for the page (the
    identity, the free texts and the employers)."""
    session, user = dbs(), actor()
    keys = vault().person_keys(session, [person.id])
    who = identity.reveal_identity(vault(), session, user, person, "person_page", keys=keys)
    shown_on_page(person, who)
    timeline = pathways.timeline(session, person)
    key = keys[person.id]
    texts = pathways.readable_texts(session, vault(), timeline, user.structure_id or 0, key=key)
    consent = active_consent(session, person.id)
    return render_template(
        "people/detail.html",
        person=person,
        who=who,
        timeline=timeline,
        texts=texts,
        employers=pathways.readable_employers(session, vault(), timeline, key=key),
        consent=consent,
        withdrawn=None if consent else last_withdrawn_consent(session, person.id),
        today=today(),
        may_change=access.may_change(session, user, person),
        caseworker=True,
        words=timeline_words(),
        enum_label=enum_label,
    )


def form_page(person: Beneficiary, action: str, heading: str, **context: Any) -> str:
    """The page of one action on ``person`` (``templates/people/actions/<action>.html``): its
    forms (any ``FlaskForm`` of ``context``), each error in the page's summary. A structure in
    its reading grace period sees that it may no longer change the record, and no form."""
    forms = [value for value in context.values() if isinstance(value, FlaskForm)]
    return render_template(
        "people/action.html",
        person=person,
        action=action,
        heading=heading,
        may_change=access.may_change(dbs(), actor(), person),
        error_forms=forms,
        enum_label=enum_label,
        **context,
    )


def _person(pseudonym: str) -> Beneficiary:
    return access.followed_person(dbs(), actor(), pseudonym, today())


def _page_url(person: Beneficiary, anchor: str = "") -> str:
    return url_for("people.detail", pseudonym=person.pseudonym) + anchor


def _done(person: Beneficiary, message: str, anchor: str) -> ResponseReturnValue:
    flash(message, "success")
    return redirect(_page_url(person, anchor))


@bp.route("/<pseudonym>/edit", methods=["GET", "POST"])
@keeps_typed_values
@roles_required(Role.CASEWORKER)
def edit_identity(pseudonym: str) -> ResponseReturnValue:
    session, user = dbs(), actor()
    # An open follow-up: during the reading grace period, 404 as for any other structure.
    person = access.person_to_change(session, user, pseudonym, today())
    current = identity.reveal_identity(vault(), session, user, person, "edit_identity")
    form = IdentityForm(obj=current)
    if form.is_submitted() and checked_identity_form(form, today()):
        try:
            with attempt():
                changed = identity.update_identity(
                    vault(), session, user, person, identity_from(form), today=today()
                )
        except ServiceError as exc:
            attach_error(form, exc)
        else:
            flash(_("Identity updated.") if changed else _("Nothing was changed."), "success")
            return redirect(_page_url(person))
    return render_template("people/edit.html", form=form, person=person)


def _consent_page(person: Beneficiary, form: ConsentForm) -> str:
    consent = active_consent(dbs(), person.id)  # in force: no form, the consent shown
    return form_page(person, "consent", _("Record consent"), form=form, consent=consent)


@bp.route("/<pseudonym>/consent", methods=["GET", "POST"])
@keeps_typed_values
@roles_required(Role.CASEWORKER)
def add_consent(pseudonym: str) -> ResponseReturnValue:
    person = _person(pseudonym)
    form = consent_form()
    if not posted() or not form.validate_on_submit():
        return _consent_page(person, form)
    if form.given_on.data > today():
        form.given_on.errors = [_("Consent cannot be dated in the future.")]
        return _consent_page(person, form)
    given = ConsentInput(ConsentMethod(form.method.data), form.given_on.data)
    try:
        with attempt():
            claimed = submissions.claim(form, "consent")
            record_consent(dbs(), actor(), person, given)
            fulfil(dbs(), claimed, _page_url(person, "#consent"))
    except AlreadySubmitted as exc:
        return submissions.already_recorded(exc, _page_url(person, "#consent"))
    except ServiceError as exc:
        attach_error(form, exc)
        return _consent_page(person, form)
    return _done(person, _("Consent recorded."), "#consent")


def _step_page(person: Beneficiary, form: StepForm) -> str:
    return form_page(person, "step", _("Record a step"), form=form)


@bp.route("/<pseudonym>/steps", methods=["GET", "POST"])
@keeps_typed_values
@roles_required(Role.CASEWORKER)
def add_step(pseudonym: str) -> ResponseReturnValue:
    person = _person(pseudonym)
    form = step_form()
    if not posted() or not _step_checked(form) or names_the_person(form, person, form.action):
        return _step_page(person, form)
    try:
        with attempt():
            claimed = submissions.claim(form, "step")
            pathways.add_step(
                dbs(),
                vault(),
                actor(),
                person,
                stage_code=form.stage.data,
                started_on=form.started_on.data,
                ended_on=form.ended_on.data,
                action=form.action.data,
                contract_type=ContractType(form.contract_type.data)
                if form.contract_type.data
                else None,
                employer=form.employer.data,
            )
            fulfil(dbs(), claimed, _page_url(person, "#timeline-title"))
    except AlreadySubmitted as exc:
        return submissions.already_recorded(exc, _page_url(person, "#timeline-title"))
    except AlreadyRecorded:  # the same step, sent from another tab a moment ago
        return submissions.shown_once(_page_url(person, "#timeline-title"))
    except ServiceError as exc:
        attach_error(form, exc)
        return _step_page(person, form)
    return _done(person, _("Step recorded."), "#timeline-title")


def _step_checked(form: StepForm) -> bool:
    """The form's checks, and a contract for an employment step (every error at once)."""
    valid = bool(form.validate_on_submit())
    if form.stage.data == EMPLOYMENT_STAGE and not form.contract_type.data:
        form.contract_type.errors = [*form.contract_type.errors, _("Say which contract.")]
        valid = False
    return valid


def _end_page(person: Beneficiary, form: EndFollowUpForm) -> str:
    return form_page(person, "end", _("End the follow-up by your structure"), form=form)


@bp.route("/<pseudonym>/end", methods=["GET", "POST"])
@keeps_typed_values
@roles_required(Role.CASEWORKER)
def end_follow_up(pseudonym: str) -> ResponseReturnValue:
    person = _person(pseudonym)
    form = end_form()
    if not posted() or not form.validate_on_submit():
        return _end_page(person, form)
    try:
        with attempt():
            pathways.end_follow_up(
                dbs(), actor(), person, reason_code=form.reason.data, on=form.ended_on.data
            )
    except ServiceError as exc:
        # Sent twice: the follow-up ended a moment ago (the person stays visible a while).
        if isinstance(exc, Forbidden) and ended_a_moment_ago(dbs(), actor(), pseudonym):
            return submissions.shown_once(url_for("people.index"))
        attach_error(form, exc)
        return _end_page(person, form)
    ended = _("The follow-up of %(person)s by your structure has ended.", person=who(person))
    flash(ended, "success")
    return redirect(url_for("people.index"))
