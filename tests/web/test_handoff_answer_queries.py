"""The SQL of an answer to a hand-off (accept, first contact, decline), pinned: only the
statements the change needs.

An acceptance needs (10 statements, on either database):

- the signed-in account with its session (1); the hand-off, read for an answer in one
  statement with its person (the erasure check, the pseudonym, the mail's recipients read the
  same row), the person's wrapped data key (the check of a typed message), what the mail needs of
  the sending account, and whether a link of the hand-off is still usable and an endpoint of
  either structure active (1); not its structures, nor the person's QPV;
- the change, written by Core statements built once (``app.services.core_writes``): the
  hand-off's update, checked against its version (1), its transition row (1), the person's
  pathway state moved by the event (``app.services.pathways.state``, 1), the mail's outbox
  row (1), and the receiving structure's follow-up looked for and opened in one
  ``INSERT ... SELECT ... WHERE NOT EXISTS ... RETURNING`` (1); the revocation of its links
  and the look-up of the structures' webhook endpoints only when the read found a usable link
  or an active endpoint (one statement each, below);
- two audit events (the transition, the follow-up opened), queued and chained once at
  commit (the confirmation names the person when the next page shows it, from that page's
  reveal: ``app.web.confirmations``): the chain's head read (on PostgreSQL with its row lock,
  ``FOR UPDATE``) and moved (2) and the events inserted in one multi-row statement (1). The
  mail worker's wake-up on PostgreSQL is the outbox's trigger, not a statement of its own.

No reference list is read (no answer's form reads the lists it shows: they are read only to
show it), no cohort of the person, no second look at the follow-up just opened, no mail sent.
A first contact needs no follow-up, no mail and no webhook (its transition refreshes the
person's pathway state too); a decline reads its reason, records an unmet need when its
reason is one, and closes the hand-off (both kinds of links revoked in one statement).

A count that goes down after a change is good news: pin the new number.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.models import Handoff, HandoffLink, LinkScope, WebhookDelivery
from app.services.handoffs.link_tokens import new_link, token_digest
from app.services.security.vault import Vault
from tests import factories
from tests.sql_count import Queries, count_queries, pin
from tests.web.helpers import login

RECEIVER = "receiver@relais.example"
_NOW = datetime.now(UTC)
_LATER = _NOW + timedelta(days=10)


@pytest.fixture
def handoff(db_session: Session, vault: Vault) -> Handoff:
    """A pending hand-off from A to B, each with its caseworker, committed."""
    a = factories.structure(db_session, "ANSA")
    b = factories.structure(db_session, "ANSB")
    sender = factories.user(db_session, structure_=a, email="sender@relais.example")
    factories.user(db_session, structure_=b, email=RECEIVER)
    person = factories.person(db_session, vault, sender, last_name="Vandermeersch")
    sent = factories.handoff(db_session, vault, sender, person, b, note="Rendez-vous jeudi")
    db_session.commit()
    return sent


def _answer(
    client: FlaskClient, handoff: Handoff, event: str, data: dict[str, str] | None = None
) -> Queries:
    """Post ``event`` from the hand-off's page, as a browser does; the statements it ran."""
    page = client.get(f"/handoffs/{handoff.id.hex}").get_data(as_text=True)
    token = re.search(rf'name="{event}-csrf_token"[^>]*value="([^"]+)"', page)
    assert token, f"{event} is not offered"
    with count_queries() as queries:
        answer = client.post(
            f"/handoffs/{handoff.id.hex}/{event}",
            data={f"{event}-csrf_token": token.group(1), **(data or {})},
        )
    assert answer.status_code == 302, event
    assert answer.headers["Location"].endswith(f"/handoffs/{handoff.id.hex}")
    return queries


def test_accept_then_first_contact(client: FlaskClient, handoff: Handoff) -> None:
    login(client, RECEIVER)
    accepted = _answer(client, handoff, "accept")
    # See the module for each statement (the same on both databases).
    pin(accepted, sqlite=10)
    assert not any(s.startswith("SELECT reference_items") for s in accepted.shapes())
    # The hand-off's statement also reads the person's data key (a message's check) and
    # the sender's address (the mail): neither is read again. After the account (which
    # carries its structure for every page), no statement joins a structure (the hand-off's
    # two, the follow-up's, the webhook endpoints') and the person comes without their QPV.
    after_account = accepted.shapes()[1:]
    assert not any(s.startswith(("SELECT users.", "SELECT person_keys")) for s in after_account)
    # No link to revoke, no endpoint to look up: the hand-off's read said so.
    assert not any(
        s.startswith(("UPDATE handoff_links", "SELECT webhook_")) for s in accepted.shapes()
    )
    assert not any("JOIN structures" in s for s in after_account)
    assert not any("JOIN reference_items" in s for s in after_account)
    read = after_account[0]
    assert "JOIN person_keys" in read
    sender_columns = set(re.findall(r"users_1\.(\w+)", read))
    assert sender_columns == {"id", "email", "role", "structure_id", "active", "locale"}
    assert set(re.findall(r"person_keys_1\.(\w+)", read)) == {
        "beneficiary_id",
        "kek_id",
        "wrapped_key",
    }
    contacted = _answer(client, handoff, "first_contact")
    # No follow-up, mail or webhook: the account, the hand-off (with the data key), its update
    # and transition, the person's pathway state, one audit event chained at commit (head read
    # and moved, one insert). The confirmation asks nothing: it is named on the next page.
    pin(contacted, sqlite=8)


def test_decline(client: FlaskClient, handoff: Handoff) -> None:
    login(client, RECEIVER)
    declined = _answer(client, handoff, "decline", {"decline-reason": "no_capacity"})
    # The accept's statements without the follow-up, plus the reason, the unmet need (the
    # need's category, its row, its cohorts) and the person's pathway state; the confirmation
    # is named on the next page (the pseudonym: the structure does not follow the person).
    # The form's list of reasons is not read (it is only shown, on the page or when the answer
    # is refused). No link to revoke. Whether the structure may see the name is asked on the
    # next page, where the confirmation is shown.
    pin(declined, sqlite=13)
    reference_reads = [s for s in declined.shapes() if s.startswith("SELECT reference_items")]
    assert len(reference_reads) == 2, reference_reads  # the reason, the person's cohorts
    assert not any(s.startswith("UPDATE handoff_links") for s in declined.shapes())


def test_a_usable_link_and_an_active_endpoint_cost_one_statement_each(
    client: FlaskClient, handoff: Handoff, db_session: Session
) -> None:
    """The read found a link still usable and an endpoint listening: the answer revokes the
    link in one statement, looks the endpoints up in one more and writes the delivery (its
    payload names the structures and the purpose: two reads; the webhook worker's wake-up is
    the deliveries' trigger)."""
    used = new_link(
        db_session, handoff, handoff.to_structure_id, LinkScope.ANSWER, now=_NOW, expires_at=_LATER
    )
    db_session.execute(
        update(HandoffLink).where(HandoffLink.token_hash == token_digest(used)).values(used_at=_NOW)
    )
    open_token = new_link(
        db_session, handoff, handoff.to_structure_id, LinkScope.ANSWER, now=_NOW, expires_at=_LATER
    )
    factories.webhook(db_session, handoff.to_structure)
    db_session.commit()
    login(client, RECEIVER)
    accepted = _answer(client, handoff, "accept")
    pin(accepted, sqlite=15)
    shapes = accepted.shapes()
    assert sum(s.startswith("UPDATE handoff_links") for s in shapes) == 1
    assert sum(s.startswith("SELECT webhook_endpoints") for s in shapes) == 1
    db_session.expire_all()
    revoked = db_session.scalar(
        select(HandoffLink.revoked_at).where(HandoffLink.token_hash == token_digest(open_token))
    )
    assert revoked is not None
    assert (
        db_session.scalar(
            select(func.count())
            .select_from(WebhookDelivery)
            .where(WebhookDelivery.handoff_id == handoff.id)
        )
        == 1
    )


def test_a_link_already_used_costs_no_statement(
    client: FlaskClient, handoff: Handoff, db_session: Session
) -> None:
    """A link used (or revoked) has nothing left to revoke: the read finds no usable link."""
    used = new_link(
        db_session, handoff, handoff.to_structure_id, LinkScope.ANSWER, now=_NOW, expires_at=_LATER
    )
    db_session.execute(
        update(HandoffLink).where(HandoffLink.token_hash == token_digest(used)).values(used_at=_NOW)
    )
    db_session.commit()
    login(client, RECEIVER)
    accepted = _answer(client, handoff, "accept")
    pin(accepted, sqlite=10)
    assert not any(s.startswith("UPDATE handoff_links") for s in accepted.shapes())
