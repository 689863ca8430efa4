"""Hand-offs: send a person to a partner; the inbox and outbox of a structure; every answer.

The receiving structure sees a pending hand-off without the identity. The page offers only
the actions the transition table allows to the signed-in caseworker's structure.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from flask import abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from wtforms import SelectChoice

from app.domain.handoffs import BACKDATED_EVENTS, HandoffEvent, HandoffStatus
from app.domain.roles import Role
from app.models import Beneficiary, Handoff, ReferenceKind, Structure
from app.services import pathways
from app.services.directory.suggestions import suggest_partners
from app.services.errors import N_, Conflict, InvalidInput, ServiceError
from app.services.handoffs import (
    apply_event,
    available_events,
    send_handoff,
)
from app.services.handoffs import lists as handoff_lists
from app.services.handoffs.deadlines import is_overdue
from app.services.handoffs.lists import Box, HandoffFilters
from app.services.handoffs.repeats import answered_alike, fresh
from app.services.handoffs.same_purpose import open_for_purpose, others_for_same_purpose
from app.services.people import access, identity
from app.services.people.registration import active_consent
from app.services.repeats import AlreadyRecorded
from app.services.structures import reference_item, structure_by_id
from app.services.submissions import AlreadySubmitted, fulfil
from app.unit_of_work import attempt
from app.web import submissions
from app.web.confirmations import PERSON, flash_naming, shown_on_page, who
from app.web.context import actor, dbs, label, named, roles_required, today, vault
from app.web.forms_support import attach_error, choices, keeps_typed_values
from app.web.handoffs import follow_through, partners
from app.web.handoffs.answer_forms import read_form, shown_form
from app.web.handoffs.blueprint import bp
from app.web.handoffs.forms import ActionForm, SendForm, employment_from
from app.web.labels import enum_label
from app.web.listing import window_from_request
from app.web.mentions import names_the_person

# What hand-off pages show of the identity, to a structure that follows the person.
NAME_FIELDS = ("last_name", "first_name")


def _now() -> datetime:
    return datetime.now(UTC)


def _filters() -> HandoffFilters:
    status = request.args.get("status", "")
    purpose = request.args.get("purpose", "")
    return HandoffFilters(
        status=HandoffStatus(status) if status in HandoffStatus._value2member_map_ else None,
        purpose=purpose if purpose in ("stage", "barrier") else None,
        overdue=request.args.get("overdue") == "1",
    )


@bp.get("/")
@roles_required(Role.CASEWORKER)
def index() -> ResponseReturnValue:
    session, user = dbs(), actor()
    box = Box.OUTBOX if request.args.get("box") == "out" else Box.INBOX
    days = current_app.config["HANDOFF_OVERDUE_DAYS"]
    filters = _filters()
    try:
        page = handoff_lists.list_box(
            session,
            user,
            box,
            filters=filters,
            now=_now(),
            today=today(),
            overdue_days=days,
            window=window_from_request(),
        )
    except InvalidInput:  # the only one: a cursor that Relais did not give
        abort(400)
    # Names of the people the structure follows, for the rows of this page only (audited).
    names = identity.reveal_identities(
        vault(), session, user, page.followed_people(), "handoff_list", NAME_FIELDS
    )
    counts = {
        b: handoff_lists.box_counts(session, user, b, now=_now(), overdue_days=days) for b in Box
    }
    return render_template(
        "handoffs/index.html",
        page=page,
        names=names,
        box=box,
        Box=Box,
        counts=counts,
        filters=filters,
        overdue_since=handoff_lists.overdue_since(_now(), days),
        statuses=list(HandoffStatus),
    )


def _purpose_choices(person_id: uuid.UUID) -> list[SelectChoice]:
    session = dbs()
    options = [
        SelectChoice(f"stage:{c.value}", c.label) for c in choices(session, ReferenceKind.STAGE)
    ]
    for barrier in handoff_lists.person_barriers(session, person_id):
        if not barrier.status.is_closed:
            text = _("Barrier: %(category)s", category=label(barrier.category))
            options.append(SelectChoice(f"barrier:{barrier.id.hex}", text))
    return options


def _purpose_codes(person_id: uuid.UUID, value: str | None) -> tuple[str | None, str | None]:
    """The barrier category and the stage a purpose of the form names (None, None if none)."""
    kind, _sep, code = (value or "").partition(":")
    if kind == "stage":
        return None, code
    barrier = pathways.find_barrier(dbs(), person_id, code) if kind == "barrier" else None
    if barrier is not None:
        return barrier.category.code, None
    return None, None


@bp.route("/new/<pseudonym>", methods=["GET", "POST"])
@keeps_typed_values
@roles_required(Role.CASEWORKER)
def new(pseudonym: str) -> ResponseReturnValue:
    session, user = dbs(), actor()
    person = access.followed_person(session, user, pseudonym, today())
    form = SendForm()
    form.purpose.choices = _purpose_choices(person.id)
    if not form.is_submitted() and request.args.get("purpose") in {
        c.value for c in form.purpose.choices
    }:
        form.purpose.data = request.args["purpose"]
    # "Reorient": the purpose and note of a hand-off that came to nothing, its partner left out.
    reorienting = follow_through.reorientation(person)
    if reorienting is not None and not form.is_submitted():
        form.purpose.data = reorienting.purpose
        form.note.data = reorienting.note
    barrier_code, stage_code = _purpose_codes(person.id, form.purpose.data)
    suggestions = suggest_partners(
        session,
        person,
        purpose_barrier=barrier_code,
        purpose_stage=stage_code,
        exclude={user.structure_id or 0, reorienting.excluded if reorienting else 0},
        today=today(),
        stale_months=current_app.config["DIRECTORY_STALE_MONTHS"],
    )
    form.to_structure.choices = partners.suggested_choices(
        suggestions, bool(barrier_code or stage_code)
    )
    consent = active_consent(session, person.id)
    # "Suggest partners" re-reads the purpose and shows the page again; it sends nothing.
    suggesting = request.method == "POST" and "suggest" in request.form
    same_purpose: list[Handoff] = []
    full: Structure | None = None
    if consent is not None and not suggesting and form.validate_on_submit():
        full = partners.full_partner(form)  # sending to a full partner asks to confirm
        try:
            with attempt():
                handoff, same_purpose = _send(form, person, hold=full is not None)
        except AlreadySubmitted as exc:
            back = url_for("people.detail", pseudonym=person.pseudonym)
            return submissions.already_recorded(exc, back)
        except ServiceError as exc:
            attach_error(form, exc, {"consent": "consent_confirmed"})
        else:
            if handoff is not None:
                message = _(
                    "Hand-off of %(person)s sent to %(to_structure)s.",
                    person=PERSON,
                    to_structure=named(handoff.to_structure).to,
                )
                flash_naming(person, message)
                return redirect(url_for("handoffs.detail", handoff_id=handoff.id.hex))
    shown = [s for s in suggestions if s.fit.suggested]
    return render_template(
        "handoffs/new.html",
        form=form,
        person=person,
        person_name=who(person),  # the sender follows the person: the name, audited
        consent=consent,
        suggestions=shown,
        details=partners.details(shown),
        days_text=partners.days_text,
        share_text=partners.share_text,
        full_partner=full,
        purpose_chosen=bool(barrier_code or stage_code),
        same_purpose=same_purpose,
        reorienting=reorienting,
        # The "no solution found" route needs a follow-up now (not the reading grace period).
        may_record_no_solution=access.may_change(session, user, person),
    )


def _send(
    form: SendForm, person: Beneficiary, *, hold: bool = False
) -> tuple[Handoff | None, list[Handoff]]:
    """Send the hand-off the form describes, once per form token.

    If the person has open hand-offs for the same purpose and the sender has not confirmed
    yet, nothing is sent: they are returned, for the page to show before sending again.
    ``hold``: nothing is sent either (the partner is full and the sender has not confirmed).
    """
    session, user = dbs(), actor()
    submissions.ensure_unused(form)  # a second submission shows the hand-off, not the warning
    kind, _sep, value = form.purpose.data.partition(":")
    target = _structure(form.to_structure.data)
    barrier = pathways.barrier_of(session, person, value) if kind == "barrier" else None
    if target is None:
        raise InvalidInput(N_("Choose another active partner structure."), field="to_structure")
    stage = reference_item(session, ReferenceKind.STAGE, value) if kind == "stage" else None
    same = open_for_purpose(session, person.id, stage=stage, barrier=barrier)
    # The note is checked against the person's identity; both warnings show at once.
    naming = names_the_person(form, person, form.note)
    if naming or hold or (same and not form.send_anyway.data):
        submissions.ensure_unused(form)  # the twin of this submission may be among them
        return None, same
    claimed = submissions.claim(form, "handoff")
    handoff = send_handoff(
        session,
        vault(),
        user,
        person,
        to_structure=target,
        now=_now(),
        purpose_stage_code=value if kind == "stage" else None,
        purpose_barrier=barrier,
        note=form.note.data,
        consent_confirmed=bool(form.consent_confirmed.data),
    )
    fulfil(session, claimed, url_for("handoffs.detail", handoff_id=handoff.id.hex))
    return handoff, same


def _structure(value: str | None) -> Structure | None:
    """The structure a form names by id (the service checks that it is an active partner)."""
    return structure_by_id(dbs(), value)


def _detail_context(
    handoff: Handoff, failed: dict[HandoffEvent, ActionForm] | None = None
) -> dict[str, object]:
    """What the hand-off page shows; a ``failed`` action form keeps what was typed and its
    errors (if the action is still possible)."""
    session, user = dbs(), actor()
    person = handoff.beneficiary
    events = available_events(user, handoff)
    follows = access.open_follow_up(session, person.id, user.structure_id or 0) is not None
    forms = {event: shown_form(handoff, event) for event in events}
    forms.update({event: form for event, form in (failed or {}).items() if event in forms})
    who = (
        identity.reveal_identity(vault(), session, user, person, "handoff_page", NAME_FIELDS)
        if handoff_lists.follows_person(session, user, person, today())
        else None
    )
    if who is not None:
        shown_on_page(person, who)
    return {
        "handoff": handoff,
        "person": person,
        "who": who,
        "events": events,
        "forms": forms,
        "follows": follows,
        "texts": handoff_lists.handoff_texts(session, vault(), handoff),
        "chain": handoff_lists.chain(session, handoff),
        "same_purpose": others_for_same_purpose(session, handoff),
        "barriers": handoff_lists.person_barriers(session, person.id),
        "overdue": is_overdue(handoff, _now(), current_app.config["HANDOFF_OVERDUE_DAYS"]),
        "today": today(),
        "HandoffEvent": HandoffEvent,
        "backdated": BACKDATED_EVENTS,
        **follow_through.detail_context(handoff),
    }


@bp.get("/<handoff_id>")
@roles_required(Role.CASEWORKER)
def detail(handoff_id: str) -> ResponseReturnValue:
    handoff = handoff_lists.handoff_for_party(dbs(), actor(), handoff_id)
    return render_template("handoffs/detail.html", **_detail_context(handoff))


def _event_arguments(event: HandoffEvent, form: ActionForm, handoff: Handoff) -> dict[str, object]:
    """What the service needs for ``event``, read from the form (``InvalidInput`` if missing)."""
    arguments: dict[str, object] = {"message": form.message.data}
    if event is HandoffEvent.DECLINE:
        arguments["reason_code"] = form.reason.data or None
    elif event in (HandoffEvent.COMPLETE, HandoffEvent.NOT_COMPLETE):
        arguments["reason_code"] = form.outcome.data or None
    elif event is HandoffEvent.REDIRECT:
        target = _structure(form.redirect_to.data)
        if target is None or target.id in (handoff.to_structure_id, handoff.from_structure_id):
            raise InvalidInput(N_("Choose the partner to redirect to."), field="redirect_to")
        arguments["redirect_to"] = target
    if event in BACKDATED_EVENTS:
        arguments["on"] = form.on.data or today()
    if event is HandoffEvent.COMPLETE:
        arguments["employment"] = employment_from(form, form.on.data or today())
    return arguments


@bp.post("/<handoff_id>/<event_name>")
@keeps_typed_values
@roles_required(Role.CASEWORKER)
def act(handoff_id: str, event_name: str) -> ResponseReturnValue:
    session, user = dbs(), actor()
    handoff = handoff_lists.handoff_for_party(session, user, handoff_id, answering=True)
    if event_name not in HandoffEvent._value2member_map_ or event_name in ("send", "expire"):
        return redirect(url_for("handoffs.detail", handoff_id=handoff.id.hex))
    event = HandoffEvent(event_name)
    form = read_form(event)
    if not form.validate_on_submit():
        return _refused(handoff, event, form)
    if names_the_person(form, handoff.beneficiary, form.message):
        return _refused(handoff, event, form)
    try:
        with attempt():
            arguments = {"now": _now(), **_event_arguments(event, form, handoff)}
            result = apply_event(session, vault(), user, handoff, event, **arguments)  # type: ignore[arg-type]
    except ServiceError as exc:
        # The same answer sent twice: at once (the version refused the second), or after.
        reason = getattr(form, _reason_field(event)).data
        if isinstance(exc, AlreadyRecorded) or (
            isinstance(exc, Conflict)
            and answered_alike(user, fresh(session, handoff), event, reason)
        ):
            return submissions.shown_once(url_for("handoffs.detail", handoff_id=handoff.id.hex))
        attach_error(form, exc, {"reason": _reason_field(event)})
        return _refused(handoff, event, form)
    # Named when shown: the hand-off's page reveals the name when the structure may see it.
    done = _("Done: %(what)s (%(person)s).", what=_event_done(event), person=PERSON)
    flash_naming(result.beneficiary, done)
    return redirect(url_for("handoffs.detail", handoff_id=result.id.hex))


def _reason_field(event: HandoffEvent) -> str:
    return "reason" if event is HandoffEvent.DECLINE else "outcome"


def _refused(handoff: Handoff, event: HandoffEvent, form: ActionForm) -> ResponseReturnValue:
    """The hand-off page again, the refused action's form with what was typed and why."""
    failed = {event: shown_form(handoff, event, form)}
    return render_template("handoffs/detail.html", **_detail_context(handoff, failed))


def _event_done(event: HandoffEvent) -> str:
    return enum_label(event).lower()
