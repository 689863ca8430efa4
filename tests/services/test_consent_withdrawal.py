"""Withdrawing consent: recorded with date and source, stops hand-offs, withdraws pending ones."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffEvent, HandoffStatus, Party, WithdrawCause, next_status
from app.domain.pathway import ConsentMethod
from app.domain.rights import WithdrawalSource
from app.domain.roles import Role
from app.models import AuditEvent, Consent, HandoffTransition
from app.services.errors import Forbidden, InvalidInput
from app.services.handoffs import apply_event, available_events, send_handoff
from app.services.people.registration import ConsentInput, active_consent, record_consent
from app.services.rights.consents import active_consents, last_withdrawn_consent, withdraw_consent
from app.services.security.vault import Vault
from tests import factories
from tests.rights_helpers import NOW, TODAY, network


def _withdraw(session: Session, vault: Vault, net: object, **kw: object) -> list[object]:
    options: dict[str, object] = {
        "on": TODAY,
        "source": WithdrawalSource.WRITTEN,
        "today": TODAY,
        "now": NOW,
        **kw,
    }
    return withdraw_consent(session, vault, net.worker_a, net.person, **options)  # type: ignore[arg-type, attr-defined]


def test_the_table_lets_the_person_withdraw_only_what_is_pending() -> None:
    assert next_status(HandoffStatus.SENT, HandoffEvent.WITHDRAW, Party.PERSON) is (
        HandoffStatus.WITHDRAWN
    )


def test_withdrawal_is_recorded_with_date_and_source(db_session: Session, vault: Vault) -> None:
    net = network(db_session, vault)
    _withdraw(db_session, vault, net, on=TODAY - timedelta(days=2))
    consent = db_session.scalar(select(Consent).where(Consent.beneficiary_id == net.person.id))
    assert consent is not None
    assert consent.withdrawn_on == TODAY - timedelta(days=2)
    assert consent.withdrawal_source is WithdrawalSource.WRITTEN
    assert consent.withdrawn_at == NOW
    assert active_consent(db_session, net.person.id) is None
    assert last_withdrawn_consent(db_session, net.person.id) is consent
    event = db_session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "consent:withdraw", AuditEvent.beneficiary_id == net.person.id
        )
    )
    assert event is not None
    assert event.actor_structure_id == net.a.id
    assert event.data == {"source": "written"}


def test_pending_hand_offs_are_withdrawn_with_that_cause(db_session: Session, vault: Vault) -> None:
    net = network(db_session, vault)
    withdrawn = _withdraw(db_session, vault, net)
    assert withdrawn == [net.pending]
    assert net.pending.status is HandoffStatus.WITHDRAWN
    assert net.pending.closed_at == NOW
    assert net.accepted.status is HandoffStatus.IN_PROGRESS  # not pending: left as it is
    last = db_session.scalars(
        select(HandoffTransition)
        .where(HandoffTransition.handoff_id == net.pending.id)
        .order_by(HandoffTransition.at.desc(), HandoffTransition.event.desc())
    ).first()
    assert last is not None
    assert (last.event, last.cause, last.message) == (
        HandoffEvent.WITHDRAW,
        WithdrawCause.CONSENT_WITHDRAWN,
        None,
    )
    assert last.actor_structure_id == net.a.id
    audit = db_session.scalars(
        select(AuditEvent.data).where(
            AuditEvent.action == "handoff:transition", AuditEvent.subject_id == str(net.pending.id)
        )
    ).all()
    assert {"event": "withdraw", "status": "withdrawn", "cause": "consent_withdrawn"} in audit
    # The receiver has nothing left to answer.
    assert available_events(net.worker_c, net.pending) == []


def test_a_structure_that_did_not_send_can_record_it_too(db_session: Session, vault: Vault) -> None:
    net = network(db_session, vault)  # B follows since it accepted; A sent the pending one
    withdrawn = withdraw_consent(
        db_session,
        vault,
        net.worker_b,
        net.person,
        on=TODAY,
        source=WithdrawalSource.ORAL,
        today=TODAY,
        now=NOW,
    )
    assert withdrawn == [net.pending]
    assert net.pending.status is HandoffStatus.WITHDRAWN


def test_no_new_hand_off_after_withdrawal(db_session: Session, vault: Vault) -> None:
    net = network(db_session, vault)
    _withdraw(db_session, vault, net)
    with pytest.raises(InvalidInput, match="consent"):
        send_handoff(
            db_session,
            vault,
            net.worker_a,
            net.person,
            to_structure=net.c,
            now=NOW,
            purpose_stage_code="training",
            consent_confirmed=True,
        )
    # A consent given again opens hand-offs again.
    record_consent(db_session, net.worker_a, net.person, ConsentInput(ConsentMethod.SIGNED, TODAY))
    assert active_consents(db_session, net.person.id) != []
    send_handoff(
        db_session,
        vault,
        net.worker_a,
        net.person,
        to_structure=net.c,
        now=NOW,
        purpose_stage_code="training",
        consent_confirmed=True,
    )


@pytest.mark.parametrize("event", [HandoffEvent.ACCEPT, HandoffEvent.REDIRECT])
def test_the_receiver_can_no_longer_take_the_person_in(
    db_session: Session, vault: Vault, event: HandoffEvent
) -> None:
    net = network(db_session, vault)
    _withdraw(db_session, vault, net)
    with pytest.raises(InvalidInput, match="not possible"):
        apply_event(db_session, vault, net.worker_c, net.pending, event, now=NOW, redirect_to=net.b)
    assert net.pending.status is HandoffStatus.WITHDRAWN


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"on": TODAY + timedelta(days=1)}, "withdrawn_on"),
        ({"on": date(2020, 1, 1)}, "withdrawn_on"),
        ({"source": WithdrawalSource.ERASURE}, "source"),
    ],
)
def test_bad_input_is_refused(
    db_session: Session, vault: Vault, options: dict[str, object], field: str
) -> None:
    net = network(db_session, vault)
    with pytest.raises(InvalidInput) as caught:
        _withdraw(db_session, vault, net, **options)
    assert caught.value.field == field
    assert active_consent(db_session, net.person.id) is not None


def test_nothing_to_withdraw(db_session: Session, vault: Vault) -> None:
    worker = factories.user(db_session)
    person = factories.person(db_session, vault, worker, consent=False)
    with pytest.raises(InvalidInput, match="no consent"):
        withdraw_consent(
            db_session,
            vault,
            worker,
            person,
            on=TODAY,
            source=WithdrawalSource.ORAL,
            today=TODAY,
            now=NOW,
        )


def test_only_a_following_caseworker_records_it(db_session: Session, vault: Vault) -> None:
    net = network(db_session, vault)
    coordinator = factories.user(db_session, Role.COORDINATOR)
    for outsider in (net.worker_c, coordinator):  # C only received a hand-off
        with pytest.raises(Forbidden):
            withdraw_consent(
                db_session,
                vault,
                outsider,
                net.person,
                on=TODAY,
                source=WithdrawalSource.ORAL,
                today=TODAY,
                now=NOW,
            )
    assert active_consent(db_session, net.person.id) is not None
