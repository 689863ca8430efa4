"""The audit log over years: monthly partitions, seals of finished months, verification of a
period, pruning of sealed months - and what each detects."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.services.errors import Conflict
from app.services.security import audit, audit_check, audit_retention
from app.services.security.audit_seal import load_seals
from tests.audit_log import drop_audit_guards

# Rows in January, February and April 2025; March has none.
MONTHS = {"2025-01": 1, "2025-02": 2, "2025-04": 4}
PER_MONTH = 3
# Early in May 2025: January to April are finished and sealable.
MAY = datetime(2025, 5, 1, 2, 0, tzinfo=UTC)


def _log(session: Session, *, people: bool = False) -> dict[str, list[int]]:
    """Three chained rows in each month of ``MONTHS``; their places by month. With ``people``,
    each row lists two people displayed (indexed in ``audit_event_people``)."""
    rows = [
        {
            "at": datetime(2025, number, day + 2, 12, tzinfo=UTC),
            "action": "user:login",
            "subject_type": "users",
            "subject_id": f"{month}/{day}",
            "data": {"people": [str(uuid.uuid4()), str(uuid.uuid4())]} if people else {},
        }
        for month, number in MONTHS.items()
        for day in range(PER_MONTH)
    ]
    start = int(session.execute(text("SELECT seq FROM audit_chain_head")).scalar_one()) + 1
    assert start == 1, "the log of a test starts empty"
    audit.append_many(session, rows)
    session.flush()
    places = iter(range(start, start + len(rows)))
    return {month: [next(places) for _ in range(PER_MONTH)] for month in MONTHS}


def _sealed(session: Session, *, people: bool = False) -> dict[str, list[int]]:
    places = _log(session, people=people)
    sealed = audit_check.seal_months(session, MAY)
    assert [s.month for s in sealed] == ["2025-01", "2025-02", "2025-03", "2025-04"]
    return places


def _broken(report: audit_check.ChainReport) -> audit_check.BrokenRow:
    assert report.broken is not None
    return report.broken


def _exec(session: Session, sql: str, **params: object) -> None:
    session.execute(text(sql), params)
    session.expire_all()


# -- partitions ------------------------------------------------------------------------------


def test_rows_land_in_their_month_s_partition(db_session: Session) -> None:
    if db_session.connection().dialect.name != "postgresql":
        with pytest.raises(Conflict, match="SQLite has no partitions"):
            audit_retention.ensure_partitions(db_session, MAY, 1)
        return
    places = _log(db_session)

    def partition_of(seq: int) -> str:
        return str(
            db_session.execute(
                text("SELECT tableoid::regclass::text FROM audit_events WHERE seq = :s"), {"s": seq}
            ).scalar_one()
        )

    # No partition for 2025 yet: the default one holds the rows.
    assert partition_of(places["2025-02"][0]) == "audit_events_default"
    created = audit_retention.ensure_partitions(db_session, datetime(2025, 2, 10, tzinfo=UTC), 1)
    assert created == ["2025-01", "2025-02", "2025-03", "2025-04"]
    for month, seqs in places.items():
        assert {partition_of(seq) for seq in seqs} == {f"audit_events_{month.replace('-', '_')}"}
    assert audit_retention.ensure_partitions(db_session, datetime(2025, 2, 10, tzinfo=UTC), 1) == []
    audit.append_many(
        db_session,
        [{"at": datetime(2025, 3, 9, tzinfo=UTC), "action": "a:b", "subject_type": "t",
          "subject_id": "1"}],
    )  # fmt: skip
    db_session.flush()
    head = int(db_session.execute(text("SELECT seq FROM audit_chain_head")).scalar_one())
    assert partition_of(head) == "audit_events_2025_03"
    # The guard triggers hold on the new partitions.
    nested = db_session.begin_nested()
    with pytest.raises(DBAPIError, match="append-only"):
        db_session.execute(text("DELETE FROM audit_events WHERE seq = :s"), {"s": head})
    nested.rollback()
    assert audit_check.verify_chain(db_session).intact


# -- seals -----------------------------------------------------------------------------------


def test_each_finished_month_is_sealed_once(db_session: Session) -> None:
    places = _log(db_session)
    # Within the margin after April's end, April is not over enough to be sealed.
    early = audit_check.seal_months(db_session, datetime(2025, 5, 1, 0, 30, tzinfo=UTC))
    assert [s.month for s in early] == ["2025-01", "2025-02", "2025-03"]
    later = audit_check.seal_months(db_session, MAY)
    assert [s.month for s in later] == ["2025-04"]
    assert audit_check.seal_months(db_session, MAY) == []
    seals = {s.month: s for s in load_seals(db_session)}
    for month, seqs in places.items():
        assert (seals[month].first_seq, seals[month].last_seq) == (seqs[0], seqs[-1])
        assert seals[month].rows == PER_MONTH
    march = seals["2025-03"]
    assert march.empty
    assert march.rows == 0
    assert march.last_mac == seals["2025-02"].last_mac
    report = audit_check.verify_chain(db_session)
    assert report.intact
    assert report.seals == 4


def test_a_month_and_what_follows_the_last_seal_are_checked_alone(db_session: Session) -> None:
    places = _sealed(db_session)
    february = audit_check.verify_month(db_session, "2025-02")
    assert february.intact
    assert (february.start, february.stop, february.rows) == (
        places["2025-02"][0],
        places["2025-02"][-1],
        PER_MONTH,
    )
    assert audit_check.verify_month(db_session, "2025-03").intact
    since = audit_check.verify_chain(db_session, since_seal=True)
    assert since.intact
    # After April's last row come the four seal events only.
    assert (since.start, since.rows) == (places["2025-04"][-1] + 1, 4)
    with pytest.raises(Conflict, match="2025-06 is not sealed"):
        audit_check.verify_month(db_session, "2025-06")


def test_an_edit_inside_a_sealed_month_is_found_by_that_month_only(db_session: Session) -> None:
    places = _sealed(db_session)
    drop_audit_guards(db_session)
    target = places["2025-02"][1]
    _exec(db_session, "UPDATE audit_events SET subject_id = 'x' WHERE seq = :s", s=target)
    assert _broken(audit_check.verify_month(db_session, "2025-02")).seq == target
    assert audit_check.verify_month(db_session, "2025-01").intact
    assert audit_check.verify_month(db_session, "2025-04").intact
    assert audit_check.verify_chain(db_session, since_seal=True).intact
    assert _broken(audit_check.verify_chain(db_session)).seq == target


def test_a_broken_month_is_not_sealed(db_session: Session) -> None:
    places = _log(db_session)
    drop_audit_guards(db_session)
    target = places["2025-04"][0]
    _exec(db_session, "UPDATE audit_events SET subject_id = 'x' WHERE seq = :s", s=target)
    with pytest.raises(Conflict, match=f"broken at seq {target}"):
        audit_check.seal_months(db_session, MAY)


def test_a_row_removed_from_a_sealed_month_is_found(db_session: Session) -> None:
    places = _sealed(db_session)
    drop_audit_guards(db_session)
    last = places["2025-04"][-1]
    _exec(db_session, "DELETE FROM audit_events WHERE seq = :s", s=last)
    broken = _broken(audit_check.verify_month(db_session, "2025-04"))
    assert broken.seq == last
    assert "its seal says" in broken.reason


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("UPDATE audit_seals SET last_seq = last_seq - 1 WHERE month = '2025-02'", "its tag"),
        ("UPDATE audit_seals SET digest = :zero WHERE month = '2025-01'", "its tag"),
        ("DELETE FROM audit_seals WHERE month = '2025-02'", "months between"),
    ],
)
def test_an_edited_or_removed_seal_is_detected(db_session: Session, sql: str, reason: str) -> None:
    _sealed(db_session)
    drop_audit_guards(db_session)
    _exec(db_session, sql, zero=bytes(32))
    for report in (
        audit_check.verify_chain(db_session),
        audit_check.verify_chain(db_session, since_seal=True),
        audit_check.verify_month(db_session, "2025-04"),
    ):
        assert reason in _broken(report).reason


def test_the_last_seal_removed_is_named_by_its_chained_event(db_session: Session) -> None:
    _sealed(db_session)
    drop_audit_guards(db_session)
    _exec(db_session, "DELETE FROM audit_seals WHERE month = '2025-04'")
    event = int(
        db_session.execute(
            text(
                "SELECT seq FROM audit_events WHERE action = 'audit:seal' AND subject_id = '2025-04'"
            )
        ).scalar_one()
    )
    for report in (
        audit_check.verify_chain(db_session),
        audit_check.verify_chain(db_session, since_seal=True),
    ):
        broken = _broken(report)
        assert broken.seq == event
        assert "seal of 2025-04" in broken.reason


def test_the_seals_refuse_to_change(db_session: Session) -> None:
    _sealed(db_session)
    for sql in ("UPDATE audit_seals SET rows = 0", "DELETE FROM audit_seals"):
        nested = db_session.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            db_session.execute(text(sql))
        nested.rollback()


def test_a_place_held_twice_is_refused_or_reported(db_session: Session) -> None:
    places = _log(db_session)
    taken = places["2025-01"][1]
    insert = (
        "INSERT INTO audit_events (seq, mac, at, action, subject_type, subject_id, data)"
        " VALUES (:seq, :mac, :at, 'user:login', 'users', '1', '{}')"
    )
    params = {"seq": taken, "mac": bytes(32), "at": "2025-01-20 00:00:00.000000"}
    if db_session.connection().dialect.name == "sqlite":
        nested = db_session.begin_nested()
        with pytest.raises(DBAPIError, match="seq is taken"):
            db_session.execute(text(insert), params)
        nested.rollback()
        return
    # PostgreSQL cannot hold a unique index on seq in a partitioned table: verify names it.
    _exec(db_session, insert, **params)
    broken = _broken(audit_check.verify_chain(db_session))
    assert (broken.seq, broken.reason) == (taken, f"two rows hold seq {taken}")


# -- pruning ---------------------------------------------------------------------------------


def test_pruned_months_leave_their_seals_and_a_verifiable_rest(db_session: Session) -> None:
    places = _sealed(db_session)
    if db_session.connection().dialect.name == "postgresql":
        audit_retention.ensure_partitions(db_session, datetime(2025, 1, 10, tzinfo=UTC), 0)
    pruned = audit_retention.prune_before(db_session, "2025-04")
    assert pruned is not None
    assert (pruned.first_seq, pruned.last_seq) == (1, places["2025-02"][-1])
    if db_session.connection().dialect.name == "postgresql":
        assert pruned.partitions == ["audit_events_2025_01", "audit_events_2025_02"]
    remaining = db_session.execute(text("SELECT min(seq), count(*) FROM audit_events")).one()
    assert remaining[0] == places["2025-04"][0]
    assert len(load_seals(db_session)) == 4
    report = audit_check.verify_chain(db_session)
    assert report.intact, report.broken
    assert report.start == places["2025-04"][0]
    assert audit_check.verify_month(db_session, "2025-04").intact
    assert audit_check.verify_month(db_session, "2025-03").intact  # empty: its seal only
    with pytest.raises(Conflict, match="were pruned"):
        audit_check.verify_month(db_session, "2025-02")
    assert audit_retention.prune_before(db_session, "2025-04") is None
    # The guard is back, and what remains is still watched.
    nested = db_session.begin_nested()
    with pytest.raises(DBAPIError, match="append-only"):
        db_session.execute(text("DELETE FROM audit_events"))
    nested.rollback()
    drop_audit_guards(db_session)
    target = places["2025-04"][1]
    _exec(db_session, "UPDATE audit_events SET purpose = 'x' WHERE seq = :s", s=target)
    assert _broken(audit_check.verify_chain(db_session)).seq == target


def test_the_people_index_is_checked_within_a_month_and_pruned_with_it(
    db_session: Session,
) -> None:
    places = _sealed(db_session, people=True)
    tampered = db_session.begin_nested()
    drop_audit_guards(db_session)
    target = places["2025-02"][1]
    _exec(db_session, "DELETE FROM audit_event_people WHERE seq = :s", s=target)
    assert _broken(audit_check.verify_month(db_session, "2025-02")).seq == target
    assert audit_check.verify_month(db_session, "2025-01").intact
    assert audit_check.verify_chain(db_session, since_seal=True).intact
    assert _broken(audit_check.verify_chain(db_session)).seq == target
    tampered.rollback()
    # Pruned with their months, the index rows go too; what remains verifies, index included.
    if db_session.connection().dialect.name == "postgresql":
        audit_retention.ensure_partitions(db_session, datetime(2025, 1, 10, tzinfo=UTC), 0)
    audit_retention.prune_before(db_session, "2025-04")
    left = db_session.execute(text("SELECT min(seq) FROM audit_event_people")).scalar_one()
    assert left == places["2025-04"][0]
    assert audit_check.verify_chain(db_session).intact
    drop_audit_guards(db_session)
    target = places["2025-04"][2]
    _exec(db_session, "DELETE FROM audit_event_people WHERE seq = :s", s=target)
    assert _broken(audit_check.verify_chain(db_session)).seq == target


def test_pruning_an_unsealed_month_is_refused(db_session: Session) -> None:
    _sealed(db_session)
    with pytest.raises(Conflict, match="2025-05 is not sealed"):
        audit_retention.prune_before(db_session, "2025-06")
    assert db_session.execute(text("SELECT min(seq) FROM audit_events")).scalar_one() == 1


def test_rows_removed_without_a_seal_or_a_prune_are_detected(db_session: Session) -> None:
    places = _log(db_session)
    drop_audit_guards(db_session)
    # January removed by hand, never sealed: no seal ends where the rest starts.
    _exec(db_session, "DELETE FROM audit_events WHERE seq <= :s", s=places["2025-01"][-1])
    broken = _broken(audit_check.verify_chain(db_session))
    assert broken.seq == places["2025-02"][0]
    assert "no seal ends" in broken.reason


def test_sealed_months_removed_without_a_prune_event_are_detected(db_session: Session) -> None:
    places = _sealed(db_session)
    drop_audit_guards(db_session)
    _exec(db_session, "DELETE FROM audit_events WHERE seq <= :s", s=places["2025-02"][-1])
    broken = _broken(audit_check.verify_chain(db_session))
    assert "no audit:prune event" in broken.reason
