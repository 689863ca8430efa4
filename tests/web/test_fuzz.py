"""Fuzzing every route: no input gives a 500, and a refused write leaves nothing behind.

The routes come from ``app.url_map``; their path arguments are filled with real ids of a small
network (and sometimes with wrong ones); each role signs in once and reads every page it can,
which gives the forms (fields, options, hidden values) and the links (query parameters, ids) of
each route; the parameters the views read by name are found in the source (``fuzz_support``).
Hypothesis then sends, per route and method, generated values: control characters, other
scripts' digits, padded choices, 400-digit numbers, very long text, odd Unicode, nothing.

Each request must answer below 500. A POST answered with an error (400 and above), or with its
form shown again with errors, must leave every table's row count unchanged (audit tables aside
for a form shown again: reading an identity is audited even when the form is refused).

``RELAIS_FUZZ_EXAMPLES`` (examples per route and method; 10 by default, derandomised) raises the
number for a long run by hand; ``RELAIS_FUZZ_REPORT`` names a JSON file for the run's counts.
"""

from __future__ import annotations

import json
import os
import secrets
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from io import BytesIO
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter
from werkzeug.test import TestResponse

from app.domain.handoffs import HandoffEvent
from app.domain.roles import Role
from app.extensions import db
from app.models import Base, LinkScope, MailMessage, PasswordResetToken, StructureCard, User
from app.services.api.tokens import create_token
from app.services.directory.editors import set_card_editor
from app.services.directory.network_events import EventInput, record_event
from app.services.handoffs import links
from app.services.handoffs.link_tokens import new_link
from app.services.pathways import add_barrier, add_step
from app.services.security import invitations, sessions
from app.services.security.managers import set_manager
from app.services.security.password_reset import token_digest
from app.services.security.vault import Vault
from tests import factories
from tests.web import fuzz_support as fz
from tests.web.helpers import TOKEN, csrf_token, login

EXAMPLES = int(os.environ.get("RELAIS_FUZZ_EXAMPLES") or 10)
LONG_RUN = "RELAIS_FUZZ_EXAMPLES" in os.environ
REPORT = os.environ.get("RELAIS_FUZZ_REPORT")
SAME_ORIGIN = {"Origin": "http://localhost"}
ANONYMOUS = "anonymous"
MID_SIGN_IN = "second_step"  # the password given, the code not yet (the second step's page)
# A form shown again with its errors (app/web/form_errors.py, the fields' aria-invalid).
FORM_REFUSED = ('class="error-summary"', 'aria-invalid="true"')
# What a refused form may still write: its audit event, and the count of a failed sign-in
# (a wrong code or password counts towards the back-off: docs/security.md).
AUDIT_TABLES = ("audit_events", "audit_chain_head", "login_throttles")


@dataclass
class Fuzzed:
    """One role's signed-in client, its CSRF token and session cookie (restored before each
    request, so that a fuzzed sign-out or language change does not stick)."""

    client: FlaskClient
    email: str | None
    cookie_name: str
    token: str = ""
    cookie: str | None = None
    # Between the password and the code of an account with a second factor: never signed in.
    password_only: bool = False


@dataclass
class Catalogue:
    """What the crawl found: who reaches each route, with which forms and parameters."""

    pool: dict[str, set[str]]
    reached: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    forms: dict[tuple[str, str, str], list[tuple[str, fz.PageForm]]] = field(default_factory=dict)
    query_names: dict[str, dict[str, set[str]]] = field(default_factory=dict)


@pytest.fixture
def network(db_session: Session, vault: Vault) -> dict[str, Any]:
    """Two structures with a caseworker each (the first may edit its card), a coordinator, an
    administrator, a field worker; two people followed by the first, one of them with a step,
    a barrier and a hand-off pending at the second; a network event."""
    a = factories.structure(db_session, "FZA")
    b = factories.structure(db_session, "FZB")
    worker = factories.user(db_session, structure_=a, email="fuzz-a@relais.example")
    receiver = factories.user(db_session, structure_=b, email="fuzz-b@relais.example")
    coordinator = factories.user(db_session, Role.COORDINATOR, email="fuzz-c@relais.example")
    admin = factories.user(db_session, Role.ADMIN, email="fuzz-d@relais.example")
    factories.user(db_session, Role.FIELD_WORKER, email="fuzz-f@relais.example")
    factories.user(db_session, structure_=b, email="fuzz-e@relais.example", second_factor_=True)
    # Another browser of the caseworker's: its sessions page offers to end it.
    sessions.start(db_session, worker, device="Firefox, Linux", now=datetime.now(UTC))
    # A password-reset link of the receiver's (the token a mail would carry).
    reset_token = secrets.token_urlsafe(32)
    db_session.add(
        PasswordResetToken(
            user_id=receiver.id,
            token_hash=token_digest(reset_token),
            created_at=datetime.now(UTC),
            expires_at=datetime.now(UTC) + timedelta(minutes=30),
        )
    )
    set_card_editor(db_session, None, worker, True)
    # The caseworker manages FZA's accounts, with a colleague to act on, and an invitation
    # waiting (its token is a mail's).
    set_manager(db_session, None, worker, True)
    colleague = factories.user(db_session, structure_=a, email="fuzz-g@relais.example")
    invitation = invitations.invite(
        db_session,
        worker,
        email="fuzz-invited@relais.example",
        role=Role.CASEWORKER,
        structure=a,
        manager=False,
        now=datetime.now(UTC),
        base_url="http://localhost",
    )
    mail = db_session.scalars(
        select(MailMessage).where(MailMessage.to_address == "fuzz-invited@relais.example")
    ).one()
    invitation_token = (mail.body_text or "").split("/invitation/")[1].split()[0]
    hook = factories.webhook(db_session, a)
    person = factories.person(db_session, vault, worker)
    other = factories.person(db_session, vault, worker, last_name="Quillard", first_name="Wendy")
    add_step(
        db_session, vault, worker, person, stage_code="orientation", started_on=factories.TODAY
    )
    barrier = add_barrier(
        db_session, worker, person, category_code="mobility", identified_on=factories.TODAY
    )
    handoff = factories.handoff(db_session, vault, worker, person, b, now=datetime.now(UTC))
    # An answer link of that hand-off (the token a mail to a structure's contact would carry).
    link_token = new_link(
        db_session,
        handoff,
        b.id,
        LinkScope.ANSWER,
        now=datetime.now(UTC),
        expires_at=datetime.now(UTC) + timedelta(days=30),
    )
    # A structure without accounts (its card has a contact address) accepted a hand-off by
    # link: its follow-through link's page offers first contact, outcome and an account.
    c = factories.structure(db_session, "FZC")
    db_session.add(StructureCard(structure_id=c.id, email="contact@fzc.example"))
    to_c = factories.handoff(db_session, vault, worker, other, c, now=datetime.now(UTC))
    answer_token = new_link(
        db_session,
        to_c,
        c.id,
        LinkScope.ANSWER,
        now=datetime.now(UTC),
        expires_at=datetime.now(UTC) + timedelta(days=30),
    )
    accepted = links.act_by_link(
        db_session, vault, answer_token, HandoffEvent.ACCEPT, now=datetime.now(UTC)
    )
    follow_token = accepted.follow_through_token
    assert follow_token is not None
    event = record_event(
        db_session,
        coordinator,
        EventInput("Forum", factories.TODAY, 12, [a.id, b.id]),
        today=factories.TODAY,
    )
    # One of its API tokens (its managers' pages).
    api_token, _value = create_token(
        db_session, None, a, name="Fuzz", scopes=["people:read"], now=datetime.now(UTC)
    )
    db_session.commit()
    return {
        "token_id": {str(api_token.id)},
        "pseudonym": {person.pseudonym, other.pseudonym},
        "handoff_id": {handoff.id.hex},
        "barrier_id": {barrier.id.hex},
        "table": {"decisions-by-type", "delays-sent-to-answer-by-quarter", "unmet-needs-quarters"},
        "quarter": {"2026-Q2", "2026-3", "2026-9"},
        "code": {a.code, b.code},
        "user_id": {str(worker.id), str(receiver.id), str(coordinator.id), str(admin.id)},
        "event_id": {str(event.id)},
        "import_id": {secrets.token_hex(16)},
        "filename": {"relais.css", "favicon.svg"},
        "token": {reset_token, invitation_token, link_token, follow_token},
        "account_id": {str(colleague.id), str(worker.id)},
        "invitation_id": {str(invitation.id)},
        "webhook_id": {hook.endpoint.id.hex},
    }


ROLES = {
    "caseworker": "fuzz-a@relais.example",
    "receiver": "fuzz-b@relais.example",
    "coordinator": "fuzz-c@relais.example",
    "admin": "fuzz-d@relais.example",
    "field_worker": "fuzz-f@relais.example",
    ANONYMOUS: None,
    MID_SIGN_IN: "fuzz-e@relais.example",
}


def _sign_in(app: Flask) -> dict[str, Fuzzed]:
    clients = {}
    for role, email in ROLES.items():
        fuzzed = Fuzzed(
            app.test_client(),
            email,
            app.config["SESSION_COOKIE_NAME"],
            password_only=role == MID_SIGN_IN,
        )
        _refresh(fuzzed)
        clients[role] = fuzzed
    return clients


def _refresh(fuzzed: Fuzzed) -> None:
    """Sign in again (if a role) and keep the session cookie and a CSRF token. An account a
    fuzzed request deactivated (an administrator's or a manager's page) is opened again."""
    fuzzed.client.delete_cookie(fuzzed.cookie_name)
    if fuzzed.email:
        session = db.session()
        session.execute(update(User).where(User.email == fuzzed.email).values(active=True))
        session.commit()
    if fuzzed.password_only:
        token = csrf_token(fuzzed.client)
        data = {"email": fuzzed.email, "password": factories.PASSWORD, "csrf_token": token}
        assert fuzzed.client.post("/login", data=data).status_code == 302
        page = fuzzed.client.get("/login/code")
    else:
        if fuzzed.email:
            assert login(fuzzed.client, fuzzed.email).status_code == 302
        page = fuzzed.client.get("/login" if fuzzed.email is None else "/account/confirm")
    # A sign-in step added later must be completed here, in tests.web.helpers.login: a role
    # that is not signed in would fuzz nothing but redirects.
    assert page.status_code == 200, f"the fuzzer cannot sign in as {fuzzed.email}"
    found = TOKEN.search(page.get_data(as_text=True))
    assert found, "no CSRF token on the page"
    fuzzed.token = found.group(1)
    cookie = fuzzed.client.get_cookie(fuzzed.cookie_name)
    fuzzed.cookie = cookie.value if cookie else None


def _signed_out(fuzzed: Fuzzed, answer: TestResponse) -> bool:
    return (
        bool(fuzzed.email)
        and not fuzzed.password_only
        and "/login" in answer.headers.get("Location", "")
    )


def _match(adapter: MapAdapter, url: str, method: str) -> tuple[str, dict[str, Any]] | None:
    try:
        endpoint, arguments = adapter.match(fz.urlsplit(url).path, method=method)
    except HTTPException:
        return None
    return str(endpoint), arguments


def _urls(route: fz.Route, pool: dict[str, set[str]]) -> list[str]:
    """The route with real ids: each known value of each argument in turn (up to four, spread
    over the sorted values, the last included: the pool holds four tokens of different kinds,
    and the table names of several pages), the others at their first value; none when an
    argument has no known value yet."""
    if any(not pool.get(name) for name in route.arguments):
        return []
    first = {name: sorted(pool[name])[0] for name in route.arguments}
    choices = [first] + [
        {**first, name: value} for name in route.arguments for value in _spread(pool[name])
    ]
    urls = [fz.fill_path(route.rule, {n: fz.url_safe(v) for n, v in c.items()}) for c in choices]
    return list(dict.fromkeys(urls))


def _spread(values: set[str]) -> list[str]:
    """Up to three values other than the first, spread over the sorted values, the last one
    included."""
    ordered = sorted(values)
    n = len(ordered)
    return [ordered[i] for i in sorted({n // 3, 2 * n // 3, n - 1} - {0})]


def _crawl(app: Flask, clients: dict[str, Fuzzed], pool: dict[str, set[str]]) -> Catalogue:
    """Every role reads every page it can: who reaches what, the forms and the links."""
    catalogue = Catalogue({name: set(values) for name, values in pool.items()})
    adapter = app.url_map.bind("localhost")
    all_routes = fz.routes(app)
    for role, fuzzed in clients.items():
        pending = [r for r in all_routes if "GET" in r.methods]
        for _pass in range(2):  # ids found on a page may open routes skipped at first
            skipped = []
            for route in pending:
                urls = _urls(route, catalogue.pool)
                if not urls:
                    skipped.append(route)
                for url in urls:
                    _visit(adapter, catalogue, role, fuzzed, route, url)
            pending = skipped
        _try_bare_posts(catalogue, all_routes, role, fuzzed)
    return catalogue


def _visit(
    adapter: MapAdapter,
    catalogue: Catalogue,
    role: str,
    fuzzed: Fuzzed,
    route: fz.Route,
    url: str,
) -> None:
    answer = fuzzed.client.get(url)
    html = answer.get_data(as_text=True) if answer.mimetype == "text/html" else ""
    answer.close()
    if answer.status_code in (404, 405) or "/login" in answer.headers.get("Location", ""):
        return
    catalogue.reached.setdefault((route.endpoint, "GET"), set()).add(role)
    if html:
        _read(adapter, catalogue, role, url, html)


def _read(adapter: MapAdapter, catalogue: Catalogue, role: str, url: str, html: str) -> None:
    page = fz.read_page(url, html)
    for link in page.links:
        matched = _match(adapter, link, "GET")
        if matched is None:
            continue
        endpoint, arguments = matched
        for name, value in arguments.items():
            catalogue.pool.setdefault(name, set()).add(str(value))
        names = catalogue.query_names.setdefault(endpoint, {})
        for name, value in fz.query_of(link):
            names.setdefault(name, set()).add(value)
    for form in page.forms:
        method = form.method.upper()
        matched = _match(adapter, form.action, method)
        if matched is None:
            continue
        endpoint, arguments = matched
        for name, value in arguments.items():
            catalogue.pool.setdefault(name, set()).add(str(value))
        if method == "GET":
            names = catalogue.query_names.setdefault(endpoint, {})
            for form_field in form.fields.values():
                valid = {form_field.default, *form_field.options} - {""}
                names.setdefault(form_field.name, set()).update(valid)
            continue
        catalogue.forms.setdefault((endpoint, method, role), []).append((form.action, form))
        catalogue.reached.setdefault((endpoint, method), set()).add(role)


def _try_bare_posts(
    catalogue: Catalogue, all_routes: list[fz.Route], role: str, fuzzed: Fuzzed
) -> None:
    """A POST route no page of this role shows a form for: reached if a POST with only the
    CSRF token is answered otherwise than 404/405 or the sign-in page."""
    for route in all_routes:
        if "POST" not in route.methods or (route.endpoint, "POST", role) in catalogue.forms:
            continue
        urls = _urls(route, catalogue.pool)
        if not urls or fuzzed.email is None:
            continue
        answer = fuzzed.client.post(urls[0], data={"csrf_token": fuzzed.token}, headers=SAME_ORIGIN)
        if answer.status_code not in (404, 405) and not _signed_out(fuzzed, answer):
            catalogue.reached.setdefault((route.endpoint, "POST"), set()).add(role)
        _restore(fuzzed)


def _restore(fuzzed: Fuzzed) -> None:
    if fuzzed.cookie is not None:
        fuzzed.client.set_cookie(fuzzed.cookie_name, fuzzed.cookie)


def _targets(app: Flask) -> Iterator[tuple[fz.Route, str]]:
    for route in fz.routes(app):
        if route.endpoint.startswith("api."):
            # The JSON API (token, not session) is fuzzed from its OpenAPI document by
            # Schemathesis (tests/web/test_api_fuzz.py); its pages by tests/web/test_api.py.
            continue
        for method in route.methods:
            yield route, method


def _unreached(app: Flask, catalogue: Catalogue) -> list[str]:
    return [
        f"{method} {route.rule} ({route.endpoint})"
        for route, method in _targets(app)
        if not catalogue.reached.get((route.endpoint, method))
    ]


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    by_route: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


def test_every_route_is_fuzzed_and_no_input_gives_a_500_or_a_partial_write(
    app: Flask, db_session: Session, network: dict[str, Any]
) -> None:
    """First, every route is reached by some role: a route the fuzzer cannot reach (no id for
    its path, no role that gets past a 404) is not fuzzed, so the test fails until the fuzzer's
    network gives the route what it needs. Then every route is fuzzed."""
    clients = _sign_in(app)
    catalogue = _crawl(app, clients, network)
    unreached = _unreached(app, catalogue)
    assert not unreached, "routes the fuzzer does not reach:\n" + "\n".join(unreached)
    parameters = fz.read_parameters()
    tally = Tally()
    for route, method in _targets(app):
        roles = sorted(catalogue.reached.get((route.endpoint, method), set()) | {ANONYMOUS})
        _fuzz_route(db_session, clients, catalogue, parameters, route, method, roles, tally)
    _report(tally)
    assert tally.statuses, "nothing was sent"
    assert not tally.failures, f"{len(tally.failures)} failures:\n" + "\n".join(tally.failures)


def _fuzz_route(
    db_session: Session,
    clients: dict[str, Fuzzed],
    catalogue: Catalogue,
    parameters: set[str],
    route: fz.Route,
    method: str,
    roles: list[str],
    tally: Tally,
) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=not LONG_RUN,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def send(data: st.DataObject) -> None:
        role = data.draw(st.sampled_from(roles), label="role")
        # One request in five may carry control characters (refused whole, with a 400). The
        # draws are written so that Hypothesis' simplest example is a valid request.
        control = data.draw(st.integers(0, 4), label="control") == 4
        fuzzed = clients[role]
        forms = catalogue.forms.get((route.endpoint, method, role), [])
        url = _url(data, catalogue, route, forms)
        if method == "GET":
            known = catalogue.query_names.get(route.endpoint, {})
            sent = _query(data, known, parameters, control)
            answer = _send(fuzzed, method, url, query=sent)
        else:
            before = _row_counts(db_session)
            sent = _body(data, fuzzed, forms, parameters, control)
            answer = _send(fuzzed, method, url, body=sent)
            request = f"{method} {url!r} as {role} with {_shown(sent)}"
            _check_nothing_left(db_session, before, answer, request, tally)
        answer.close()
        tally.statuses[answer.status_code] += 1
        tally.by_route[f"{method} {route.endpoint} {answer.status_code}"] += 1
        if answer.status_code >= 500:
            shown = f"{method} {url[:80]!r} as {role} with {_shown(sent)}"
            tally.failures.append(f"{answer.status_code}: {shown}")
        # The session cookie is restored before each request (a fuzzed sign-out or sign-in
        # does not stick); sign in again only when the session itself ended (a password
        # changed), so that the fuzzer does not sign in over and over.
        if _signed_out(fuzzed, answer) and not route.endpoint.startswith("auth."):
            _refresh(fuzzed)

    send()


def _shown(sent: list[tuple[str, Any]]) -> str:
    """The parameters of a failed request, each value cut short, for the failure message."""
    return ", ".join(
        f"{name[:30]!r}={value[:30]!r}" for name, value in sent if isinstance(value, str)
    )


def _url(
    data: st.DataObject,
    catalogue: Catalogue,
    route: fz.Route,
    forms: list[tuple[str, fz.PageForm]],
) -> str:
    """The action of a form of the page (with its query string) or the route with ids."""
    if forms and data.draw(st.integers(0, 3), label="route's own path") < 3:
        return data.draw(st.sampled_from([action for action, _form in forms]), label="action")
    arguments = {
        name: data.draw(fz.path_values(sorted(catalogue.pool.get(name, {"x"}))), label=name)
        for name in route.arguments
    }
    return fz.fill_path(route.rule, {n: fz.url_safe(v) for n, v in arguments.items()})


def _query(
    data: st.DataObject, known: dict[str, set[str]], parameters: set[str], control: bool
) -> list[tuple[str, str]]:
    names = sorted(known) + sorted(parameters - set(known))
    chosen = data.draw(st.lists(st.sampled_from(names), max_size=4, unique=True), label="query")
    query = [
        (n, data.draw(fz.values(sorted(known.get(n, set())), control), label=n)) for n in chosen
    ]
    if control and data.draw(st.booleans(), label="odd name"):
        query.append((data.draw(st.sampled_from(fz.CONTROL)), "x"))
    return query


def _body(
    data: st.DataObject,
    fuzzed: Fuzzed,
    forms: list[tuple[str, fz.PageForm]],
    parameters: set[str],
    control: bool,
) -> list[tuple[str, Any]]:
    if forms:
        form = data.draw(st.sampled_from([f for _action, f in forms]), label="form")
        fields = list(form.fields.values())
    else:
        fields = [fz.FormField(name, "text") for name in sorted(parameters)]
    body: list[tuple[str, Any]] = []
    for form_field in fields:
        body.extend(_field_values(data, fuzzed, form_field, control))
    if control and data.draw(st.booleans(), label="odd name"):
        body.append((data.draw(st.sampled_from(fz.CONTROL)), "x"))
    if not any(name.endswith("csrf_token") for name, _v in body):
        body.append(("csrf_token", fuzzed.token))
    return body


def _field_values(
    data: st.DataObject, fuzzed: Fuzzed, form_field: fz.FormField, control: bool
) -> list[tuple[str, Any]]:
    name, kind = form_field.name, form_field.kind
    if name.endswith("csrf_token"):
        return [(name, fuzzed.token)]
    if name.endswith("submission"):
        return [(name, secrets.token_urlsafe(16))]  # a fresh one-time token, as a page gives
    if data.draw(st.integers(0, 6), label=f"omit {name}") == 6:
        return []
    if kind == "file":
        content = data.draw(fz.values(["nom;prénom\nA;B\n"], control), label=name)
        return [(name, (BytesIO(content.encode("utf-8", "replace")), "fichier.csv"))]
    if kind == "checkbox" and len(form_field.options) > 1:
        options = fz.values(form_field.options, control)
        picked = data.draw(st.lists(options, max_size=3), label=name)
        return [(name, value) for value in picked]
    valid = {"radio": [], "select": [], "submit": []}.get(kind, _typed_valid(kind))
    valid = sorted({*valid, *form_field.options, form_field.default} - {""}) or valid
    return [(name, data.draw(fz.values(valid, control), label=name))]


def _typed_valid(kind: str) -> list[str]:
    return {
        "date": ["2026-11-20"],
        "number": ["3"],
        "email": ["quelquun@relais.example"],
        "tel": ["03 84 00 00 00"],
        "password": [factories.PASSWORD],
    }.get(kind, ["texte libre"])


def _send(
    fuzzed: Fuzzed,
    method: str,
    url: str,
    *,
    query: list[tuple[str, str]] | None = None,
    body: list[tuple[str, Any]] | None = None,
) -> TestResponse:
    _restore(fuzzed)
    if method == "GET":
        return fuzzed.client.get(url, query_string=query)
    files = any(isinstance(value, tuple) for _name, value in body or [])
    return fuzzed.client.open(
        url,
        method=method,
        data=_multidict(body or []),
        headers=SAME_ORIGIN,
        content_type="multipart/form-data" if files else None,
    )


def _multidict(body: list[tuple[str, Any]]) -> Any:
    from werkzeug.datastructures import MultiDict

    return MultiDict(body)


def _row_counts(session: Session) -> dict[str, int]:
    """Every table's row count, in one query."""
    tables = [table.name for table in Base.metadata.sorted_tables]
    columns = ", ".join(f'(SELECT count(*) FROM "{name}") AS "{name}"' for name in tables)
    row = session.execute(text(f"SELECT {columns}")).one()  # noqa: S608 - table names
    counts = dict(zip(tables, (int(n) for n in row), strict=True))
    session.rollback()
    return counts


def _check_nothing_left(
    session: Session, before: dict[str, int], answer: TestResponse, request: str, tally: Tally
) -> None:
    refused_form = answer.status_code == 200 and any(
        marker in answer.get_data(as_text=True) for marker in FORM_REFUSED
    )
    if answer.status_code < 400 and not refused_form:
        return
    after = _row_counts(session)
    ignored = AUDIT_TABLES if refused_form else ()
    changed = {t: (before[t], n) for t, n in after.items() if n != before[t] and t not in ignored}
    if changed:
        tally.failures.append(f"partial write ({answer.status_code}) by {request}: {changed}")


def _report(tally: Tally) -> None:
    total = sum(tally.statuses.values())
    counts = {str(status): n for status, n in sorted(tally.statuses.items())}
    print(f"fuzz: {total} requests, statuses {counts}")  # noqa: T201 - the run's totals
    if REPORT:
        summary = {
            "requests": total,
            "statuses": counts,
            "failures": tally.failures,
            "by_route": dict(sorted(tally.by_route.items())),
        }
        with open(REPORT, "w", encoding="utf-8") as out:
            json.dump(summary, out, indent=2)


# -- the fuzzer's own checks can fail ----------------------------------------------------------


def test_the_partial_write_check_sees_a_row_left_by_a_refused_request(
    app: Flask, db_session: Session
) -> None:
    before = _row_counts(db_session)
    factories.structure(db_session, "FZL")  # what a refused request must not leave behind
    db_session.commit()
    tally = Tally()
    refused = app.response_class("refused", status=400)
    _check_nothing_left(db_session, before, refused, "POST /x as admin with ", tally)
    assert len(tally.failures) == 1
    assert "partial write (400)" in tally.failures[0]
    assert "'structures': (" in tally.failures[0]
    saved = app.response_class("", status=302)
    _check_nothing_left(db_session, before, saved, "POST /x as admin with ", tally)
    assert len(tally.failures) == 1  # a successful write may write


def test_a_route_without_a_role_that_reaches_it_is_named(app: Flask) -> None:
    catalogue = Catalogue(pool={})
    for route, method in _targets(app):
        if route.endpoint != "home.health":
            catalogue.reached[(route.endpoint, method)] = {ANONYMOUS}
    assert _unreached(app, catalogue) == ["GET /health (home.health)"]
