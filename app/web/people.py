"""Caseworkers: the people their structure follows, with identity and pathway."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from app.domain.roles import Role
from app.models import ReferenceKind
from app.services import access, identity, overview, pathways
from app.services.people import active_consent
from app.services.structures import reference_items
from app.web.context import actor, dbs, roles_required, today, vault
from app.web.listing import filters_from_request, page_from_request

bp = Blueprint("people", __name__, url_prefix="/people")


@bp.get("/")
@roles_required(Role.CASEWORKER)
def index() -> ResponseReturnValue:
    session, user = dbs(), actor()
    filters = filters_from_request()
    page = overview.caseload(
        session, user, today=today(), filters=filters, page=page_from_request()
    )
    identities = {
        row.person.id: identity.reveal_identity(
            vault(), session, user, row.person, "caseload", identity.SUMMARY_FIELDS
        )
        for row in page.items
    }
    session.commit()  # the reveals are audited
    return render_template(
        "people/index.html",
        page=page,
        identities=identities,
        filters=filters,
        cohorts=reference_items(session, ReferenceKind.COHORT),
        stages=reference_items(session, ReferenceKind.STAGE),
    )


@bp.get("/<pseudonym>")
@roles_required(Role.CASEWORKER)
def detail(pseudonym: str) -> ResponseReturnValue:
    session, user = dbs(), actor()
    person = access.followed_person(session, user, pseudonym, today())
    who = identity.reveal_identity(vault(), session, user, person, "person_page")
    timeline = pathways.timeline(session, person)
    texts = pathways.readable_texts(session, vault(), timeline)
    consent = active_consent(session, person.id)
    session.commit()
    return render_template(
        "people/detail.html",
        person=person,
        who=who,
        timeline=timeline,
        texts=texts,
        consent=consent,
        today=today(),
    )
