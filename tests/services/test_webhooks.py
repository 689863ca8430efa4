"""Webhooks against a local receiver: every event signed (Standard Webhooks), no identity in
any body, only the structures of the hand-off hear of it, retries with back-off, giving up,
and the addresses refused (SSRF)."""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.crypto import KeyRing
from app.domain.audit import AuditAction
from app.domain.handoffs import HandoffEvent, HandoffStatus
from app.domain.rights import ErasureCause
from app.domain.roles import Role
from app.domain.webhooks import (
    SUBSCRIBABLE,
    WebhookEvent,
    address_refused,
    retry_delay,
    signature,
    verify,
)
from app.models import AuditEvent, Structure, User, WebhookDelivery
from app.services.errors import Forbidden, InvalidInput, NotFound
from app.services.handoffs import apply_event
from app.services.handoffs.deadlines import expire_handoffs
from app.services.rights.erasure import RegisterFile, erase_person
from app.services.security.managers import set_manager
from app.services.security.vault import Vault
from app.services.webhooks import endpoints, queue
from app.services.webhooks.delivery import deliver_due
from app.services.webhooks.settings import WebhookSettings
from app.services.webhooks.transport import post
from tests import factories
from tests.services.webhook_receiver import Receiver, closed_port, dripping_receiver, receiver

LOCAL = WebhookSettings(allow_http=True, allow_private=True, max_attempts=4, timeout=2)
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
# The identity of the person the hand-offs are about, and the note written about her: none of
# it may reach a webhook.
LAST, FIRST, BORN = "Quintal-Brocard", "Zéphyrine", date(1999, 4, 17)
EMAIL, PHONE = "zephyrine.qb@exemple.fr", "06 98 76 54 32"
NOTE = "Zéphyrine préfère être appelée le matin"
SECRETS_OF_IDENTITY = (
    LAST,
    FIRST,
    "Zephyrine",
    "Quintal",
    "1999-04-17",
    "17/04/1999",
    EMAIL,
    "0698765432",
    "98 76 54 32",
    "+33698765432",
    "appelée",
    "matin",
)


def _register(session: Session, keys: KeyRing, structure: Structure, url: str) -> str:
    registered = endpoints.register(
        session,
        keys,
        None,
        structure,
        url=url,
        description="",
        events=SUBSCRIBABLE,
        settings=LOCAL,
        now=NOW,
    )
    return registered.secret


def _deliver(session: Session, keys: KeyRing, at: datetime = NOW, **settings: object) -> int:
    chosen = dataclasses.replace(LOCAL, **settings)  # type: ignore[arg-type]
    report = deliver_due(session, keys, chosen, now=at, limit=100)
    return report.delivered


def _messages(requests: list[object]) -> list[dict[str, object]]:
    return [json.loads(r.body) for r in requests]  # type: ignore[attr-defined]


def _check_signed(received: Receiver, path: str, secret: str) -> None:
    for request in received.at(path):
        headers = request.headers
        timestamp = int(headers["webhook-timestamp"])
        assert abs(timestamp - NOW.timestamp()) < 5
        assert verify(
            secret, headers["webhook-id"], timestamp, request.body, headers["webhook-signature"]
        )
        assert not verify(
            "whsec_" + "A" * 44,
            headers["webhook-id"],
            timestamp,
            request.body,
            headers["webhook-signature"],
        )
        assert json.loads(request.body)["id"] == headers["webhook-id"]
        assert headers["content-type"] == "application/json"


def test_each_structure_of_a_handoff_hears_its_events_signed_and_without_identity(
    db_session: Session, vault: Vault, tmp_path: Path
) -> None:
    keys = vault.keys
    a, b, c = (factories.structure(db_session) for _ in range(3))
    sender = factories.user(db_session, structure_=a)
    answerer = factories.user(db_session, structure_=b)
    factories.user(db_session, structure_=c)
    person = factories.person(
        db_session, vault, sender, last_name=LAST, first_name=FIRST, birth_date=BORN,
        email=EMAIL, phone=PHONE,
    )  # fmt: skip
    with receiver() as received:
        secrets = {
            "/a": _register(db_session, keys, a, received.url("/a")),
            "/b": _register(db_session, keys, b, received.url("/b")),
            "/c": _register(db_session, keys, c, received.url("/c")),
        }
        accepted = factories.handoff(db_session, vault, sender, person, b, now=NOW, note=NOTE)
        apply_event(
            db_session, vault, answerer, accepted, HandoffEvent.ACCEPT, now=NOW, message=NOTE
        )
        apply_event(db_session, vault, answerer, accepted, HandoffEvent.FIRST_CONTACT, now=NOW)
        apply_event(
            db_session, vault, answerer, accepted, HandoffEvent.COMPLETE, now=NOW,
            reason_code="training_entered", message=NOTE,
        )  # fmt: skip
        declined = factories.handoff(db_session, vault, sender, person, c, now=NOW, note=NOTE)
        apply_event(
            db_session, vault, factories.user(db_session, structure_=c), declined,
            HandoffEvent.DECLINE, now=NOW, reason_code="no_capacity", message=NOTE,
        )  # fmt: skip
        assert _deliver(db_session, keys) == 8
        for path, secret in secrets.items():
            _check_signed(received, path, secret)
        to_a, to_b = _messages(received.at("/a")), _messages(received.at("/b"))
        to_c = _messages(received.at("/c"))
        # The sender hears answers and closings, not its own sending; the receiver all four.
        # (Deliveries due at the same moment go out in no particular order.)
        assert sorted(m["type"] for m in to_a) == [
            "handoff.answered",
            "handoff.answered",
            "handoff.closed",
        ]
        assert sorted(m["type"] for m in to_b) == [
            "handoff.answered",
            "handoff.closed",
            "handoff.received",
        ]
        assert sorted(m["type"] for m in to_c) == ["handoff.answered", "handoff.received"]
        # One event heard by two structures has one id (and so one webhook-id).
        by_type = {m["type"]: m for m in to_b}
        assert by_type["handoff.closed"]["id"] in {m["id"] for m in to_a}
        assert by_type["handoff.received"]["id"] not in {m["id"] for m in to_a}
        closed = by_type["handoff.closed"]["data"]
        assert closed == {
            "handoff_id": str(accepted.id),
            "pseudonym": person.pseudonym,
            "from_structure": a.code,
            "to_structure": b.code,
            "action": "complete",
            "status": "completed",
            "purpose": {"kind": "stage", "code": "training"},
            "reason_code": "training_entered",
            "parent_handoff_id": None,
        }
        (declined_answer,) = (m for m in to_c if m["type"] == "handoff.answered")
        assert declined_answer["data"]["reason_code"] == "no_capacity"  # type: ignore[index]
        everything = b"".join(r.body for r in received.requests).decode()
        headers = json.dumps([r.headers for r in received.requests])
        for value in SECRETS_OF_IDENTITY:
            assert value not in everything
            assert value not in headers
        # Nothing is sent twice.
        assert _deliver(db_session, keys, NOW + timedelta(days=1)) == 0
        assert len(received.requests) == 8


def test_an_expiry_and_a_withdrawal_reach_both_structures(
    db_session: Session, vault: Vault
) -> None:
    a, b = factories.structure(db_session), factories.structure(db_session)
    sender = factories.user(db_session, structure_=a)
    person = factories.person(db_session, vault, sender)
    with receiver() as received:
        _register(db_session, vault.keys, a, received.url("/a"))
        _register(db_session, vault.keys, b, received.url("/b"))
        expiring = factories.handoff(db_session, vault, sender, person, b, now=NOW)
        expire_handoffs(db_session, vault, now=NOW + timedelta(days=40), expiry_days=30)
        withdrawn = factories.handoff(db_session, vault, sender, person, b, now=NOW)
        apply_event(
            db_session, vault, sender, withdrawn, HandoffEvent.WITHDRAW, now=NOW, message="x"
        )
        _deliver(db_session, vault.keys, NOW + timedelta(days=41))
        kinds = {
            (r.path, json.loads(r.body)["type"], json.loads(r.body)["data"]["handoff_id"])
            for r in received.requests
        }
    assert kinds == {
        ("/b", "handoff.received", str(expiring.id)),
        ("/a", "handoff.expired", str(expiring.id)),
        ("/b", "handoff.expired", str(expiring.id)),
        ("/b", "handoff.received", str(withdrawn.id)),
        ("/a", "handoff.closed", str(withdrawn.id)),
        ("/b", "handoff.closed", str(withdrawn.id)),
    }


def test_a_failed_delivery_is_retried_later_with_the_same_id_and_then_delivered(
    db_session: Session, vault: Vault
) -> None:
    a, b = factories.structure(db_session), factories.structure(db_session)
    sender = factories.user(db_session, structure_=a)
    person = factories.person(db_session, vault, sender)
    with receiver() as received:
        secret = _register(db_session, vault.keys, b, received.url("/b"))
        received.statuses = [500]
        factories.handoff(db_session, vault, sender, person, b, now=NOW)
        assert _deliver(db_session, vault.keys) == 0
        (delivery,) = db_session.scalars(select(WebhookDelivery)).all()
        assert (delivery.attempts, delivery.last_status, delivery.last_error) == (
            1,
            500,
            "http-500",
        )
        assert delivery.delivered_at is None
        assert delivery.given_up_at is None
        wait = delivery.next_attempt_at - NOW
        assert timedelta(seconds=44) <= wait <= timedelta(seconds=76)
        # Not due yet: nothing is sent.
        assert _deliver(db_session, vault.keys, NOW + timedelta(seconds=30)) == 0
        assert len(received.requests) == 1
        later = NOW + timedelta(minutes=2)
        assert _deliver(db_session, vault.keys, later) == 1
        assert (delivery.attempts, delivery.last_status, delivery.last_error) == (2, 200, None)
        assert delivery.delivered_at == later
        first, second = received.requests
        assert first.headers["webhook-id"] == second.headers["webhook-id"]
        assert first.body == second.body
        stamp = int(second.headers["webhook-timestamp"])
        assert stamp == int(later.timestamp())
        assert verify(
            secret,
            second.headers["webhook-id"],
            stamp,
            second.body,
            second.headers["webhook-signature"],
        )


def test_a_receiver_that_is_down_is_retried_ever_later_then_given_up(
    db_session: Session, vault: Vault
) -> None:
    a, b = factories.structure(db_session), factories.structure(db_session)
    sender = factories.user(db_session, structure_=a)
    person = factories.person(db_session, vault, sender)
    _register(db_session, vault.keys, b, f"http://127.0.0.1:{closed_port()}/down")
    factories.handoff(db_session, vault, sender, person, b, now=NOW)
    (delivery,) = db_session.scalars(select(WebhookDelivery)).all()
    at, waits = NOW, []
    for attempt in range(1, LOCAL.max_attempts):
        _deliver(db_session, vault.keys, at)
        assert delivery.attempts == attempt
        assert delivery.last_error == "connection-refused"
        assert delivery.last_status is None
        assert delivery.given_up_at is None
        waits.append(delivery.next_attempt_at - at)
        at = delivery.next_attempt_at
    assert waits == sorted(waits)
    assert waits[-1] > waits[0] * 2
    _deliver(db_session, vault.keys, at)
    assert delivery.attempts == LOCAL.max_attempts
    assert delivery.given_up_at == at
    assert queue.given_up_count(db_session) == 1
    assert queue.given_up_count(db_session, b.id) == 1
    assert queue.given_up_count(db_session, a.id) == 0
    _deliver(db_session, vault.keys, at + timedelta(days=2))
    assert delivery.attempts == LOCAL.max_attempts  # never tried again


def test_back_off_doubles_up_to_six_hours_with_jitter() -> None:
    middle = [retry_delay(n, lambda low, high: (low + high) / 2) for n in range(1, 12)]
    assert middle[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert middle[-1] == timedelta(hours=6)
    low = retry_delay(3, lambda low, _high: low)
    high = retry_delay(3, lambda _low, high: high)
    assert (low, high) == (timedelta(minutes=3), timedelta(minutes=5))


def test_a_disabled_or_deleted_endpoint_is_sent_nothing_and_hears_nothing_new(
    db_session: Session, vault: Vault
) -> None:
    a, b = factories.structure(db_session), factories.structure(db_session)
    sender = factories.user(db_session, structure_=a)
    person = factories.person(db_session, vault, sender)
    with receiver() as received:
        _register(db_session, vault.keys, b, received.url("/b"))
        (endpoint,) = endpoints.endpoints_of(db_session, b.id)
        factories.handoff(db_session, vault, sender, person, b, now=NOW)  # queued while active
        assert endpoints.set_active(db_session, None, endpoint, False, now=NOW)
        assert not endpoints.set_active(db_session, None, endpoint, False, now=NOW)
        factories.handoff(
            db_session, vault, sender, factories.person(db_session, vault, sender), b, now=NOW
        )
        assert db_session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1
        assert _deliver(db_session, vault.keys) == 0
        # A test event reaches even a disabled endpoint: it is asked for.
        queue.queue_ping(db_session, None, endpoint, now=NOW)
        assert _deliver(db_session, vault.keys) == 1
        assert [json.loads(r.body)["type"] for r in received.requests] == ["ping"]
        # As docs/webhooks.md says: the structure and the address, no hand-off.
        ping = json.loads(received.requests[0].body)["data"]
        assert ping == {"structure": b.code, "webhook_id": str(endpoint.id)}
        endpoints.set_active(db_session, None, endpoint, True, now=NOW)
        assert _deliver(db_session, vault.keys) == 1
        endpoints.delete_endpoint(db_session, None, endpoint)
        assert db_session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0
    actions = db_session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.action.like("webhook:%"))
        .order_by(AuditEvent.seq)
    ).all()
    assert actions == [
        AuditAction.WEBHOOK_CREATE, AuditAction.WEBHOOK_DISABLE, AuditAction.WEBHOOK_PING,
        AuditAction.WEBHOOK_ENABLE, AuditAction.WEBHOOK_DELETE,
    ]  # fmt: skip


def test_only_managers_of_the_structure_and_administrators_manage_its_webhooks(
    db_session: Session, vault: Vault
) -> None:
    a, b = factories.structure(db_session), factories.structure(db_session)
    manager = factories.user(db_session, structure_=a)
    set_manager(db_session, None, manager, True)
    colleague = factories.user(db_session, structure_=a)
    admin = factories.user(db_session, Role.ADMIN)
    settings = WebhookSettings()

    def register(actor: User | None, structure: Structure) -> object:
        return endpoints.register(
            db_session, vault.keys, actor, structure, url="https://93.184.216.34/hook",
            description="ERP", events=[WebhookEvent.RECEIVED], settings=settings, now=NOW,
        )  # fmt: skip

    register(manager, a)
    register(admin, b)
    for actor, structure in ((colleague, a), (manager, b)):
        with pytest.raises(Forbidden):
            register(actor, structure)
    (endpoint,) = endpoints.endpoints_of(db_session, a.id)
    for action in (
        lambda: endpoints.renew_secret(db_session, vault.keys, colleague, endpoint),
        lambda: endpoints.set_active(db_session, colleague, endpoint, False, now=NOW),
        lambda: endpoints.delete_endpoint(db_session, colleague, endpoint),
        lambda: queue.queue_ping(db_session, colleague, endpoint, now=NOW),
    ):
        with pytest.raises(Forbidden):
            action()
    # Another structure's endpoint, or an id that is none, is not found.
    with pytest.raises(NotFound):
        endpoints.endpoint_of(db_session, b.id, endpoint.id.hex)
    with pytest.raises(NotFound):
        endpoints.endpoint_of(db_session, a.id, "not-an-id")
    assert endpoints.endpoint_of(db_session, a.id, endpoint.id.hex) is endpoint


def test_the_secret_is_sealed_shown_once_and_renewed(db_session: Session, vault: Vault) -> None:
    structure = factories.structure(db_session)
    registered = factories.webhook(db_session, structure)
    endpoint, secret = registered.endpoint, registered.secret
    assert secret.startswith("whsec_")
    assert len(secret) == 6 + 44
    assert secret.encode() not in endpoint.secret
    assert "whsec" not in repr(registered)
    assert endpoints.open_secret(vault.keys, endpoint) == secret
    renewed = endpoints.renew_secret(db_session, vault.keys, None, endpoint)
    assert renewed != secret
    assert endpoints.open_secret(vault.keys, endpoint) == renewed
    with pytest.raises(InvalidInput):
        endpoints.register(
            db_session, vault.keys, None, structure, url="https://93.184.216.34/", description="",
            events=[], settings=WebhookSettings(), now=NOW,
        )  # fmt: skip


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://93.184.216.34/hook", "http"),
        ("ftp://93.184.216.34/hook", "scheme"),
        ("https://user:pw@93.184.216.34/hook", "malformed"),
        ("https:///hook", "malformed"),
        ("https://93.184.216.34/hook#x", "malformed"),
        ("https://93.184.216.34:99999/", "malformed"),
        ("https://127.0.0.1/hook", "address"),
        ("https://10.1.2.3/hook", "address"),
        ("https://192.168.1.1/hook", "address"),
        ("https://172.16.0.1/hook", "address"),
        ("https://169.254.169.254/latest/meta-data", "address"),
        ("https://100.64.0.1/hook", "address"),
        ("https://0.0.0.0/hook", "address"),
        ("https://[::1]/hook", "address"),
        ("https://[fe80::1]/hook", "address"),
        ("https://[::ffff:127.0.0.1]/hook", "address"),
        ("https://localhost/hook", "address"),
        ("https://intranet.example/hook", "address"),  # resolves to a private address
        ("https://nowhere.invalid/hook", "unresolvable"),
    ],
)
def test_addresses_off_the_internet_are_refused(url: str, reason: str) -> None:
    def resolver(host: str, port: int) -> list[str]:
        if host == "intranet.example":
            return ["93.184.216.34", "10.0.0.7"]
        from app.services.webhooks.transport import resolve

        return resolve(host, port)

    with pytest.raises(InvalidInput) as refused:
        endpoints.check_url(url, WebhookSettings(), resolver)
    assert refused.value.field == "url"
    assert refused.value.message == endpoints.REFUSALS[reason]


def test_allowed_addresses() -> None:
    public = WebhookSettings()
    assert (
        endpoints.check_url(" https://93.184.216.34/hook?x=1 ", public)
        == "https://93.184.216.34/hook?x=1"
    )
    local = WebhookSettings(allow_http=True, allow_private=True)
    assert endpoints.check_url("http://127.0.0.1:8080/hook", local) == "http://127.0.0.1:8080/hook"
    assert address_refused("::1")
    assert address_refused("fd00::1")
    assert address_refused("224.0.0.1")
    assert not address_refused("2001:4860:4860::8888")
    # An IPv4 address carried by an IPv6 one is judged as itself.
    for inside in ("64:ff9b::a9fe:a9fe", "64:ff9b::a00:7", "2002:7f00:1::1", "2002:c0a8:101::"):
        assert address_refused(inside), inside
    for never_public in ("::7f00:1", "::a00:7", "64:ff9b:1::a00:7", "fec0::1"):
        assert address_refused(never_public), never_public
    assert not address_refused("64:ff9b::5db8:d822")  # 93.184.216.34 through NAT64
    assert not address_refused("2002:5db8:d822::1")  # and 6to4


def test_an_address_is_checked_again_when_sent_to(db_session: Session, vault: Vault) -> None:
    """Registered while allowed (or before its name pointed inside): refused at delivery."""
    with receiver() as received:
        structure = factories.structure(db_session)
        endpoint = factories.webhook(
            db_session, structure, received.url("/b"), settings=LOCAL
        ).endpoint
        queue.queue_ping(db_session, None, endpoint, now=NOW)
        assert _deliver(db_session, vault.keys, allow_private=False) == 0
        (delivery,) = db_session.scalars(select(WebhookDelivery)).all()
        assert delivery.last_error == "refused-address"
        assert _deliver(db_session, vault.keys, NOW + timedelta(minutes=5), allow_http=False) == 0
        assert delivery.last_error == "refused-http"
        assert received.requests == []
    # Redirects are not followed: a 3xx is a failure.
    with receiver() as received:
        received.statuses = [302]
        answer = post(received.url("/r"), b"{}", {}, LOCAL)
        assert (answer.status, answer.error) == (302, "http-302")
        assert len(received.requests) == 1


def test_each_checked_address_of_the_host_is_tried_in_turn() -> None:
    """Only the first address was tried: a receiver with an IPv6 and an IPv4 address failed
    every delivery from a machine without IPv6."""
    with receiver() as received:
        down = "127.0.0.2"  # checked, but nothing listens there on the receiver's port

        def resolver(host: str, port: int) -> list[str]:
            return [down, "127.0.0.1"]

        answer = post(f"http://receiver.example:{received.port}/h", b"{}", {}, LOCAL, resolver)
        assert (answer.status, answer.error) == (200, None)
        assert received.requests[0].headers["host"] == f"receiver.example:{received.port}"
        # Every address is still checked before any is tried.
        refused = post(
            f"http://receiver.example:{received.port}/h",
            b"{}",
            {},
            dataclasses.replace(LOCAL, allow_private=False),
            lambda host, port: ["93.184.216.34", "127.0.0.1"],
        )
        assert refused.error == "refused-address"
        assert len(received.requests) == 1


def test_an_attempt_lasts_the_timeout_in_all_even_when_the_answer_drips() -> None:
    """A receiver sending its answer a line at a time (each line within the socket's timeout)
    held the worker, and every other structure's deliveries, for as long as it liked."""
    settings = dataclasses.replace(LOCAL, timeout=1)
    with dripping_receiver(pause=0.4, lines=20) as port:  # 8 s in all
        started = time.monotonic()
        answer = post(f"http://127.0.0.1:{port}/hook", b"{}", {}, settings)
        elapsed = time.monotonic() - started
    assert (answer.status, answer.error) == (None, "timeout")
    assert elapsed < 3


def test_an_erasure_deletes_what_was_sent_and_strips_the_pseudonym_of_what_waits(
    db_session: Session, vault: Vault, tmp_path: Path
) -> None:
    a, b = factories.structure(db_session), factories.structure(db_session)
    sender = factories.user(db_session, structure_=a)
    person = factories.person(db_session, vault, sender)
    old = person.pseudonym
    with receiver() as received:
        _register(db_session, vault.keys, b, received.url("/b"))
        pending = factories.handoff(db_session, vault, sender, person, b, now=NOW)
        _deliver(db_session, vault.keys)
        erase_person(
            db_session, vault, sender, person, cause=ErasureCause.REQUEST,
            register=RegisterFile(tmp_path / "register.txt"), today=factories.TODAY, now=NOW,
        )  # fmt: skip
        db_session.flush()
        (left,) = db_session.scalars(select(WebhookDelivery)).all()
        assert left.delivered_at is None
        assert old not in left.payload
        data = json.loads(left.payload)["data"]
        assert (data["pseudonym"], data["handoff_id"], data["status"]) == (
            None,
            str(pending.id),
            "withdrawn",
        )
        _deliver(db_session, vault.keys)
        assert [json.loads(r.body)["type"] for r in received.requests] == [
            "handoff.received",
            "handoff.closed",
        ]
    assert pending.status is HandoffStatus.WITHDRAWN


def test_a_secret_that_cannot_be_opened_fails_the_delivery_and_nothing_is_sent(
    db_session: Session, vault: Vault
) -> None:
    with receiver() as received:
        endpoint = factories.webhook(
            db_session, factories.structure(db_session), received.url("/b"), settings=LOCAL
        ).endpoint
        endpoint.secret_kek = "gone"  # a KEK no longer in RELAIS_KEKS
        queue.queue_ping(db_session, None, endpoint, now=NOW)
        assert _deliver(db_session, vault.keys) == 0
        (delivery,) = db_session.scalars(select(WebhookDelivery)).all()
        assert delivery.last_error == "secret-unreadable"
        assert received.requests == []


def test_the_signature_matches_the_standard_webhooks_reference_vector() -> None:
    """The example of the Standard Webhooks specification (and of its libraries' tests)."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == expected
    assert verify(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, f"v1,bad {expected}")
    assert not verify(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body, expected)
