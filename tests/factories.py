"""Test data built through the services, as the application builds it. Flush, never commit."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from app.crypto import KeyRing
from app.domain.pathway import ConsentMethod
from app.domain.roles import Role
from app.domain.webhooks import SUBSCRIBABLE
from app.models import Beneficiary, Handoff, Structure, User
from app.services.handoffs import send_handoff
from app.services.people.identity import Identity
from app.services.people.registration import ConsentInput, NewPerson, register_person
from app.services.security import second_factor
from app.services.security.accounts import create_user
from app.services.security.vault import Vault
from app.services.structures import create_structure
from app.services.webhooks.endpoints import Registered
from app.services.webhooks.endpoints import register as register_webhook
from app.services.webhooks.settings import WebhookSettings

PASSWORD = "a long enough test passphrase"
TODAY = date(2026, 11, 25)
_counter = itertools.count(1)
# The run's key ring (set by the ``app`` fixture), to seal the seeds of second factors.
_KEYS: list[KeyRing] = []


def use_keys(keys: KeyRing) -> None:
    _KEYS[:] = [keys]


def structure(
    session: Session, code: str | None = None, type_code: str = "association"
) -> Structure:
    n = next(_counter)
    return create_structure(
        session, None, code=code or f"S{n:03d}", name=f"Structure {n}", type_code=type_code
    )


def user(
    session: Session,
    role: Role = Role.CASEWORKER,
    structure_: Structure | None = None,
    email: str | None = None,
    *,
    second_factor_: bool | None = None,
) -> User:
    """An account with the password ``PASSWORD``. Coordinators and administrators get an
    active TOTP second factor (their role needs one) unless ``second_factor_`` is False; the
    web helpers' ``login`` answers the code."""
    n = next(_counter)
    if role is Role.CASEWORKER and structure_ is None:
        structure_ = structure(session)
    account = create_user(
        session,
        None,
        email=email or f"user{n}@relais.example",
        display_name=f"User {n}",
        role=role,
        structure=structure_,
        password=PASSWORD,
        min_length=12,
    )
    if second_factor_ is None:
        second_factor_ = account.must_have_second_factor
    if second_factor_:
        second_factor.enrol_now(session, _KEYS[0], None, account, now=datetime.now(UTC))
    return account


def person(
    session: Session,
    vault: Vault,
    actor: User,
    *,
    last_name: str = "Zephyrin",
    first_name: str = "Aurélie",
    birth_date: date = date(2004, 3, 14),
    phone: str | None = "06 12 34 56 78",
    email: str | None = "aurelie.z@exemple.fr",
    consent: bool = True,
    cohorts: tuple[str, ...] = ("young_dropout",),
) -> Beneficiary:
    return register_person(
        session,
        vault,
        actor,
        NewPerson(
            identity=Identity(
                last_name=last_name,
                first_name=first_name,
                birth_date=birth_date,
                phone=phone,
                email=email,
                address="12 rue des Tilleuls, 90000 Belfort",
            ),
            cohort_codes=cohorts,
            consent=ConsentInput(ConsentMethod.ORAL, TODAY) if consent else None,
        ),
        today=TODAY,
    )


def handoff(
    session: Session,
    vault: Vault,
    sender: User,
    person_: Beneficiary,
    to: Structure,
    *,
    now: datetime = datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
    note: str | None = None,
) -> Handoff:
    """``person_`` sent by ``sender`` to ``to`` for a training (one mail queued per caseworker
    of ``to``)."""
    return send_handoff(
        session,
        vault,
        sender,
        person_,
        to_structure=to,
        now=now,
        purpose_stage_code="training",
        consent_confirmed=True,
        note=note,
    )


def webhook(
    session: Session,
    structure_: Structure,
    url: str = "https://partner.example.org/relais",
    *,
    settings: WebhookSettings | None = None,
) -> Registered:
    """A webhook endpoint of ``structure_`` subscribed to every event, registered by the
    command line; its host is taken to resolve to a public address unless it is an IP."""

    def resolver(host: str, _port: int) -> list[str]:
        return [host] if host[:1].isdigit() else ["93.184.216.34"]

    return register_webhook(
        session,
        _KEYS[0],
        None,
        structure_,
        url=url,
        description="",
        events=SUBSCRIBABLE,
        settings=settings or WebhookSettings(),
        now=datetime.now(UTC),
        resolver=resolver,
    )
