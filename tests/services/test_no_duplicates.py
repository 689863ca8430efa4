"""No duplicate under concurrency, through the services: the registration lock taken before
the duplicate check (and by an import), and one pending hand-off per person, sender,
receiver and purpose - answered with ``Conflict``, whether the repeat is seen before the
insert or refused by the unique index (what a request sent at the same moment meets)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffEvent, HandoffStatus
from app.models import Handoff, Structure, User
from app.services.errors import Conflict
from app.services.handoffs import apply_event, sending
from app.services.handoffs.sending import send_handoff
from app.services.imports import check_sheet, read_sheet
from app.services.pathways import add_barrier
from app.services.people.duplicates import find_possible_duplicates
from app.services.people.identity import Identity, clean_identity
from app.services.people.registration_lock import REGISTRATIONS_KEY, identity_indexes, lock_key
from app.services.security.vault import Vault
from tests import factories
from tests.sql_count import count_queries

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
TODAY = date(2026, 11, 20)
IDENTITY = Identity(
    last_name="Zorvaquet",
    first_name="Ysolde",
    birth_date=date(2001, 2, 3),
    email="ysolde.z@exemple.fr",
    phone="06 98 76 54 32",
)


def _advisory_locks(session: Session) -> dict[int, str]:
    """The advisory locks this transaction holds on PostgreSQL: key -> mode."""
    rows = session.execute(
        text(
            "SELECT classid::bigint, objid::bigint, mode FROM pg_locks"
            " WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted"
        )
    ).all()
    found = {}
    for high, low, mode in rows:
        key = (int(high) << 32) | int(low)
        found[key - (1 << 64) if key >= 1 << 63 else key] = mode
    return found


LOCKS = ("pg_advisory_xact_lock", "UPDATE beneficiaries SET pseudonym = pseudonym WHERE 1 = 0")


def _locked_before_looking(statements: list[str]) -> bool:
    """Whether a registration lock was sent before the first read of the people."""
    first_lock = next(i for i, s in enumerate(statements) if any(lock in s for lock in LOCKS))
    first_read = next(
        i
        for i, s in enumerate(statements)
        if s.lstrip().startswith("SELECT") and "FROM beneficiaries" in s
    )
    return first_lock < first_read


def test_the_duplicate_check_locks_the_identity_first(db_session: Session, vault: Vault) -> None:
    structure = factories.structure(db_session)
    worker = factories.user(db_session, structure_=structure)
    db_session.commit()
    cleaned = clean_identity(IDENTITY, TODAY)
    with count_queries() as queries:
        find_possible_duplicates(db_session, vault, worker, cleaned, today=TODAY)
    assert _locked_before_looking(queries.statements)
    if db_session.get_bind().dialect.name == "postgresql":
        held = _advisory_locks(db_session)
        assert held.pop(REGISTRATIONS_KEY) == "ShareLock"  # an import takes it exclusively
        indexes = identity_indexes(vault.indexer, cleaned)
        assert len(indexes) == 3
        expected = {lock_key(n, v, vault.indexer.version) for n, v in indexes}
        assert expected <= {key for key, mode in held.items() if mode == "ExclusiveLock"}


def test_an_import_holds_every_registration_back(db_session: Session, vault: Vault) -> None:
    structure = factories.structure(db_session)
    worker = factories.user(db_session, structure_=structure)
    db_session.commit()
    factories.person(db_session, vault, worker)  # someone to look duplicates up among
    db_session.commit()
    line = "Zorvaquet;Ysolde;young_graduate;ysolde.z@exemple.fr"
    sheet = read_sheet(f"Nom;Prénom;Public;Courriel\r\n{line}\r\n".encode())
    with count_queries() as queries:
        checked = check_sheet(db_session, vault, worker, sheet, today=TODAY)
    assert not checked.errors
    assert _locked_before_looking(queries.statements)
    if db_session.get_bind().dialect.name == "postgresql":
        assert _advisory_locks(db_session)[REGISTRATIONS_KEY] == "ExclusiveLock"


@pytest.fixture
def parties(db_session: Session, vault: Vault) -> tuple[User, User, Structure, Structure]:
    a, b, c = (factories.structure(db_session) for _ in range(3))
    sender = factories.user(db_session, structure_=a)
    receiver = factories.user(db_session, structure_=b)
    return sender, receiver, b, c


def _pending(session: Session) -> int:
    query = select(func.count()).select_from(Handoff).where(Handoff.status == HandoffStatus.SENT)
    return session.scalar(query) or 0


def test_the_same_pending_handoff_is_sent_once(
    db_session: Session, vault: Vault, parties: tuple[User, User, Structure, Structure]
) -> None:
    sender, receiver, b, c = parties
    person = factories.person(db_session, vault, sender)

    def send(to: Structure, **purpose: object) -> Handoff:
        options = purpose or {"purpose_stage_code": "training"}
        return send_handoff(
            db_session, vault, sender, person, to_structure=to, now=NOW,
            consent_confirmed=True, **options,  # type: ignore[arg-type]
        )  # fmt: skip

    first = send(b)
    with pytest.raises(Conflict, match="already waiting"):
        send(b)
    send(c)  # another receiver
    send(b, purpose_stage_code="employment")  # another purpose
    barrier = add_barrier(db_session, sender, person, category_code="mobility", identified_on=TODAY)
    send(b, purpose_barrier=barrier)
    with pytest.raises(Conflict):
        send(b, purpose_barrier=barrier)
    assert _pending(db_session) == 4
    apply_event(db_session, vault, receiver, first, HandoffEvent.ACCEPT, now=NOW)
    send(b)  # answered: no longer waiting, the same purpose may be sent again
    assert _pending(db_session) == 4


def test_the_unique_index_gives_the_same_answer(
    db_session: Session,
    vault: Vault,
    parties: tuple[User, User, Structure, Structure],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A request sent at the same moment does not see the other's hand-off before its insert;
    the index refuses the insert, the service answers ``Conflict`` and the transaction goes on."""
    sender, _receiver, b, _c = parties
    person = factories.person(db_session, vault, sender)
    options = {"to_structure": b, "now": NOW, "purpose_stage_code": "training"}
    send_handoff(db_session, vault, sender, person, consent_confirmed=True, **options)  # type: ignore[arg-type]
    looked: list[bool] = []
    real = sending._waiting_repeat

    def unseen_the_first_time(*args: object) -> bool:
        looked.append(True)
        return False if len(looked) == 1 else real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(sending, "_waiting_repeat", unseen_the_first_time)
    with pytest.raises(Conflict, match="already waiting"):
        send_handoff(db_session, vault, sender, person, consent_confirmed=True, **options)  # type: ignore[arg-type]
    assert len(looked) == 2  # missed before the insert, found after the index refused it
    assert _pending(db_session) == 1
    db_session.flush()  # the transaction is still usable
