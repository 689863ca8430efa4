"""The endpoints of /api/v1 (docs/api.md). Each calls the web's own services with the token's
service account as the actor, so the API sees and does exactly what a caseworker of the
token's structure can; identity is read through the same audited reveal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, current_app, request, url_for
from pydantic import BaseModel
from spectree import Response as Answers

from app.domain.handoffs import HandoffEvent
from app.models import Beneficiary, FollowUp
from app.models import Handoff as HandoffRow
from app.services.api import reading
from app.services.directory.interop.export import export_directory
from app.services.handoffs import apply_event, send_handoff
from app.services.handoffs import lists as handoff_lists
from app.services.handoffs.lists import Box
from app.services.people import access, identity
from app.services.people.duplicates import find_possible_duplicates
from app.services.people.identity import Identity as IdentityValues
from app.services.people.registration import ConsentInput, NewPerson, register_person
from app.unit_of_work import keep_writes_on_error
from app.web.api import problems, schemas
from app.web.api.blueprint import api_actor, bp, now, spec
from app.web.api.idempotent import idempotent
from app.web.api.problems import ApiProblem
from app.web.context import dbs, today, vault

PEOPLE, HANDOFFS, DIRECTORY = "people", "handoffs", "directory"
_ERRORS = {f"HTTP_{status}": schemas.Problem for status in (400, 401, 403, 404, 422, 429)}
_POST_ERRORS = {**_ERRORS, "HTTP_409": schemas.Problem}


def _answers(status: int, model: type[BaseModel], *, post: bool = False) -> Answers:
    return Answers(**{f"HTTP_{status}": model}, **(_POST_ERRORS if post else _ERRORS))


def _json(model: BaseModel, status: int = 200, location: str | None = None) -> Response:
    response = Response(
        model.model_dump_json(by_alias=True), status=status, mimetype="application/json"
    )
    if location:
        response.headers["Location"] = location
    return response


def _body(model: type[Any]) -> Any:
    found = getattr(request, "context", None)
    value = getattr(found, "json", None) if found is not None else None
    if not isinstance(value, model):
        raise ApiProblem(400, "Send a JSON body (Content-Type: application/json).")
    return value


def _query(model: type[Any]) -> Any:
    found = getattr(request, "context", None)
    value = getattr(found, "query", None) if found is not None else None
    return value if isinstance(value, model) else model()


# -- people ----------------------------------------------------------------------------------


def _person(
    person: Beneficiary,
    follow_up: FollowUp | None,
    shown: IdentityValues | None = None,
    barriers: list[schemas.OpenBarrier] | None = None,
) -> schemas.Person:
    return schemas.Person(
        pseudonym=person.pseudonym,
        cohorts=sorted(item.code for item in person.cohorts),
        qpv=person.qpv.code if person.qpv else None,
        sex=person.sex,
        education_level=person.education_level,
        consent=reading.consent_on_record(dbs(), person),
        follow_up=schemas.FollowUp(started_on=follow_up.started_on, ended_on=follow_up.ended_on)
        if follow_up
        else None,
        identity=schemas.Identity(
            last_name=shown.last_name,
            first_name=shown.first_name,
            birth_date=shown.birth_date,
            phone=shown.phone or None,
            email=shown.email or None,
            address=shown.address or None,
            france_travail_id=shown.france_travail_id or None,
            ine=shown.ine or None,
            notes=shown.notes or None,
        )
        if shown is not None
        else None,
        open_barriers=barriers,
    )


@bp.post("/people")
@spec.validate(
    json=schemas.PersonIn,
    headers=schemas.IdempotencyHeaders,
    resp=_answers(201, schemas.Person, post=True),
    tags=[PEOPLE],
    operation_id="registerPerson",
)
@idempotent
def register_person_() -> Response:
    """Register a person followed by your structure

    The same checks as the web's registration form: the identity's values, the cohorts and
    the QPV (codes), the consent's date. A possible duplicate (the same name and birth date,
    e-mail or phone) is a 409 problem listing the pseudonyms your structure follows
    (``duplicates``) and whether one is followed elsewhere (``elsewhere``); send the request
    again with ``register_anyway: true`` and a new Idempotency-Key to register all the same.
    The answer holds no identity.
    """
    body: schemas.PersonIn = _body(schemas.PersonIn)
    session, user, day = dbs(), api_actor(), today()
    typed = IdentityValues(**body.identity.model_dump())
    new = NewPerson(
        identity=typed,
        cohort_codes=list(dict.fromkeys(body.cohorts)),
        qpv_code=body.qpv,
        sex=body.sex,
        education_level=body.education_level,
        consent=ConsentInput(method=body.consent.method, given_on=body.consent.given_on)
        if body.consent
        else None,
    )
    cleaned = identity.clean_identity(typed, day)
    duplicates = find_possible_duplicates(session, vault(), user, cleaned, today=day)
    if duplicates.found and not body.register_anyway:
        # The lookup read identities: its audit event is committed with this refusal (and
        # the answer kept for the Idempotency-Key), as the web's warning page commits it.
        keep_writes_on_error()
        return problems.from_problem(
            ApiProblem(
                409,
                "This person may be registered already.",
                code="possible-duplicate",
                duplicates=[person.pseudonym for person in duplicates.followed],
                elsewhere=duplicates.elsewhere,
            )
        )
    person = register_person(session, vault(), user, new, today=day)
    follow_up = reading.follow_ups_of(session, user, [person]).get(person.id)
    location = url_for("api.get_person", pseudonym=person.pseudonym)
    return _json(_person(person, follow_up), 201, location)


@bp.get("/people")
@spec.validate(
    query=schemas.PeopleQuery,
    resp=_answers(200, schemas.PeoplePage),
    tags=[PEOPLE],
    operation_id="listPeople",
)
def list_people() -> Response:
    """The people your structure follows

    By pseudonym, a page at a time (``cursor``: the ``next_cursor`` of the previous page).
    Each person's name and birth date are given; each reading is recorded in the audit log,
    as on the web.
    """
    query: schemas.PeopleQuery = _query(schemas.PeopleQuery)
    session, user = dbs(), api_actor()
    page = reading.people_page(session, user, today=today(), after=query.cursor, limit=query.limit)
    shown = identity.reveal_identities(
        vault(), session, user, page.people, "api", identity.SUMMARY_FIELDS
    )
    items = [_person(p, page.follow_ups.get(p.id), shown[p.id]) for p in page.people]
    return _json(schemas.PeoplePage(items=items, next_cursor=page.next_cursor))


@bp.get("/people/<pseudonym>")
@spec.validate(
    resp=_answers(200, schemas.Person),
    tags=[PEOPLE],
    operation_id="getPerson",
)
def get_person(pseudonym: str) -> Response:
    """One person your structure follows, with their identity (the reading is audited)"""
    session, user = dbs(), api_actor()
    person = access.followed_person(session, user, pseudonym, today())
    shown = identity.reveal_identity(vault(), session, user, person, "api")
    follow_up = reading.follow_ups_of(session, user, [person]).get(person.id)
    barriers = [
        schemas.OpenBarrier(
            id=str(barrier.id),
            category=barrier.category.code,
            status=barrier.status.value,
            level=barrier.level.value if barrier.level else None,
            identified_on=barrier.identified_on,
        )
        for barrier in handoff_lists.person_barriers(session, person.id)
        if not barrier.status.is_closed
    ]
    return _json(_person(person, follow_up, shown, barriers))


# -- hand-offs -------------------------------------------------------------------------------


def _handoff(handoff: HandoffRow, changed_at: Any = None) -> schemas.Handoff:
    return schemas.Handoff(
        id=str(handoff.id),
        version=handoff.version,
        status=handoff.status.value,
        pseudonym=handoff.beneficiary.pseudonym,
        from_structure=handoff.from_structure.code,
        to_structure=handoff.to_structure.code,
        purpose_stage=handoff.purpose_stage.code if handoff.purpose_stage else None,
        purpose_barrier=str(handoff.purpose_barrier_id) if handoff.purpose_barrier_id else None,
        sent_at=handoff.sent_at,
        answered_on=handoff.answered_on,
        first_contact_on=handoff.first_contact_on,
        closed_on=handoff.closed_on,
        decline_reason=handoff.decline_reason.code if handoff.decline_reason else None,
        outcome=handoff.outcome.code if handoff.outcome else None,
        parent_id=str(handoff.parent_id) if handoff.parent_id else None,
        changed_at=changed_at,
    )


@bp.post("/handoffs")
@spec.validate(
    json=schemas.HandoffIn,
    headers=schemas.IdempotencyHeaders,
    resp=_answers(201, schemas.Handoff, post=True),
    tags=[HANDOFFS],
    operation_id="sendHandoff",
)
@idempotent
def send_handoff_() -> Response:
    """Hand a person your structure follows off to a partner

    For a stage (``purpose_stage``, a code) or one of the person's barriers
    (``purpose_barrier``, its id), with the person's consent on record and confirmed for this
    hand-off. The note is sealed like the web's.
    """
    body: schemas.HandoffIn = _body(schemas.HandoffIn)
    session, user = dbs(), api_actor()
    person = access.followed_person(session, user, body.pseudonym, today())
    receiver = reading.structure_by_code(session, body.to_structure, field="to_structure")
    barrier = (
        reading.barrier_of(session, person, body.purpose_barrier) if body.purpose_barrier else None
    )
    handoff = send_handoff(
        session,
        vault(),
        user,
        person,
        to_structure=receiver,
        now=now(),
        purpose_stage_code=body.purpose_stage,
        purpose_barrier=barrier,
        note=body.note,
        consent_confirmed=body.consent_confirmed,
    )
    location = url_for("api.get_handoff", handoff_id=str(handoff.id))
    return _json(_handoff(handoff), 201, location)


@bp.get("/handoffs")
@spec.validate(
    query=schemas.HandoffsQuery,
    resp=_answers(200, schemas.HandoffChanges),
    tags=[HANDOFFS],
    operation_id="listHandoffChanges",
)
def list_handoffs() -> Response:
    """The hand-offs of your inbox or outbox that changed since a cursor

    Without ``since``, every hand-off of the box; then give the ``next_cursor`` of each answer
    as ``since`` to get only what changed after it (oldest change first). A change may come
    twice, never be missed: keep the highest ``version`` of each hand-off.
    """
    query: schemas.HandoffsQuery = _query(schemas.HandoffsQuery)
    box = Box.INBOX if query.box == "inbox" else Box.OUTBOX
    page = reading.changes_since(
        dbs(), api_actor(), box, since=query.since, limit=query.limit, now=now()
    )
    items = [_handoff(change.handoff, change.changed_at) for change in page.changes]
    return _json(schemas.HandoffChanges(items=items, next_cursor=page.next_cursor))


@bp.get("/handoffs/<handoff_id>")
@spec.validate(
    resp=_answers(200, schemas.Handoff),
    tags=[HANDOFFS],
    operation_id="getHandoff",
)
def get_handoff(handoff_id: str) -> Response:
    """One hand-off your structure sent or received"""
    return _json(_handoff(handoff_lists.handoff_for_party(dbs(), api_actor(), handoff_id)))


def _answer(handoff_id: str, event: HandoffEvent, **arguments: Any) -> Response:
    session, user = dbs(), api_actor()
    handoff = handoff_lists.handoff_for_party(session, user, handoff_id)
    result = apply_event(session, vault(), user, handoff, event, now=now(), **arguments)
    return _json(_handoff(result))


def _answer_spec(model: type[BaseModel], operation: str) -> Callable[[Any], Any]:
    return spec.validate(
        json=model,
        headers=schemas.IdempotencyHeaders,
        resp=_answers(200, schemas.Handoff, post=True),
        tags=[HANDOFFS],
        operation_id=operation,
    )


@bp.post("/handoffs/<handoff_id>/accept")
@_answer_spec(schemas.AcceptIn, "acceptHandoff")
@idempotent
def accept(handoff_id: str) -> Response:
    """Accept a hand-off sent to your structure (your structure then follows the person)"""
    body: schemas.AcceptIn = _body(schemas.AcceptIn)
    return _answer(handoff_id, HandoffEvent.ACCEPT, on=body.on or today(), message=body.message)


@bp.post("/handoffs/<handoff_id>/decline")
@_answer_spec(schemas.DeclineIn, "declineHandoff")
@idempotent
def decline(handoff_id: str) -> Response:
    """Decline a hand-off sent to your structure, with a coded reason"""
    body: schemas.DeclineIn = _body(schemas.DeclineIn)
    return _answer(handoff_id, HandoffEvent.DECLINE, reason_code=body.reason, message=body.message)


@bp.post("/handoffs/<handoff_id>/redirect")
@_answer_spec(schemas.RedirectIn, "redirectHandoff")
@idempotent
def redirect_(handoff_id: str) -> Response:
    """Redirect a hand-off sent to your structure to another partner (answers the new one)"""
    body: schemas.RedirectIn = _body(schemas.RedirectIn)
    session, user = dbs(), api_actor()
    handoff = handoff_lists.handoff_for_party(session, user, handoff_id)
    target = reading.structure_by_code(session, body.to_structure, field="to_structure")
    if target.id in (handoff.to_structure_id, handoff.from_structure_id):
        raise ApiProblem(
            422,
            "Choose the partner to redirect to.",
            errors=[{"field": "to_structure", "message": "Choose another partner."}],
        )
    return _answer(handoff_id, HandoffEvent.REDIRECT, redirect_to=target, message=body.message)


@bp.post("/handoffs/<handoff_id>/first-contact")
@_answer_spec(schemas.FirstContactIn, "recordFirstContact")
@idempotent
def first_contact(handoff_id: str) -> Response:
    """Record the first contact with the person of an accepted hand-off"""
    body: schemas.FirstContactIn = _body(schemas.FirstContactIn)
    return _answer(
        handoff_id, HandoffEvent.FIRST_CONTACT, on=body.on or today(), message=body.message
    )


@bp.post("/handoffs/<handoff_id>/outcome")
@_answer_spec(schemas.OutcomeIn, "recordOutcome")
@idempotent
def outcome(handoff_id: str) -> Response:
    """Close a hand-off with its outcome (completed or not, and a coded outcome)"""
    body: schemas.OutcomeIn = _body(schemas.OutcomeIn)
    event = HandoffEvent.COMPLETE if body.completed else HandoffEvent.NOT_COMPLETE
    return _answer(
        handoff_id, event, on=body.on or today(), reason_code=body.outcome, message=body.message
    )


# -- directory -------------------------------------------------------------------------------


@bp.get("/directory")
@spec.validate(resp=_answers(200, schemas.Directory), tags=[DIRECTORY], operation_id="getDirectory")
def directory() -> Response:
    """The partner directory: structures and services in the data·inclusion shape"""
    base_url = (
        current_app.config.get("PUBLIC_BASE_URL")
        if current_app.config["PUBLIC_DIRECTORY"]
        else None
    )
    exported = export_directory(
        dbs(), source=current_app.config["DIRECTORY_SOURCE"], base_url=base_url
    )
    return _json(schemas.Directory(structures=exported.structures, services=exported.services))
