"""The authorisation matrix (``app/web/access.py``) against the application.

* every route of the application is classified, and every classified endpoint exists;
* the application takes its deny-by-default decision from the matrix (public routes, roles);
* for every classified route and every actor of one shared world - a caseworker of the
  structure that follows the person, of another structure, of the structure a hand-off of the
  person waits at, of a structure whose follow-up has ended (reading grace period), a
  coordinator, an administrator, a field worker, a visitor (public directory off, then on) -
  a GET and, where the route takes POST, a POST (a CSRF token and nothing else, so that no
  allowed request changes the world) with real object ids get the answer the matrix gives:
  allowed -> the page (200, or the redirect the route makes), a POST not refused by access
  control; refused -> 404 (or the route's own ``Refusal``), the sign-in page for a visitor.

The expectations come from ``MATRIX`` and the relations written below, never from the views'
own checks. One world and one signed-in client per actor serve every case (module scope).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, scoped_session
from werkzeug.routing import Rule as UrlRule
from werkzeug.test import TestResponse

from app.domain.handoffs import HandoffEvent, HandoffStatus
from app.domain.roles import Role
from app.models import FollowUp, LinkScope
from app.services import imports
from app.services.api.tokens import create_token
from app.services.directory.editors import set_card_editor
from app.services.directory.network_events import EventInput, record_event
from app.services.handoffs import apply_event
from app.services.handoffs.link_tokens import new_link
from app.services.pathways import add_barrier, end_follow_up
from app.services.people.access import IDENTITY_GRACE_DAYS
from app.services.security.invitations import invite
from app.services.security.managers import set_manager
from app.services.security.vault import Vault
from app.services.statistics.dashboard import TABLE_NAMES
from app.web import access
from app.web.access import MATRIX, Refusal, Relation
from tests import factories
from tests.services.imports.helpers import HEADER, OTHER, csv_file
from tests.web.helpers import csrf_token, login

TODAY = datetime.now(ZoneInfo("Europe/Paris")).date()  # the day the views write on forms


# -- the actors ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role | None  # None: a visitor, not signed in
    # How the actor's structure stands to each object of the world (caseworkers only), by the
    # kind of object a route names; an object not listed is ``Relation.OTHER``.
    relations: dict[str, Relation] = field(default_factory=dict)
    public_directory: bool = False  # RELAIS_PUBLIC_DIRECTORY during its requests

    def relation_to(self, kind: str | None) -> Relation | None:
        if kind in ACCOUNT_OBJECTS and self.role is not None:
            return Relation.OTHER  # the world's session belongs to no actor
        if self.role is not Role.CASEWORKER or kind is None:
            return None
        return self.relations.get(kind, Relation.OTHER)


EVERY_OBJECT = ("person", "handoff", "card", "import")
ACTORS = (
    # Follows the person, sent them to the pending receiver, imported people, edits its card
    # and manages its structure.
    Actor("own", Role.CASEWORKER, dict.fromkeys(EVERY_OBJECT, Relation.OWN)),
    Actor("other", Role.CASEWORKER),
    # A hand-off of the person waits for its answer there.
    Actor(
        "pending_receiver",
        Role.CASEWORKER,
        {"person": Relation.PENDING_RECEIVER, "handoff": Relation.PENDING_RECEIVER},
    ),
    # Followed the person (after an accepted hand-off) and ended it a few days ago.
    Actor("ended", Role.CASEWORKER, {"person": Relation.ENDED}),
    Actor("coordinator", Role.COORDINATOR),
    Actor("admin", Role.ADMIN),
    Actor("field_worker", Role.FIELD_WORKER),
    Actor("visitor", None),
    Actor("visitor_public_directory", None, public_directory=True),
)


# The kind of object a route names, by its URL arguments (the first found).
OBJECT_OF_ARGUMENT = {
    "pseudonym": "person",
    "handoff_id": "handoff",
    "code": "card",
    "import_id": "import",
    "public_id": "session",
}
# Objects of an account (whatever its role): the world's one is nobody's, so every actor is
# refused it (its owner's case is tested in tests/web/test_sessions.py).
ACCOUNT_OBJECTS = {"session"}
# Allowed GETs that answer with a redirect by design (not a refusal).
REDIRECTING = {"home.index", "imports.done", "auth.second_step"}
# Query strings a route needs to answer with its page (statistics over a period).
QUERIES: dict[str, dict[str, str]] = {
    "dashboard.export_table": {"start": "2026-01-01"},
    "dashboard.export_pathways": {"start": "2026-01-01"},
}
# URL arguments whose values differ by endpoint (the tables of two steering pages).
ARGUMENTS_OF: dict[str, dict[str, str]] = {
    "steering.unmet_needs_export": {"table": "unmet-needs-quarters"},
}


# -- the world -------------------------------------------------------------------------------


@dataclass
class World:
    emails: dict[str, str]
    arguments: dict[str, Any]  # a real value for each URL argument name


def _build_world(session: Session, vault: Vault) -> World:
    a, b, c, d = (factories.structure(session) for _ in range(4))
    own = factories.user(session, structure_=a)
    set_card_editor(session, None, own, True)
    # ... and manages its structure's accounts, API tokens and webhooks (routes naming the
    # structure by its code: the "card" object).
    set_manager(session, None, own, True)
    users = {
        "own": own,
        "pending_receiver": factories.user(session, structure_=b),
        "other": factories.user(session, structure_=c),
        "ended": factories.user(session, structure_=d),
        "coordinator": factories.user(session, Role.COORDINATOR),
        "admin": factories.user(session, Role.ADMIN),
        "field_worker": factories.user(session, Role.FIELD_WORKER),
    }
    bystander = factories.user(session, structure_=c)
    # A colleague of "own" (its structure's accounts pages act on them) and an invitation
    # waiting in its structure.
    colleague = factories.user(session, structure_=a)
    invitation = invite(
        session,
        None,
        email="invited@relais.example",
        role=Role.CASEWORKER,
        structure=a,
        manager=False,
        now=datetime.now(UTC),
        base_url="http://localhost",
    )
    person = factories.person(session, vault, own)
    barrier = add_barrier(
        session, own, person, category_code="mobility", identified_on=date(2026, 11, 3)
    )
    pending = factories.handoff(session, vault, own, person, b)
    # A live answer link of the pending hand-off (as mailed to a structure without accounts):
    # its page is open to everyone who holds it.
    link_token = new_link(
        session,
        pending,
        b.id,
        LinkScope.ANSWER,
        now=datetime.now(UTC),
        expires_at=datetime.now(UTC) + timedelta(days=30),
    )
    # D received the person, followed them, and ended its follow-up three days ago.
    sent = datetime.combine(TODAY - timedelta(days=20), time(9), UTC)
    to_d = factories.handoff(session, vault, own, person, d, now=sent)
    apply_event(session, vault, users["ended"], to_d, HandoffEvent.ACCEPT, now=sent)
    end_follow_up(session, users["ended"], person, reason_code="moved", on=TODAY - timedelta(3))
    event = record_event(
        session,
        users["coordinator"],
        EventInput("Rencontre des partenaires", date(2026, 11, 10), 12, [a.id, b.id]),
        today=TODAY,
    )
    imported = imports.import_caseload(session, vault, own, csv_file(HEADER, OTHER), today=TODAY)
    api_token, _value = create_token(
        session, own, a, name="Matrix", scopes=["people:read"], now=datetime.now(UTC)
    )
    hook = factories.webhook(session, a)
    session.commit()
    _check_world(session, person.id, pending, {"own": a.id, "ended": d.id, "other": c.id})
    assert imported.import_id is not None
    return World(
        emails={name: user.email for name, user in users.items()},
        arguments={
            "pseudonym": person.pseudonym,
            "barrier_id": barrier.id.hex,
            "handoff_id": pending.id.hex,
            # "send" is no answer: the page of the hand-off, for its parties only.
            "event_name": HandoffEvent.SEND.value,
            "code": a.code,
            "import_id": imported.import_id,
            "event_id": event.id,
            # An account no actor signs in with: an administrator's action on it (ending its
            # sessions) must not sign an actor out.
            "user_id": bystander.id,
            "name": TABLE_NAMES[0],
            "table": "decisions-by-type",  # a table of /steering/delays
            "quarter": "2026-Q2",  # the CDE report's bundle
            "filename": "relais.css",
            "public_id": "s" * 22,
            # A hand-off's answer link: its page, to everyone (on the password-reset page, a
            # reset link that does not exist: that page says so, to everyone).
            "token": link_token,
            # One of the own structure's API tokens (its managers' pages).
            "token_id": api_token.id,
            "account_id": colleague.id,
            "invitation_id": invitation.id,
            # A webhook of the "own" structure (named with its code: the "card" object).
            "webhook_id": hook.endpoint.id.hex,
        },
    )


def _check_world(
    session: Session, person_id: Any, pending: Any, structures: dict[str, int]
) -> None:
    """The relations the actors are said to have hold (a wrong world would prove nothing)."""
    follow_ups = {
        f.structure_id: f
        for f in session.scalars(select(FollowUp).where(FollowUp.beneficiary_id == person_id))
    }
    assert follow_ups[structures["own"]].ended_on is None
    ended = follow_ups[structures["ended"]].ended_on
    assert ended is not None
    assert TODAY - ended < timedelta(days=IDENTITY_GRACE_DAYS)
    assert structures["other"] not in follow_ups
    assert pending.status is HandoffStatus.SENT
    assert pending.to_structure_id not in follow_ups


@dataclass
class Browser:
    """One actor's client, signed in once (signing out is its last case), and its CSRF
    token."""

    client: FlaskClient
    email: str | None
    token: str = ""

    def sign_in(self) -> None:
        if self.email is not None:
            assert login(self.client, self.email).status_code == 302
        page = "/account/password" if self.email is not None else "/login"
        self.token = csrf_token(self.client, page)


@pytest.fixture(scope="module")
def world(app: Flask, module_db_session: scoped_session[Session]) -> World:
    return _build_world(module_db_session(), app.extensions["relais_vault"])


@pytest.fixture(scope="module")
def browsers(app: Flask, world: World) -> dict[str, Browser]:
    found = {}
    for actor in ACTORS:
        browser = Browser(app.test_client(), world.emails.get(actor.name))
        browser.sign_in()
        found[actor.name] = browser
    return found


# -- every route classified ------------------------------------------------------------------


def _endpoints(app: Flask) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules()}


def test_every_route_is_classified(app: Flask) -> None:
    missing = sorted(_endpoints(app) - set(MATRIX))
    assert not missing, (
        f"routes missing from the authorisation matrix (app/web/access.py): {missing}; "
        "classify each one there, in one line (see docs/security.md, 'Authorisation matrix')"
    )


def test_every_classified_endpoint_exists(app: Flask) -> None:
    gone = sorted(set(MATRIX) - _endpoints(app))
    assert not gone, f"endpoints of the authorisation matrix that no route has: {gone}"


def test_the_public_endpoints_come_from_the_matrix() -> None:
    from app.web import PUBLIC_ENDPOINTS

    public = {
        "static",
        "home.health",
        "auth.login",
        "auth.second_step",
        "auth.set_language",
        "auth.forgotten_password",
        "auth.reset_password",
        "api.openapi",
        "api.docs",
        "accounts.invitation",
        "handoff_links.page",
        "handoff_links.act",
        "handoff_links.done",
        "handoff_links.request_account",
        "auth.proconnect_start",
        "auth.proconnect_callback",
    }
    assert public == PUBLIC_ENDPOINTS
    assert access.endpoints_of(access.Visitors.PUBLIC_DIRECTORY) == {
        "directory.index",
        "directory.card",
    }


def test_the_application_denies_by_the_matrix(
    app: Flask, browsers: dict[str, Browser], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The matrix, not the views, opens the routes: a route taken out of it is closed to
    everyone, a role taken out of a rule is refused, a public route made private asks to
    sign in - though the views are unchanged."""
    visitor, own, coordinator = (browsers[n].client for n in ("visitor", "own", "coordinator"))
    assert own.get("/account/contact").status_code == 200
    assert own.get("/people/").status_code == 200
    assert visitor.get("/health").status_code == 200
    monkeypatch.delitem(MATRIX, "auth.contact")
    monkeypatch.setitem(MATRIX, "people.index", access.roles(Role.COORDINATOR))
    monkeypatch.setitem(MATRIX, "home.health", access.signed_in())
    assert own.get("/account/contact").status_code == 404
    assert coordinator.get("/account/contact").status_code == 404
    assert "/login" in visitor.get("/account/contact").headers["Location"]
    assert own.get("/people/").status_code == 404
    assert "/login" in visitor.get("/health").headers["Location"]
    assert own.get("/health").status_code == 200


# -- role x relation x action ------------------------------------------------------------------


def _case(endpoint: str, actor: Actor) -> Any:
    return pytest.param(endpoint, actor, id=f"{endpoint}-{actor.name}")


# Cases that change the actor's own account run last: removing one's second factor (a
# coordinator is then held on the enrolment page), then signing out. Every other case of an
# actor runs in the session it signed in once.
LAST = ("auth.reset_two_factor", "auth.logout")
ORDER = sorted(
    MATRIX, key=lambda endpoint: (LAST.index(endpoint) + 1 if endpoint in LAST else 0, endpoint)
)
CASES = [_case(endpoint, actor) for endpoint in ORDER for actor in ACTORS]


def _url(app: Flask, rule: UrlRule, world: World) -> str:
    unknown = sorted(set(rule.arguments) - set(world.arguments))
    if unknown:
        pytest.fail(
            f"{rule.endpoint} takes {unknown}: give the world a real value for it "
            "(World.arguments in _build_world) and, if it names an object a caseworker's "
            "structure relates to, its kind in OBJECT_OF_ARGUMENT"
        )
    values = {name: world.arguments[name] for name in rule.arguments}
    values.update(ARGUMENTS_OF.get(rule.endpoint, {}))
    with app.test_request_context():
        return url_for(rule.endpoint, **values, **QUERIES.get(rule.endpoint, {}))


def _object_kind(rule: UrlRule) -> str | None:
    return next(
        (OBJECT_OF_ARGUMENT[name] for name in sorted(rule.arguments) if name in OBJECT_OF_ARGUMENT),
        None,
    )


def _send(app: Flask, browser: Browser, actor: Actor, method: str, url: str) -> TestResponse:
    previous = app.config["PUBLIC_DIRECTORY"]
    app.config["PUBLIC_DIRECTORY"] = actor.public_directory
    try:
        if method == "GET":
            return browser.client.get(url)
        return browser.client.post(url, data={"csrf_token": browser.token})
    finally:
        app.config["PUBLIC_DIRECTORY"] = previous


def _to_sign_in(answer: TestResponse) -> bool:
    """Sent to the sign-in page to come back to the page asked (not signing out's redirect)."""
    location = answer.headers.get("Location", "")
    return answer.status_code == 302 and "/login" in location and "next=" in location


def _problem(
    endpoint: str, method: str, actor: Actor, allowed: bool, answer: TestResponse
) -> str | None:
    """What is wrong with ``answer`` given the matrix's decision, or None."""
    status, rule = answer.status_code, MATRIX[endpoint]
    if rule.scope is not None:
        # The JSON API: a session is never accepted, whoever holds it (tests/web/test_api.py
        # checks the tokens and their scopes).
        return None if status == 401 else f"an API endpoint answered {status} to a session"
    if allowed:
        if _to_sign_in(answer) or status in (403, 404):
            return f"allowed but refused ({status})"
        if method == "GET" and status != (302 if endpoint in REDIRECTING else 200):
            return f"allowed, answered {status}"
        # A POST of an allowed actor reaches the view, which refuses the empty form (200 or 422
        # with its errors) or does what it does and redirects (or, for the keep-alive of a page
        # being typed in, answers nothing: 204).
        if method == "POST" and status not in (200, 204, 302, 303, 422):
            return f"allowed, answered {status}"
        return None
    if actor.role is None:
        return None if _to_sign_in(answer) else f"a visitor got {status}, not the sign-in page"
    if actor.role in rule.roles and rule.refusal is Refusal.REDIRECT:
        refused = status == 302 and not _to_sign_in(answer)
    else:
        refused = status == 404
    return None if refused else f"refused by the matrix, answered {status}"


@pytest.mark.parametrize(("endpoint", "actor"), CASES)
def test_the_matrix_holds(
    app: Flask, world: World, browsers: dict[str, Browser], endpoint: str, actor: Actor
) -> None:
    rule = MATRIX[endpoint]
    problems = []
    for url_rule in app.url_map.iter_rules(endpoint):
        relation = actor.relation_to(_object_kind(url_rule))
        allowed = rule.lets_in(actor.role, relation, public_directory=actor.public_directory)
        url = _url(app, url_rule, world)
        for method in sorted((url_rule.methods or set()) & {"GET", "POST"}):
            answer = _send(app, browsers[actor.name], actor, method, url)
            problem = _problem(endpoint, method, actor, allowed, answer)
            answer.close()  # a static file's response holds the file open
            if problem:
                problems.append(f"{method} {url} as {actor.name} ({relation}): {problem}")
    assert not problems, problems
