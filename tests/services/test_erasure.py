"""Erasure by crypto-shredding: nothing of the person decrypts any more, with any key, in this
database or in a copy restored from before the erasure; the statistics still count them."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from app.crypto import DecryptionError, FieldContext, decrypt_field
from app.domain.handoffs import HandoffEvent, HandoffStatus, WithdrawCause
from app.domain.rights import ErasureCause, WithdrawalSource
from app.domain.roles import Role
from app.models import (
    IDENTITY_FIELDS,
    AuditEvent,
    Base,
    Beneficiary,
    Consent,
    ErasureRecord,
    FollowUp,
    HandoffTransition,
    MailMessage,
    PersonKey,
)
from app.services.errors import Forbidden, InvalidInput
from app.services.handoffs import apply_event, available_events
from app.services.people.duplicates import find_possible_duplicates
from app.services.people.identity import Identity, clean_identity, open_identity
from app.services.rights.erasure import (
    RegisterEntry,
    RegisterFile,
    RegisterFileError,
    erase_person,
    is_readable,
    reapply_erasures,
)
from app.services.security.vault import IdentityErased, Vault
from app.services.statistics import queries
from app.services.statistics.dashboard import dashboard
from app.services.statistics.scope import DashboardFilters, resolve_scope
from tests import factories
from tests.rights_helpers import NOW, TODAY, Network, network, register_in

# Tables holding a person's rows, in the order a restore writes them back.
PERSON_TABLES = (
    "beneficiaries",
    "beneficiary_cohorts",
    "person_keys",
    "follow_ups",
    "pathway_steps",
    "barriers",
    "consents",
    "handoffs",
    "handoff_transitions",
    "mail_outbox",
)


def _erase(session: Session, vault: Vault, net: Network, register: RegisterFile) -> ErasureRecord:
    return erase_person(
        session,
        vault,
        net.worker_a,
        net.person,
        cause=ErasureCause.REQUEST,
        register=register,
        today=TODAY,
        now=NOW,
    )


def _sealed(session: Session, person_id: uuid.UUID) -> list[tuple[FieldContext, bytes]]:
    """Every ciphertext of the person in the database, with the place it is bound to."""
    found = []
    person = session.get(Beneficiary, person_id)
    assert person is not None
    for column in IDENTITY_FIELDS:
        stored = getattr(person, column)
        if stored is not None:
            found.append((FieldContext("beneficiaries", column, person_id, person_id), stored))
    tables = Base.metadata.tables
    for table, column in (("pathway_steps", "action"), ("handoffs", "note")):
        t = tables[table]
        for row_id, stored in session.execute(
            select(t.c.id, t.c[column]).where(
                t.c.beneficiary_id == person_id, t.c[column].is_not(None)
            )
        ):
            found.append((FieldContext(table, column, row_id, person_id), stored))
    handoffs, transitions = tables["handoffs"], tables["handoff_transitions"]
    for row_id, stored in session.execute(
        select(transitions.c.id, transitions.c.message)
        .join(handoffs, handoffs.c.id == transitions.c.handoff_id)
        .where(handoffs.c.beneficiary_id == person_id, transitions.c.message.is_not(None))
    ):
        found.append((FieldContext("handoff_transitions", "message", row_id, person_id), stored))
    return found


def _person_rows(session: Session, person_id: uuid.UUID) -> dict[str, list[dict[str, Any]]]:
    """A copy of the person's rows: what a backup of the database holds."""
    tables = Base.metadata.tables
    handoff_ids = select(tables["handoffs"].c.id).where(
        tables["handoffs"].c.beneficiary_id == person_id
    )
    rows: dict[str, list[dict[str, Any]]] = {}
    for name in PERSON_TABLES:
        t = tables[name]
        if "beneficiary_id" in t.c:
            where = t.c.beneficiary_id == person_id
        elif name == "beneficiaries":
            where = t.c.id == person_id
        else:
            where = t.c.handoff_id.in_(handoff_ids)
        rows[name] = [dict(r._mapping) for r in session.execute(select(t).where(where))]
    return rows


def _restore(session: Session, person_id: uuid.UUID, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Put the person's rows back as the backup had them (the register table loses the line,
    as it would: the backup was taken before the erasure)."""
    tables = Base.metadata.tables
    session.execute(
        delete(tables["beneficiaries"]).where(tables["beneficiaries"].c.id == person_id)
    )
    session.execute(
        delete(tables["erasure_register"]).where(
            tables["erasure_register"].c.beneficiary_id == person_id
        )
    )
    for name in PERSON_TABLES:
        table: Table = tables[name]
        if rows[name]:
            session.execute(insert(table), rows[name])
    session.flush()
    session.expire_all()


def _every_data_key(session: Session, vault: Vault) -> list[Any]:
    """Every data key anyone could unwrap from this database with every KEK of the ring."""
    keys = []
    for row in session.scalars(select(PersonKey)):
        for kek_id in vault.keys.keks:
            try:
                keys.append(vault.keys.unwrap(kek_id, row.wrapped_key))
            except DecryptionError:
                continue
    return keys


def _nothing_decrypts(
    session: Session, vault: Vault, person_id: uuid.UUID, sealed: list[tuple[FieldContext, bytes]]
) -> None:
    assert sealed, "the test needs ciphertexts to try"
    with pytest.raises(IdentityErased):
        vault.person_key(session, person_id)
    keys = _every_data_key(session, vault)
    assert keys, "other people's keys are there to try"
    for context, stored in sealed:
        for key in keys:
            with pytest.raises(DecryptionError):
                decrypt_field(key, context, stored)


def test_erasure_shreds_the_key_and_clears_the_rows(
    db_session: Session, vault: Vault, tmp_path: Path
) -> None:
    net = network(db_session, vault)
    person, pid, old_pseudonym = net.person, net.person.id, net.person.pseudonym
    before = _sealed(db_session, pid)
    assert len(before) >= 8  # identity fields, the step's action, the note, the answer
    register = register_in(tmp_path)

    record = _erase(db_session, vault, net, register)

    assert (record.beneficiary_id, record.erased_at, record.cause) == (
        pid,
        NOW,
        ErasureCause.REQUEST,
    )
    assert db_session.get(PersonKey, pid) is None
    assert person.erased_at == NOW
    indexes = ("name_birth_index", "email_index", "phone_index", "lookup_version")
    lookups = ("name_birth_lookup", "email_lookup", "phone_lookup")
    for column in (*IDENTITY_FIELDS, *indexes, *lookups):
        assert getattr(person, column) is None, column
    assert (person.birth_year, person.sex, person.education_level) == (None, None, None)
    assert person.pseudonym != old_pseudonym
    assert person.pseudonym.startswith("P-")
    assert _sealed(db_session, pid) == []  # no ciphertext left in the live rows
    _nothing_decrypts(db_session, vault, pid, before)
    # The register: the table and the file.
    assert register.read() == [RegisterEntry(pid, NOW, ErasureCause.REQUEST)]
    assert (tmp_path / "erasure-register.txt").stat().st_mode & 0o777 == 0o600
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "beneficiary:erase"))
    assert event is not None
    assert (event.beneficiary_id, event.actor_structure_id, event.data) == (
        pid,
        net.a.id,
        {"cause": "request"},
    )


def test_erasure_closes_what_was_open(db_session: Session, vault: Vault, tmp_path: Path) -> None:
    net = network(db_session, vault)
    mails_before = db_session.scalars(select(MailMessage)).all()
    assert mails_before  # the hand-offs queued mails
    _erase(db_session, vault, net, register_in(tmp_path))
    assert net.pending.status is HandoffStatus.WITHDRAWN
    cause = db_session.scalar(
        select(HandoffTransition.cause).where(
            HandoffTransition.handoff_id == net.pending.id,
            HandoffTransition.event == HandoffEvent.WITHDRAW,
        )
    )
    assert cause is WithdrawCause.ERASURE
    follow_ups = db_session.scalars(
        select(FollowUp).where(FollowUp.beneficiary_id == net.person.id)
    ).all()
    assert {f.structure_id for f in follow_ups} == {net.a.id, net.b.id}
    assert all(f.ended_on == TODAY and f.end_reason is not None for f in follow_ups)
    assert {f.end_reason.code for f in follow_ups if f.end_reason} == {"person_stopped"}
    consents = db_session.scalars(
        select(Consent).where(Consent.beneficiary_id == net.person.id)
    ).all()
    assert [(c.withdrawn_on, c.withdrawal_source) for c in consents] == [
        (TODAY, WithdrawalSource.ERASURE)
    ]
    assert db_session.scalars(select(MailMessage)).all() == []
    # Nothing more is recorded about the person: the receiver of the accepted hand-off can
    # no longer act on it.
    assert available_events(net.worker_b, net.accepted) == []
    with pytest.raises(InvalidInput, match="erased"):
        apply_event(
            db_session,
            vault,
            net.worker_b,
            net.accepted,
            HandoffEvent.COMPLETE,
            now=NOW,
            reason_code="job_signed",
        )


def test_statistics_still_count_the_pathway(
    db_session: Session, vault: Vault, tmp_path: Path
) -> None:
    net = network(db_session, vault)
    scope = resolve_scope(
        db_session,
        DashboardFilters(start=date(2026, 1, 1), end=date(2026, 12, 31)),
        today=TODAY,
    )

    def figures() -> dict[str, object]:
        return {
            "people": db_session.scalar(queries.people_query(scope)),
            "funnel": sorted(db_session.execute(queries.funnel_query(scope))),
            "barriers": sorted(db_session.execute(queries.barriers_query(scope)), key=str),
            "handoffs": sum(row[-1] for row in db_session.execute(queries.handoffs_query(scope))),
            "pairs": sorted(
                (row[1], row[2]) for row in db_session.execute(queries.handoffs_query(scope))
            ),
        }

    before = figures()
    assert before["people"] == 1
    assert before["handoffs"] == 2
    _erase(db_session, vault, net, register_in(tmp_path))
    assert figures() == before
    # The whole dashboard is still computed (every cell protected as usual).
    board = dashboard(db_session, scope)
    assert board is not None


def test_an_erased_person_is_no_duplicate_any_more(
    db_session: Session, vault: Vault, tmp_path: Path
) -> None:
    net = network(db_session, vault)
    same = clean_identity(
        Identity(
            last_name="Zephyrin",
            first_name="Aurélie",
            birth_date=date(2004, 3, 14),
            email="aurelie.z@exemple.fr",
        ),
        TODAY,
    )
    assert find_possible_duplicates(db_session, vault, net.worker_c, same, today=TODAY).elsewhere
    _erase(db_session, vault, net, register_in(tmp_path))
    check = find_possible_duplicates(db_session, vault, net.worker_c, same, today=TODAY)
    assert not check.elsewhere
    assert check.followed == []


def test_a_restored_copy_is_erased_again(db_session: Session, vault: Vault, tmp_path: Path) -> None:
    net = network(db_session, vault)
    pid = net.person.id
    backup = _person_rows(db_session, pid)  # a backup taken before the erasure
    sealed = _sealed(db_session, pid)
    register = register_in(tmp_path)
    _erase(db_session, vault, net, register)
    db_session.commit()

    _restore(db_session, pid, backup)  # the database is restored from that backup
    revived = db_session.get(Beneficiary, pid)
    assert revived is not None
    assert revived.erased_at is None
    assert open_identity(vault, db_session, revived).last_name == "Zephyrin"  # readable again
    assert db_session.get(ErasureRecord, pid) is None  # the table lost the line

    report = reapply_erasures(db_session, vault, register, today=TODAY, now=NOW)

    assert (report.entries, report.erased_again, report.rows_restored, report.lines_restored) == (
        1,
        1,
        1,
        0,
    )
    assert report.erased_ids == [pid]
    person = db_session.get(Beneficiary, pid)
    assert person is not None
    assert person.erased_at == NOW
    assert not is_readable(db_session, person)
    _nothing_decrypts(db_session, vault, pid, sealed)
    assert _sealed(db_session, pid) == []
    row = db_session.get(ErasureRecord, pid)
    assert row is not None
    assert row.reapplied_at == NOW
    assert db_session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "beneficiary:erasure_reapplied", AuditEvent.beneficiary_id == pid
        )
    )
    # A second run changes nothing.
    again = reapply_erasures(db_session, vault, register, today=TODAY, now=NOW)
    assert (again.erased_again, again.already_erased, again.rows_restored) == (0, 1, 0)


def test_the_file_and_the_table_complete_each_other(
    db_session: Session, vault: Vault, tmp_path: Path
) -> None:
    net = network(db_session, vault)
    _erase(db_session, vault, net, register_in(tmp_path))
    # The file was lost (a new volume): the table gives the lines back.
    fresh = RegisterFile(tmp_path / "new-volume.txt")
    report = reapply_erasures(db_session, vault, fresh, today=TODAY, now=NOW)
    assert (report.lines_restored, report.already_erased) == (1, 1)
    assert [e.beneficiary_id for e in fresh.read()] == [net.person.id]
    # An id the database does not hold (restored from before the person was registered).
    stranger = uuid.uuid4()
    fresh.append(RegisterEntry(stranger, NOW, ErasureCause.RETENTION))
    report = reapply_erasures(db_session, vault, fresh, today=TODAY, now=NOW)
    assert (report.absent, report.rows_restored) == (1, 1)
    assert db_session.get(ErasureRecord, stranger) is not None


def test_a_damaged_register_file_changes_nothing(
    db_session: Session, vault: Vault, tmp_path: Path
) -> None:
    net = network(db_session, vault)
    register = register_in(tmp_path)
    register.path.write_text("# header\nnot an entry\n", encoding="utf-8")
    with pytest.raises(RegisterFileError, match="line 2"):
        reapply_erasures(db_session, vault, register, today=TODAY, now=NOW)
    assert open_identity(vault, db_session, net.person).last_name == "Zephyrin"


def test_an_unwritable_register_refuses_the_erasure(
    db_session: Session, vault: Vault, tmp_path: Path
) -> None:
    net = network(db_session, vault)
    register = RegisterFile(tmp_path / "missing-folder" / "register.txt")
    with pytest.raises(RegisterFileError, match="cannot write"):
        _erase(db_session, vault, net, register)


def test_who_may_erase(db_session: Session, vault: Vault, tmp_path: Path) -> None:
    net = network(db_session, vault)
    coordinator = factories.user(db_session, Role.COORDINATOR)
    for outsider in (net.worker_c, coordinator):  # C only has a pending hand-off
        with pytest.raises(Forbidden):
            erase_person(
                db_session,
                vault,
                outsider,
                net.person,
                cause=ErasureCause.REQUEST,
                register=register_in(tmp_path),
                today=TODAY,
                now=NOW,
            )
    assert db_session.get(PersonKey, net.person.id) is not None
    assert not (tmp_path / "erasure-register.txt").exists()
    # The command line (no actor) may; a second erasure is refused.
    erase_person(
        db_session,
        vault,
        None,
        net.person,
        cause=ErasureCause.REQUEST,
        register=register_in(tmp_path),
        today=TODAY,
        now=NOW,
    )
    with pytest.raises(InvalidInput, match="already"):
        _erase(db_session, vault, net, register_in(tmp_path))
