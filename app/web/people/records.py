"""The actions of a person's page: edit identity, consent, steps, barriers, end of follow-up.

Each action is a POST that redirects back to the person's page (post-redirect-get). When it
fails, the person's page is shown again with the failed form in place: what was typed, each
error on its field (a service error too, on the field it names) and the page's error summary.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice

from app.domain.employment import EMPLOYMENT_STAGE, ContractType
from app.domain.numbers import read_id
from app.domain.pathway import BARRIER_TRANSITIONS, BarrierLevel, BarrierStatus, ConsentMethod
from app.domain.roles import Role
from app.models import Barrier, Beneficiary, Consent, ReferenceKind
from app.services import pathways
from app.services.errors import Forbidden, ServiceError
from app.services.people import access, identity
from app.services.people.registration import ConsentInput, active_consent, record_consent
from app.services.repeats import AlreadyRecorded, ended_a_moment_ago
from app.services.rights.consents import last_withdrawn_consent
from app.services.structures import list_structures
from app.services.submissions import AlreadySubmitted, fulfil
from app.unit_of_work import attempt
from app.web import submissions
from app.web.confirmations import who
from app.web.context import actor, dbs, roles_required, today, vault
from app.web.forms_support import (
    attach_error,
    checked_identity_form,
    choices,
    enum_choices,
    identity_from,
    keeps_typed_values,
)
from app.web.labels import enum_label
from app.web.mentions import names_the_person
from app.web.people.blueprint import bp
from app.web.people.decision_form import decision_form
from app.web.people.forms import (
    BarrierAssessmentForm,
    BarrierForm,
    BarrierStatusForm,
    ConsentForm,
    DecisionForm,
    EndFollowUpForm,
    IdentityForm,
    StepForm,
    contract_choices,
    level_choices,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass
class PageForms:
    step: StepForm
    barrier: BarrierForm
    barrier_status: dict[uuid.UUID, BarrierStatusForm]
    end: EndFollowUpForm
    consent: ConsentForm | None
    withdrawn: Consent | None = None  # the consent withdrawn last, recalled on the page
    # The level and detail of each barrier, by barrier id (filled by ``person_page``).
    assessments: dict[uuid.UUID, BarrierAssessmentForm] = field(default_factory=dict)
    decision: DecisionForm | None = None  # the pathway type (``decisions``)


def page_forms(session: Session, person: Beneficiary, barriers: list[Barrier]) -> PageForms:
    """The empty forms the person's page offers, with their choices."""
    step = StepForm(formdata=None, started_on=today(), prefix="step")
    step.stage.choices = choices(session, ReferenceKind.STAGE)
    step.contract_type.choices = contract_choices()
    barrier = BarrierForm(formdata=None, identified_on=today(), prefix="barrier")
    barrier.category.choices = choices(session, ReferenceKind.BARRIER_CATEGORY)
    barrier.level.choices = level_choices()
    barrier.acting_structure.choices = _structure_choices(session)
    statuses = {}
    for b in barriers:
        form = BarrierStatusForm(formdata=None, on=today(), prefix=_status_prefix(b))
        _status_choices(form, b)
        statuses[b.id] = form
    end = EndFollowUpForm(formdata=None, ended_on=today(), prefix="end")
    _end_choices(session, end)
    consent = None
    if active_consent(session, person.id) is None:
        consent = ConsentForm(
            formdata=None, given_on=today(), method=ConsentMethod.ORAL.value, prefix="consent"
        )
    return PageForms(
        step, barrier, statuses, end, consent, last_withdrawn_consent(session, person.id)
    )


# Nothing destructive is chosen in advance: a blank first option, refused if left.
CHOOSE = _l("Choose…")


def _status_prefix(barrier: Barrier) -> str:
    return f"b{barrier.id.hex[:8]}"


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


def _status_choices(form: BarrierStatusForm, barrier: Barrier) -> None:
    allowed = sorted(BARRIER_TRANSITIONS[barrier.status])
    form.status.choices = [SelectChoice("", CHOOSE), *enum_choices(BarrierStatus, allowed)]


def _end_choices(session: Session, form: EndFollowUpForm) -> None:
    form.reason.choices = [
        SelectChoice("", CHOOSE),
        *choices(session, ReferenceKind.END_REASON),
    ]


def person_page(person: Beneficiary, failed: Mapping[str, Any] | None = None) -> str:
    """The person's page (their identity revealed, audited); ``failed`` forms replace the
    empty ones, typed values and errors kept (``barrier_status``: by barrier id)."""
    session, user = dbs(), actor()
    who = identity.reveal_identity(vault(), session, user, person, "person_page")
    timeline = pathways.timeline(session, person)
    texts = pathways.readable_texts(session, vault(), timeline, user.structure_id or 0)
    forms = page_forms(session, person, timeline.barriers)
    forms.decision = decision_form(empty=True)
    forms.assessments = {b.id: assessment_form(b, texts.get(b.id, "")) for b in timeline.barriers}
    consent = active_consent(session, person.id)
    for name, form in (failed or {}).items():
        if name in ("barrier_status", "assessments"):
            getattr(forms, name).update(form)
        elif name != "consent" or consent is None:  # a consent in force needs no form
            setattr(forms, name, form)
    return render_template(
        "people/detail.html",
        person=person,
        who=who,
        timeline=timeline,
        texts=texts,
        employers=pathways.readable_employers(session, vault(), timeline),
        consent=consent,
        today=today(),
        forms=forms,
        may_change=access.may_change(session, user, person),
        enum_label=enum_label,
    )


def _structure_choices(session: Session) -> list[SelectChoice]:
    return [SelectChoice("", _("Not yet decided"))] + [
        SelectChoice(str(s.id), s.name) for s in list_structures(session, include_inactive=False)
    ]


def _person(pseudonym: str) -> Beneficiary:
    return access.followed_person(dbs(), actor(), pseudonym, today())


def _page_url(person: Beneficiary, anchor: str = "") -> str:
    return url_for("people.detail", pseudonym=person.pseudonym) + anchor


def _back(person: Beneficiary, anchor: str = "") -> ResponseReturnValue:
    return redirect(_page_url(person, anchor))


def _done(person: Beneficiary, message: str, anchor: str) -> ResponseReturnValue:
    flash(message, "success")
    return _back(person, anchor)


def _failed(
    person: Beneficiary, exc: ServiceError | None = None, **failed: Any
) -> ResponseReturnValue:
    """The person's page again with the failed form (``failed``: its name in ``PageForms``),
    the service's error ``exc`` on the field it names."""
    if exc is not None:
        for form in failed.values():
            for one in form.values() if isinstance(form, dict) else [form]:
                attach_error(one, exc)
    return person_page(person, failed)


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
            return _back(person)
    return render_template("people/edit.html", form=form, person=person)


@bp.route("/<pseudonym>/consent", methods=["POST"])
@keeps_typed_values
@roles_required(Role.CASEWORKER)
def add_consent(pseudonym: str) -> ResponseReturnValue:
    person = _person(pseudonym)
    form = ConsentForm(prefix="consent")
    if not form.validate_on_submit():
        return _failed(person, consent=form)
    if form.given_on.data > today():
        form.given_on.errors = [_("Consent cannot be dated in the future.")]
        return _failed(person, consent=form)
    given = ConsentInput(ConsentMethod(form.method.data), form.given_on.data)
    try:
        with attempt():
            claimed = submissions.claim(form, "consent")
            record_consent(dbs(), actor(), person, given)
            fulfil(dbs(), claimed, _page_url(person, "#consent"))
    except AlreadySubmitted as exc:
        return submissions.already_recorded(exc, _page_url(person, "#consent"))
    except ServiceError as exc:
        return _failed(person, exc, consent=form)
    return _done(person, _("Consent recorded."), "#consent")


@bp.route("/<pseudonym>/steps", methods=["POST"])
@keeps_typed_values
@roles_required(Role.CASEWORKER)
def add_step(pseudonym: str) -> ResponseReturnValue:
    person = _person(pseudonym)
    form = StepForm(prefix="step")
    form.stage.choices = choices(dbs(), ReferenceKind.STAGE)
    form.contract_type.choices = contract_choices()
    if not _step_checked(form):
        return _failed(person, step=form)
    if names_the_person(form, person, form.action):
        return _failed(person, step=form)
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
        return _failed(person, exc, step=form)
    return _done(person, _("Step recorded."), "#timeline-title")


def _step_checked(form: StepForm) -> bool:
    """The form's checks, and a contract for an employment step (every error at once)."""
    valid = bool(form.validate_on_submit())
    if form.stage.data == EMPLOYMENT_STAGE and not form.contract_type.data:
        form.contract_type.errors = [*form.contract_type.errors, _("Say which contract.")]
        valid = False
    return valid


@bp.route("/<pseudonym>/barriers", methods=["POST"])
@keeps_typed_values
@roles_required(Role.CASEWORKER)
def add_barrier(pseudonym: str) -> ResponseReturnValue:
    person = _person(pseudonym)
    form = BarrierForm(prefix="barrier")
    form.category.choices = choices(dbs(), ReferenceKind.BARRIER_CATEGORY)
    form.acting_structure.choices = _structure_choices(dbs())
    form.level.choices = level_choices()
    if not form.validate_on_submit():
        return _failed(person, barrier=form)
    if names_the_person(form, person, form.detail):
        return _failed(person, barrier=form)
    acting = read_id(form.acting_structure.data)
    try:
        with attempt():
            claimed = submissions.claim(form, "barrier")
            pathways.add_barrier(
                dbs(),
                actor(),
                person,
                category_code=form.category.data,
                identified_on=form.identified_on.data,
                acting_structure_id=acting,
                level=BarrierLevel(form.level.data) if form.level.data else None,
                detail=form.detail.data,
                vault=vault(),
            )
            fulfil(dbs(), claimed, _page_url(person, "#barriers-title"))
    except AlreadySubmitted as exc:
        return submissions.already_recorded(exc, _page_url(person, "#barriers-title"))
    except AlreadyRecorded:  # the same barrier, sent from another tab a moment ago
        return submissions.shown_once(_page_url(person, "#barriers-title"))
    except ServiceError as exc:
        return _failed(person, exc, barrier=form)
    return _done(person, _("Barrier recorded."), "#barriers-title")


@bp.route("/<pseudonym>/barriers/<barrier_id>", methods=["POST"])
@keeps_typed_values
@roles_required(Role.CASEWORKER)
def change_barrier(pseudonym: str, barrier_id: str) -> ResponseReturnValue:
    session = dbs()
    person = _person(pseudonym)
    barrier = pathways.barrier_of(session, person, barrier_id)
    form = BarrierStatusForm(prefix=_status_prefix(barrier))
    _status_choices(form, barrier)
    if form.status.data == barrier.status.value:  # sent again: the service says it is recorded
        form.status.choices.append(SelectChoice(barrier.status.value, ""))
    if not form.validate_on_submit():
        _status_choices(form, barrier)
        return _failed(person, barrier_status={barrier.id: form})
    try:
        with attempt():
            pathways.set_barrier_status(
                session, actor(), barrier, BarrierStatus(form.status.data), on=form.on.data
            )
    except AlreadyRecorded:  # the same change sent twice (a double click, two tabs)
        return submissions.shown_once(_page_url(person, "#barriers-title"))
    except ServiceError as exc:
        return _failed(person, exc, barrier_status={barrier.id: form})
    return _done(person, _("Barrier updated."), "#barriers-title")


@bp.route("/<pseudonym>/end", methods=["POST"])
@keeps_typed_values
@roles_required(Role.CASEWORKER)
def end_follow_up(pseudonym: str) -> ResponseReturnValue:
    person = _person(pseudonym)
    form = EndFollowUpForm(prefix="end")
    _end_choices(dbs(), form)
    if not form.validate_on_submit():
        return _failed(person, end=form)
    try:
        with attempt():
            pathways.end_follow_up(
                dbs(), actor(), person, reason_code=form.reason.data, on=form.ended_on.data
            )
    except ServiceError as exc:
        # Sent twice: the follow-up ended a moment ago (the person stays visible a while).
        if isinstance(exc, Forbidden) and ended_a_moment_ago(dbs(), actor(), pseudonym):
            return submissions.shown_once(url_for("people.index"))
        return _failed(person, exc, end=form)
    ended = _("The follow-up of %(person)s by your structure has ended.", person=who(person))
    flash(ended, "success")
    return redirect(url_for("people.index"))
