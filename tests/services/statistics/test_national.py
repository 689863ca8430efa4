"""The national layer's exchange: a territory's signed publication, and national tables
gathered from two territories' files with the protection re-checked (no count from 1 to 10
published; a value hidden in a territory is hidden nationally)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.crypto.signing import SigningKey, canonical
from app.domain.audit import AuditAction
from app.domain.handoffs import HandoffStatus
from app.domain.pathway import BarrierStatus
from app.models import AuditEvent
from app.services.statistics import national
from app.services.statistics.publication import (
    NATIONAL_LISTS,
    NATIONAL_TABLES,
    PublicationSettings,
    publish,
)
from app.services.statistics.scope import Scope
from tests.world import END, START, World, at

K = 11
SCOPE = Scope(start=START, end=END)
NOW = datetime(2027, 1, 15, 9, tzinfo=UTC)
KEYS = {"75": SigningKey.generate(), "93": SigningKey.generate()}
TRUSTED = {name: (key.verify_key,) for name, key in KEYS.items()}


def add_people(world: World, n: int, *, declined: int, small_category: str) -> None:
    """``n`` people oriented then trained, each with a hand-off and a barrier; ``declined`` of
    the hand-offs declined; one barrier of ``small_category`` (a small count)."""
    for i in range(n):
        person = world.person()
        world.follow(person, world.a)
        world.step(person, "orientation", date(2026, 2, 1 + i % 20), world.a)
        world.step(person, "training", date(2026, 5, 1 + i % 20), world.b)
        status = HandoffStatus.DECLINED if i < declined else HandoffStatus.ACCEPTED
        reason = "no_capacity" if i < declined else None
        world.handoff(
            person, world.a, world.b, status, at(date(2026, 3, 2)), answered_after=3, reason=reason
        )
        category = small_category if i == 0 else "mobility"
        world.barrier(person, category, BarrierStatus.IDENTIFIED, date(2026, 3, 3), world.a)
    world.session.flush()


def territory_file(session: Session, territory: str) -> bytes:
    settings = PublicationSettings(territory=territory, k=K, lost_days=90, version="test")
    found = publish(session, SCOPE, settings, KEYS[territory], today=NOW.date(), now=NOW)
    return canonical(found)


def two_files(world: World) -> tuple[bytes, bytes]:
    add_people(world, 14, declined=3, small_category="housing")
    first = territory_file(world.session, "75")
    add_people(world, 13, declined=12, small_category="health")
    second = territory_file(world.session, "93")
    return first, second


def read(raw: bytes, name: str = "file.json", k: int = K) -> national.TerritoryFile:
    return national.read_publication(raw, name, TRUSTED, k)


def values(table: dict[str, Any]) -> list[int | None]:
    found = table["values"]
    return [v for line in found for v in (line if isinstance(line, list) else [line])]


def test_a_publication_holds_the_national_tables_signed_and_audited(world: World) -> None:
    add_people(world, 14, declined=3, small_category="housing")
    raw = territory_file(world.session, "75")
    envelope = json.loads(raw)
    document = envelope["publication"]
    assert document["format"] == "relais-publication"
    assert document["format_version"] == 1
    assert document["territory"] == "75"
    assert document["period"] == {"start": "2026-01-01", "end": "2026-12-31"}
    assert document["generated_at"] == "2027-01-15T09:00:00+00:00"
    assert document["software_version"] == "test"
    assert document["threshold"] == K
    assert [t["name"] for t in document["tables"]] == [*NATIONAL_TABLES, *NATIONAL_LISTS]
    KEYS["75"].verify_key.verify(document, envelope["signature"]["value"])
    for table in document["tables"]:
        assert all(v is None or v == 0 or v >= K for v in values(table)), table["name"]
    # No structure is named: the tables keyed by structure are not in it.
    assert "IND-A" not in raw.decode()
    assert "P-TEST" not in raw.decode()
    event = world.session.scalars(
        select(AuditEvent).where(AuditEvent.action == AuditAction.STATISTICS_PUBLISH.value)
    ).one()
    assert event.subject_id == "75"
    assert event.data["sha256"] == national.digest(document)


def test_two_territories_gather_into_national_tables_without_a_small_count(world: World) -> None:
    first, second = two_files(world)
    files = [read(first, "75.json"), read(second, "93.json")]
    tables = {table.name: table for table in national.gather(files, K)}
    assert set(tables) == {*NATIONAL_TABLES, *NATIONAL_LISTS}
    document = national.national_document(
        list(tables.values()), files, territory="FR", k=K, now=NOW, version="test"
    )
    published = 0
    for table in document["tables"]:
        for value in values(table):
            assert value is None or value == 0 or value >= K, table["name"]
            published += value is not None and value > 0
    assert published > 10  # the test is not passing on empty tables
    # The second "territory" is the same database with more people: 3 then 15 declined
    # hand-offs in the first quarter (the first hides its small count and, with it, its 11
    # accepted ones: secondary suppression), 11 then 12 accepted.
    own = [f.tables["handoffs-by-quarter"] for f in files]
    quarters = tables["handoffs-by-quarter"]
    assert quarters.published is not None
    q1 = quarters.rows.index("2026-Q1")
    declined, accepted = quarters.columns.index("declined"), quarters.columns.index("accepted")
    assert [t["values"][q1][declined] for t in own] == [None, 15]
    assert [t["values"][q1][accepted] for t in own] == [None, 12]
    assert quarters.published.cells[q1][declined] is None  # hidden in one, hidden nationally
    assert quarters.published.cells[q1][accepted] is None
    assert quarters.published.row_totals[q1] == 14 + 27
    reasons = tables["decline-reasons"]
    assert reasons.published is not None
    assert reasons.published.total is None  # the declined total: hidden in the first territory


def test_a_value_published_by_every_territory_is_their_sum(world: World) -> None:
    first, second = two_files(world)
    files = [read(first), read(second, "93.json")]
    tables = {table.name: table for table in national.gather(files, K)}
    trends = tables["quarterly-trends"]
    assert trends.published is not None
    own = [f.tables["quarterly-trends"]["values"] for f in files]
    for i in range(len(trends.rows) + 1):
        for j in range(len(trends.columns) + 1):
            parts = [v[i][j] for v in own]
            if None not in parts:
                extended = _extended(trends.published)
                assert extended[i][j] == sum(parts)


def _extended(table: Any) -> list[list[int | None]]:
    rows = [[*cells, total] for cells, total in zip(table.cells, table.row_totals, strict=True)]
    return [*rows, [*table.column_totals, table.total]]


def _tamper(raw: bytes, change: Any) -> bytes:
    envelope = json.loads(raw)
    change(envelope)
    return json.dumps(envelope).encode()


def _resign(territory: str, change: Any) -> Any:
    def apply(envelope: dict[str, Any]) -> None:
        change(envelope["publication"])
        envelope["signature"]["value"] = KEYS[territory].sign(envelope["publication"])

    return apply


def _first_table(document: dict[str, Any]) -> None:
    document["tables"][0]["values"][0][0] = 12345


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: e["publication"]["tables"][0]["values"][0].__setitem__(0, 99), "changed"),
        (lambda e: e["publication"].__setitem__("territory", "13"), "no trusted key"),
        (lambda e: e["signature"].__setitem__("key_id", "0" * 16), "not a trusted key"),
        (lambda e: e.pop("signature"), "not signed"),
        (lambda e: e["publication"].__setitem__("format_version", 2), "version 2"),
        (lambda e: e.__setitem__("publication", []), "not a Relais publication"),
        (_resign("75", lambda d: d.__setitem__("threshold", 5)), "threshold of 5"),
        (_resign("75", lambda d: d["tables"].pop()), "tables missing"),
        (_resign("75", lambda d: d["tables"][0].__setitem__("name", "x")), "unexpected"),
        (_resign("75", lambda d: d["tables"][0]["values"].pop()), "one value per heading"),
        (_resign("75", _first_table), "do not add up"),
        (_resign("75", lambda d: d.__setitem__("tables", {})), "holds no tables"),
        (_resign("75", lambda d: d.__setitem__("parameters", [90])), "parameters are malformed"),
    ],
)
def test_a_bad_file_is_refused_with_its_reason(world: World, change: Any, message: str) -> None:
    add_people(world, 14, declined=3, small_category="housing")
    raw = _tamper(territory_file(world.session, "75"), change)
    with pytest.raises(national.PublicationRefused, match=message) as refused:
        read(raw, "75.json")
    assert str(refused.value).startswith("75.json: ")


def _table(name: str, axis: str, heading: str) -> Any:
    """A change of a publication: the first heading of ``axis`` of the table ``name``."""

    def change(document: dict[str, Any]) -> None:
        table = next(t for t in document["tables"] if t["name"] == name)
        table[axis][0] = heading

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["period"].__setitem__("start", "2026-13-01"), "is not two days"),
        (lambda d: d["period"].__setitem__("end", "x"), "'2026-01-01' to 'x' is not two days"),
        (lambda d: d["period"].__setitem__("start", "2027-01-01"), "the first before the last"),
        (lambda d: d["period"].__setitem__("start", "20260101"), "is not two days"),
        (_table("handoffs-by-quarter", "rows", "2026-Q9"), "'2026-Q9' is not a quarter of"),
        (_table("quarterly-trends", "rows", "2031-Q1"), "'2031-Q1' is not a quarter of"),
        (_table("decisions-by-quarter", "rows", "Q1"), "decisions-by-quarter: 'Q1' is not"),
        (_table("unmet-needs-quarters", "columns", "2025-Q4"), "'2025-Q4' is not a quarter"),
        (lambda d: d.__setitem__("generated_at", None), "generated_at is not a date and time"),
        (lambda d: d.__setitem__("generated_at", "soon"), "generated_at is not"),
        (lambda d: d.__setitem__("threshold", "x"), "threshold is not a whole number of 1"),
        (lambda d: d.__setitem__("threshold", True), "threshold is not a whole number"),
        (lambda d: d["parameters"].__setitem__("flows_read_on", None), "flows_read_on is not"),
        (lambda d: d["parameters"].__setitem__("lost_from_view_days", "90"), "lost_from_view"),
    ],
)
def test_a_signed_file_with_bad_content_is_refused(world: World, change: Any, message: str) -> None:
    """Signed by a trusted key is not enough: the period, the quarter headings, the time of
    generation, the threshold and the parameters are what Relais writes, or the file is
    refused with the field."""
    raw = _tamper(territory_file(world.session, "75"), _resign("75", change))
    with pytest.raises(national.PublicationRefused, match=re.escape(message)) as refused:
        read(raw, "75.json")
    assert str(refused.value).startswith("75.json: ")


def test_files_that_do_not_go_together_are_refused(world: World) -> None:
    first, second = two_files(world)
    with pytest.raises(national.PublicationRefused, match="is in 75.json already"):
        national.gather([read(first, "75.json"), read(first, "again.json")], K)
    other = _tamper(second, _resign("93", lambda d: d["period"].__setitem__("end", "2026-12-30")))
    with pytest.raises(national.PublicationRefused, match="same period"):
        national.gather([read(first, "75.json"), read(other, "93.json")], K)
    other = _tamper(second, _resign("93", lambda d: d["parameters"].__setitem__("x", 1)))
    with pytest.raises(national.PublicationRefused, match="other parameters"):
        national.gather([read(first, "75.json"), read(other, "93.json")], K)
    with pytest.raises(national.PublicationRefused, match="not a JSON"):
        read(b"\xff", "x.json")
    with pytest.raises(national.PublicationRefused, match="threshold"):
        read(first, "75.json", k=20)


def test_territories_with_nothing_to_count_gather_into_zeros(world: World) -> None:
    files = [read(territory_file(world.session, t), f"{t}.json") for t in ("75", "93")]
    tables = national.gather(files, K)
    for table in national.national_document(
        tables, files, territory="FR", k=K, now=NOW, version="test"
    )["tables"]:
        assert set(values(table)) <= {0}, table["name"]
