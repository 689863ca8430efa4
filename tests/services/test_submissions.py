"""One-time submission tokens (idempotent writes) and the open hand-offs for the same purpose."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffEvent
from app.domain.pathway import BarrierStatus, ConsentMethod
from app.models import Barrier, ReferenceKind, SubmissionToken, User
from app.services import submissions
from app.services.errors import Conflict, InvalidInput
from app.services.handoffs import apply_event, send_handoff
from app.services.handoffs.same_purpose import open_for_purpose, others_for_same_purpose
from app.services.pathways import add_barrier
from app.services.people.registration import ConsentInput, record_consent
from app.services.security.vault import Vault
from app.services.structures import reference_item
from tests import factories

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(SubmissionToken)) or 0


def test_tokens_are_fresh_128_bit_values() -> None:
    tokens = {submissions.new_token() for _ in range(50)}
    assert len(tokens) == 50
    for token in tokens:
        assert submissions.well_formed(token)
        assert len(base64.urlsafe_b64decode(token + "==")) == 16
    for bad in (None, "", "short", "x" * 65, "a" * 21 + "!", 12345):
        assert not submissions.well_formed(bad)


def test_a_token_is_claimed_once_and_gives_the_record_back(db_session: Session) -> None:
    user = factories.user(db_session)
    token = submissions.new_token()
    submissions.ensure_unused(db_session, user, token)  # unused: nothing raised
    claimed = submissions.claim(db_session, user, token, form="register")
    submissions.fulfil(db_session, claimed, "/people/P-AAAA-BBBB")
    db_session.commit()
    with pytest.raises(submissions.AlreadySubmitted) as again:
        submissions.claim(db_session, user, token, form="register")
    assert again.value.target == "/people/P-AAAA-BBBB"
    assert isinstance(again.value, Conflict)
    with pytest.raises(submissions.AlreadySubmitted):
        submissions.ensure_unused(db_session, user, token)
    assert _count(db_session) == 1


def test_tokens_belong_to_their_user(db_session: Session) -> None:
    first, second = factories.user(db_session), factories.user(db_session)
    token = submissions.new_token()
    submissions.claim(db_session, first, token, form="step")
    submissions.claim(db_session, second, token, form="step")  # another user's form: no clash
    assert _count(db_session) == 2


def test_a_token_relais_did_not_make_is_refused(db_session: Session) -> None:
    user = factories.user(db_session)
    for bad in ("", "not a token", "a" * 200):
        with pytest.raises(InvalidInput, match="out of date"):
            submissions.claim(db_session, user, bad, form="register")
    assert _count(db_session) == 0


def test_a_refused_use_case_leaves_its_token_unused(db_session: Session) -> None:
    """The token and the record share a savepoint: a refusal undoes both."""
    user = factories.user(db_session)
    token = submissions.new_token()
    savepoint = db_session.begin_nested()  # what ``attempt()`` opens around the use case
    submissions.claim(db_session, user, token, form="register")
    savepoint.rollback()  # the use case raised: its savepoint is rolled back
    submissions.ensure_unused(db_session, user, token)
    submissions.claim(db_session, user, token, form="register")
    assert _count(db_session) == 1


def test_purge_forgets_old_tokens_only(db_session: Session) -> None:
    user = factories.user(db_session)
    old = submissions.claim(db_session, user, submissions.new_token(), form="step")
    old.created_at = NOW - timedelta(days=3)
    recent = submissions.claim(db_session, user, submissions.new_token(), form="step")
    recent.created_at = NOW - timedelta(hours=20)
    db_session.flush()
    assert submissions.count_older_than(db_session, NOW - timedelta(days=2)) == 1
    with pytest.raises(InvalidInput, match="one day"):
        submissions.purge(db_session, now=NOW, keep=timedelta(hours=8))
    assert submissions.purge(db_session, now=NOW, keep=timedelta(days=2)) == 1
    assert db_session.scalars(select(SubmissionToken.token)).all() == [recent.token]


def test_consent_in_force_is_not_recorded_twice(db_session: Session, vault: Vault) -> None:
    user = factories.user(db_session)
    person = factories.person(db_session, vault, user, consent=True)
    with pytest.raises(Conflict, match="already recorded"):
        record_consent(db_session, user, person, ConsentInput(ConsentMethod.SIGNED, NOW.date()))


# -- open hand-offs for the same purpose -------------------------------------------------------


@pytest.fixture
def net(db_session: Session, vault: Vault) -> dict[str, object]:
    structures = [factories.structure(db_session) for _ in range(4)]
    users = [factories.user(db_session, structure_=s) for s in structures]
    person = factories.person(db_session, vault, users[0])
    return {"s": structures, "u": users, "person": person}


def _send(db_session: Session, vault: Vault, sender: User, net: dict, to: int, **purpose):  # type: ignore[no-untyped-def]
    return send_handoff(
        db_session,
        vault,
        sender,
        net["person"],
        to_structure=net["s"][to],
        now=NOW,
        consent_confirmed=True,
        **purpose,
    )


def test_open_handoffs_for_a_stage(db_session: Session, vault: Vault, net: dict) -> None:  # type: ignore[type-arg]
    sender, person = net["u"][0], net["person"]
    training = reference_item(db_session, ReferenceKind.STAGE, "training")
    employment = reference_item(db_session, ReferenceKind.STAGE, "employment")
    assert open_for_purpose(db_session, person.id, stage=training) == []
    first = _send(db_session, vault, sender, net, 1, purpose_stage_code="training")
    assert open_for_purpose(db_session, person.id, stage=training) == [first]
    assert open_for_purpose(db_session, person.id, stage=employment) == []
    assert open_for_purpose(db_session, person.id) == []  # no purpose: nothing to compare
    # Accepted, then in progress: still open. Declined: no longer.
    receiver = net["u"][1]
    apply_event(db_session, vault, receiver, first, HandoffEvent.ACCEPT, now=NOW)
    assert open_for_purpose(db_session, person.id, stage=training) == [first]
    second = _send(db_session, vault, sender, net, 2, purpose_stage_code="training")
    assert others_for_same_purpose(db_session, second) == [first]
    assert others_for_same_purpose(db_session, first) == [second]
    apply_event(
        db_session,
        vault,
        net["u"][2],
        second,
        HandoffEvent.DECLINE,
        now=NOW,
        reason_code="not_interested",
    )
    assert open_for_purpose(db_session, person.id, stage=training) == [first]
    assert others_for_same_purpose(db_session, first) == []


def test_a_barrier_purpose_follows_the_redirect_chain(
    db_session: Session,
    vault: Vault,
    net: dict,  # type: ignore[type-arg]
) -> None:
    sender, person = net["u"][0], net["person"]
    mobility = add_barrier(
        db_session, sender, person, category_code="mobility", identified_on=NOW.date()
    )
    # A second open barrier of the category, as recorded before Relais refused them (a
    # barrier is now updated where it is: app/services/repeats.py), written directly.
    again = Barrier(
        id=uuid.uuid4(),
        beneficiary_id=person.id,
        category_id=mobility.category_id,
        status=BarrierStatus.IDENTIFIED,
        identified_on=NOW.date(),
        status_on=NOW.date(),
        recorded_by_id=sender.id,
    )
    db_session.add(again)
    db_session.flush()
    housing = add_barrier(
        db_session, sender, person, category_code="housing", identified_on=NOW.date()
    )
    first = _send(db_session, vault, sender, net, 1, purpose_barrier=mobility)
    child = apply_event(
        db_session,
        vault,
        net["u"][1],
        first,
        HandoffEvent.REDIRECT,
        now=NOW,
        redirect_to=net["s"][2],
    )
    assert child.id != first.id
    # The redirected one is closed; the new link of the chain is open, for the same category.
    assert open_for_purpose(db_session, person.id, barrier=mobility) == [child]
    assert open_for_purpose(db_session, person.id, barrier=again) == [child]
    assert open_for_purpose(db_session, person.id, barrier=housing) == []
    assert others_for_same_purpose(db_session, first) == [child]
