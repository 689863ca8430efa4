"""The synthetic caseload: shaped for the indicators, consistent with the rules, encrypted,
deterministic by seed."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.demo.data.network import ACTING_ON
from app.demo.loading import load_demo
from app.demo.synthetic.caseload import (
    MAX_PEOPLE,
    SyntheticCaseload,
    generate,
    people_count,
    prepare_caseload,
)
from app.demo.synthetic.draws import pseudonym_for
from app.demo.synthetic.writing import GenerationCounts
from app.domain.audit import AuditAction
from app.domain.handoffs import (
    FINAL_STATUSES,
    HandoffEvent,
    HandoffStatus,
    Party,
    next_status,
    outcome_fits,
)
from app.domain.pathway import STAGE_ORDER, BarrierStatus
from app.domain.people import Sex
from app.domain.unmet_needs import UNMET_DECLINE_REASONS, UnmetNeedSource
from app.extensions import db
from app.models import (
    AuditEvent,
    Barrier,
    Beneficiary,
    Consent,
    FollowUp,
    Handoff,
    HandoffTransition,
    PathwayStep,
    ReferenceItem,
    ReferenceKind,
    Structure,
    UnmetNeed,
    User,
    beneficiary_cohorts,
)
from app.services.errors import InvalidInput, NotFound
from app.services.pathways import stale_people
from app.services.people.identity import clean_identity, open_identity
from app.services.security.vault import Vault
from tests.sql_count import count_queries

TODAY = date(2026, 11, 25)
MIDNIGHT = datetime(TODAY.year, TODAY.month, TODAY.day, tzinfo=UTC)
SEED = 7
BATCHES = (400, 400, 200)
FUNNEL = ("orientation", "barriers", "training", "employment")


@dataclass
class Generated:
    session: Session
    vault: Vault
    counts: GenerationCounts
    ids: set[uuid.UUID]  # the generated people (not the demo's)
    first_index: int


@pytest.fixture(scope="class")
def generated(app: Flask) -> Iterator[Generated]:
    """The demo network and 1,000 generated people, in a transaction rolled back afterwards.

    Generating takes a couple of seconds, so the tests that read the result share it; the
    ones that write do it in a savepoint they roll back.
    """
    vault: Vault = app.extensions["relais_vault"]
    connection = db.engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        load_demo(session, vault, today=TODAY)
        demo = set(session.scalars(select(Beneficiary.id)))
        caseload = prepare_caseload(session, seed=SEED, today=TODAY)
        first = caseload.next_index
        counts = GenerationCounts()
        for size in BATCHES:
            counts.add(caseload.write_batch(session, vault, size))
        ids = set(session.scalars(select(Beneficiary.id))) - demo
        yield Generated(session, vault, counts, ids, first)
    finally:
        session.close()
        outer.rollback()
        connection.close()


def _rows(session: Session, model: Any, ids: set[uuid.UUID]) -> list[Any]:
    column = model.beneficiary_id
    return [r for r in session.scalars(select(model)) if getattr(r, column.key) in ids]


def _codes(session: Session, kind: ReferenceKind) -> dict[int, str]:
    items = session.execute(
        select(ReferenceItem.id, ReferenceItem.code).where(ReferenceItem.kind == kind)
    )
    return {int(item_id): str(code) for item_id, code in items}


def _structures(session: Session) -> dict[int, str]:
    return {
        int(sid): str(code) for sid, code in session.execute(select(Structure.id, Structure.code))
    }


def _handoffs(g: Generated) -> tuple[dict[uuid.UUID, Handoff], dict[uuid.UUID, list[Any]]]:
    handoffs = {h.id: h for h in _rows(g.session, Handoff, g.ids)}
    events: dict[uuid.UUID, list[Any]] = defaultdict(list)
    query = select(HandoffTransition).order_by(HandoffTransition.at)
    for t in g.session.scalars(query):
        if t.handoff_id in handoffs:
            events[t.handoff_id].append(t)
    return handoffs, events


def _chain_length(handoffs: dict[uuid.UUID, Handoff], handoff: Handoff) -> int:
    length = 1
    while handoff.parent_id is not None:
        handoff = handoffs[handoff.parent_id]
        length += 1
    return length


class TestGeneratedCaseload:
    def test_every_pathway_state_is_kept(self, generated: Generated) -> None:
        """The bulk writes refresh the batch's people: the kept state is the events' state."""
        session = generated.session
        assert stale_people(session) == []
        stepped = set(session.scalars(select(PathwayStep.beneficiary_id)))
        people = [p for p in session.scalars(select(Beneficiary)) if p.id in generated.ids]
        assert {p.id for p in people if p.current_stage_id is not None} == stepped & generated.ids
        assert all(p.last_event_day is not None for p in people if p.id in stepped)

    def test_counts_match_the_tables(self, generated: Generated) -> None:
        g = generated
        session = g.session
        assert len(g.ids) == g.counts.people == sum(BATCHES)
        assert g.first_index == 60  # numbered after the demo people
        expected = {
            "beneficiaries": len(g.ids),
            "person_keys": len(g.ids),
            "consents": len(_rows(session, Consent, g.ids)),
            "follow_ups": len(_rows(session, FollowUp, g.ids)),
            "barriers": len(_rows(session, Barrier, g.ids)),
            "pathway_steps": len(_rows(session, PathwayStep, g.ids)),
            "handoffs": len(_rows(session, Handoff, g.ids)),
        }
        for table, count in expected.items():
            assert g.counts.rows[table] == count, table
        links = session.execute(select(beneficiary_cohorts.c.beneficiary_id)).scalars().all()
        per_person = Counter(pid for pid in links if pid in g.ids)
        assert set(per_person) == g.ids
        assert set(per_person.values()) == {1, 2}
        assert g.counts.rows["beneficiary_cohorts"] == sum(per_person.values())
        # Unmet needs: one per declined (capacity, eligibility) or expired hand-off, and a
        # "no solution found" per barrier that persists or was not addressed.
        needs = _rows(session, UnmetNeed, g.ids)
        assert g.counts.rows["unmet_needs"] == len(needs)
        handoffs = _rows(session, Handoff, g.ids)
        reasons = _codes(session, ReferenceKind.DECLINE_REASON)
        unmet = [
            h
            for h in handoffs
            if h.status is HandoffStatus.EXPIRED
            or (
                h.status is HandoffStatus.DECLINED
                and reasons[h.decline_reason_id or 0] in UNMET_DECLINE_REASONS
            )
        ]
        unsolved = [
            b
            for b in _rows(session, Barrier, g.ids)
            if b.status in {BarrierStatus.PERSISTING, BarrierStatus.NOT_ADDRESSED}
        ]
        assert len(needs) == len(unmet) + len(unsolved)
        assert {n.handoff_id for n in needs if n.handoff_id} == {h.id for h in unmet}
        assert {n.source for n in needs} >= {UnmetNeedSource.EXPIRED, UnmetNeedSource.NO_SOLUTION}
        handoffs, events = _handoffs(g)
        assert g.counts.rows["handoff_transitions"] == sum(len(e) for e in events.values())
        statuses = Counter(h.status.value for h in handoffs.values())
        assert g.counts.handoffs_by_status == statuses
        # Every person is registered, followed and oriented.
        assert {f.beneficiary_id for f in _rows(session, FollowUp, g.ids)} == g.ids

    def test_each_stage_is_reached_by_fewer_people(self, generated: Generated) -> None:
        g = generated
        stages = _codes(g.session, ReferenceKind.STAGE)
        first_day: dict[str, dict[uuid.UUID, date]] = defaultdict(dict)
        for step in _rows(g.session, PathwayStep, g.ids):
            code = stages[step.stage_id]
            day = first_day[code].get(step.beneficiary_id)
            if day is None or step.started_on < day:
                first_day[code][step.beneficiary_id] = step.started_on
        reached = [len(first_day[code]) for code in FUNNEL]
        assert reached[0] == len(g.ids)
        assert all(a > b > 0 for a, b in zip(reached, reached[1:], strict=False)), reached
        # Reaching a stage means having reached the one before, earlier or the same day.
        for before, after in zip(FUNNEL, FUNNEL[1:], strict=False):
            for person, day in first_day[after].items():
                assert first_day[before][person] <= day
        assert first_day["exit_other"]  # some people leave
        assert set(stages.values()) >= set(STAGE_ORDER)

    def test_every_handoff_state_reason_and_outcome_appears(self, generated: Generated) -> None:
        g = generated
        handoffs, _events = _handoffs(g)
        assert {h.status for h in handoffs.values()} == set(HandoffStatus)
        reasons = _codes(g.session, ReferenceKind.DECLINE_REASON)
        declined = {reasons[h.decline_reason_id] for h in handoffs.values() if h.decline_reason_id}
        assert declined == set(reasons.values())
        outcomes = _codes(g.session, ReferenceKind.OUTCOME)
        closed = {(h.status, outcomes[h.outcome_id]) for h in handoffs.values() if h.outcome_id}
        expected = {
            (status, code)
            for code in outcomes.values()
            for status, event in (
                (HandoffStatus.COMPLETED, HandoffEvent.COMPLETE),
                (HandoffStatus.NOT_COMPLETED, HandoffEvent.NOT_COMPLETE),
            )
            if outcome_fits(event, code)
        }
        assert closed == expected
        lengths = Counter(_chain_length(handoffs, h) for h in handoffs.values())
        assert {1, 2, 3, 4} == set(lengths)

    def test_pending_handoffs_are_recent_or_overdue_never_expired(
        self, generated: Generated
    ) -> None:
        g = generated
        handoffs, _events = _handoffs(g)
        ages = [(MIDNIGHT - h.sent_at).days for h in handoffs.values() if h.status.is_pending]
        assert any(age < 10 for age in ages)
        assert any(10 <= age < 30 for age in ages)
        assert all(age <= 30 for age in ages)
        for h in handoffs.values():
            if h.status is HandoffStatus.EXPIRED:
                assert h.closed_at is not None
                assert h.closed_at - h.sent_at >= timedelta(days=30)

    def test_transitions_follow_the_domain_table_in_order(self, generated: Generated) -> None:
        g = generated
        handoffs, events = _handoffs(g)
        caseworker_of = {
            u.id: u.structure_id for u in g.session.scalars(select(User)) if u.structure_id
        }
        for h in handoffs.values():
            trail = events[h.id]
            assert trail[0].event is HandoffEvent.SEND
            assert (trail[0].from_status, trail[0].to_status) == (None, HandoffStatus.SENT)
            assert trail[0].at == h.sent_at
            assert trail[0].actor_structure_id == h.from_structure_id
            for before, after in zip(trail, trail[1:], strict=False):
                assert before.at < after.at
                assert after.from_status is before.to_status
                party = {
                    None: Party.SYSTEM,
                    h.from_structure_id: Party.SENDER,
                    h.to_structure_id: Party.RECEIVER,
                }[after.actor_structure_id]
                assert next_status(after.from_status, after.event, party) is after.to_status
            for t in trail:
                if t.actor_structure_id is None:
                    assert t.actor_id is None
                    assert t.event is HandoffEvent.EXPIRE
                else:
                    assert caseworker_of[t.actor_id] == t.actor_structure_id
            assert trail[-1].to_status is h.status
            assert h.version == len(trail)
            self._stamps_match(h, trail)

    @staticmethod
    def _stamps_match(h: Handoff, trail: Sequence[Any]) -> None:
        at = {t.event: t.at for t in trail}
        answer = at.get(HandoffEvent.ACCEPT) or at.get(HandoffEvent.DECLINE)
        assert h.answered_at == (answer or at.get(HandoffEvent.REDIRECT))
        assert h.first_contact_at == at.get(HandoffEvent.FIRST_CONTACT)
        assert h.closed_at == (trail[-1].at if h.status in FINAL_STATUSES else None)
        moments = [h.sent_at, h.answered_at, h.first_contact_at, h.closed_at]
        present = [m for m in moments if m is not None]
        assert present == sorted(present)
        assert all(m < MIDNIGHT for m in present)

    def test_check_constraints_and_purposes_hold(self, generated: Generated) -> None:
        g = generated
        handoffs, events = _handoffs(g)
        barriers = {b.id: b for b in _rows(g.session, Barrier, g.ids)}
        stages = _codes(g.session, ReferenceKind.STAGE)
        for h in handoffs.values():
            assert h.from_structure_id != h.to_structure_id
            # Exactly one purpose, as the send service requires.
            assert (h.purpose_stage_id is None) != (h.purpose_barrier_id is None)
            if h.purpose_barrier_id is not None:
                assert barriers[h.purpose_barrier_id].beneficiary_id == h.beneficiary_id
            else:
                assert stages[h.purpose_stage_id] in {"training", "employment"}
            assert (h.status is HandoffStatus.DECLINED) == (h.decline_reason_id is not None)
            closed = h.status in {HandoffStatus.COMPLETED, HandoffStatus.NOT_COMPLETED}
            assert closed == (h.outcome_id is not None)
            if h.status in {HandoffStatus.IN_PROGRESS, HandoffStatus.COMPLETED}:
                assert h.first_contact_at is not None
            assert h.consent_confirmed
            if h.parent_id is not None:
                parent = handoffs[h.parent_id]
                assert parent.status is HandoffStatus.REDIRECTED
                assert h.from_structure_id == parent.to_structure_id
                assert h.sent_at == parent.closed_at
                assert (h.purpose_stage_id, h.purpose_barrier_id) == (
                    parent.purpose_stage_id,
                    parent.purpose_barrier_id,
                )
            for t in events[h.id]:
                needs_reason = t.event in {
                    HandoffEvent.DECLINE,
                    HandoffEvent.COMPLETE,
                    HandoffEvent.NOT_COMPLETE,
                }
                assert needs_reason == (t.reason_id is not None)
                if t.event in {HandoffEvent.WITHDRAW, HandoffEvent.DECLINE}:
                    assert t.message is not None

    def test_barriers_are_acted_on_by_the_matching_partner(self, generated: Generated) -> None:
        g = generated
        categories = _codes(g.session, ReferenceKind.BARRIER_CATEGORY)
        codes = _structures(g.session)
        barriers = _rows(g.session, Barrier, g.ids)
        assert {b.status for b in barriers} == set(BarrierStatus)
        assert {categories[b.category_id] for b in barriers} == set(ACTING_ON)
        acting: dict[str, Counter[str]] = defaultdict(Counter)
        for b in barriers:
            assert (b.closed_on is not None) == b.status.is_closed
            assert b.closed_on is None or b.identified_on <= b.closed_on < TODAY
            assert b.acting_structure_id is not None
            acting[categories[b.category_id]][codes[b.acting_structure_id]] += 1
        for category, partner in ACTING_ON.items():
            assert acting[category].most_common(1)[0][0] == partner, (category, acting[category])
        handoffs, _events = _handoffs(g)
        outcomes = _codes(g.session, ReferenceKind.OUTCOME)
        by_id = {b.id: b for b in barriers}
        for h in handoffs.values():
            if h.purpose_barrier_id is None or h.status is not HandoffStatus.COMPLETED:
                continue
            barrier = by_id[h.purpose_barrier_id]
            assert barrier.acting_structure_id == h.to_structure_id
            if outcomes[h.outcome_id] == "barrier_lifted":
                assert barrier.status is BarrierStatus.LIFTED

    def test_follow_ups_open_and_close_consistently(self, generated: Generated) -> None:
        g = generated
        follow_ups = _rows(g.session, FollowUp, g.ids)
        reasons = _codes(g.session, ReferenceKind.END_REASON)
        assert {reasons[f.end_reason_id] for f in follow_ups if f.end_reason_id} == set(
            reasons.values()
        )
        by_pair: dict[tuple[uuid.UUID, int], list[FollowUp]] = defaultdict(list)
        for f in follow_ups:
            assert (f.ended_on is None) == (f.end_reason_id is None)
            assert f.ended_on is None or f.started_on <= f.ended_on < TODAY
            assert f.referent_id is not None
            by_pair[(f.beneficiary_id, f.structure_id)].append(f)
        assert all(len(found) == 1 for found in by_pair.values())
        handoffs, _events = _handoffs(g)
        for h in handoffs.values():
            if h.answered_at is not None and h.status not in {
                HandoffStatus.DECLINED,
                HandoffStatus.REDIRECTED,
            }:
                (f,) = by_pair[(h.beneficiary_id, h.to_structure_id)]
                assert f.started_on <= h.answered_at.date()
            if h.parent_id is None:  # sent by a structure following the person then
                (f,) = by_pair[(h.beneficiary_id, h.from_structure_id)]
                assert f.started_on <= h.sent_at.date()
                assert f.ended_on is None or h.sent_at.date() <= f.ended_on

    def test_people_spread_over_36_months_growing(self, generated: Generated) -> None:
        g = generated
        people = [p for p in g.session.scalars(select(Beneficiary)) if p.id in g.ids]
        months = Counter(p.created_month for p in people)
        assert min(months) == date(TODAY.year - 3, TODAY.month + 1, 1)  # 36 months
        assert max(months) == TODAY.replace(day=1)
        assert len(months) == 36
        first_year = sum(n for m, n in months.items() if m < date(TODAY.year - 2, TODAY.month, 1))
        last_year = sum(n for m, n in months.items() if m >= date(TODAY.year - 1, TODAY.month, 1))
        assert last_year > 1.5 * first_year > 0
        years = [p.birth_year for p in people]
        assert all(y is not None and 1960 <= y <= 2010 for y in years)
        young = sum(16 <= p.created_month.year - (p.birth_year or 0) <= 31 for p in people)
        assert young > 0.5 * len(people)
        assert any(p.qpv_id is None for p in people)
        assert len({p.qpv_id for p in people if p.qpv_id}) >= 5
        assert {p.sex for p in people} == {None, *Sex}
        assert len({p.education_level for p in people}) >= 5
        assert len({p.pseudonym for p in people}) == len(people)

    def test_cooperation_network_grows_quarter_by_quarter(self, generated: Generated) -> None:
        g = generated
        handoffs, _events = _handoffs(g)
        pairs: dict[tuple[int, int], set[tuple[int, int]]] = defaultdict(set)
        for h in handoffs.values():
            quarter = (h.sent_at.year, (h.sent_at.month - 1) // 3)
            pairs[quarter].add((h.from_structure_id, h.to_structure_id))
        quarters = sorted(pairs)
        assert len(quarters) >= 10
        early = len(set().union(*(pairs[q] for q in quarters[1:4])))
        late = len(set().union(*(pairs[q] for q in quarters[-4:-1])))
        assert late > early

    def test_consent_before_any_handoff(self, generated: Generated) -> None:
        g = generated
        consents = {c.beneficiary_id: c for c in _rows(g.session, Consent, g.ids)}
        assert 0.85 * len(g.ids) < len(consents) < len(g.ids)
        handoffs, _events = _handoffs(g)
        for h in handoffs.values():
            assert h.beneficiary_id in consents
            assert consents[h.beneficiary_id].given_on <= h.sent_at.date()

    def test_audit_events_as_an_import_writes_them(self, generated: Generated) -> None:
        g = generated
        people = {p.id: p for p in g.session.scalars(select(Beneficiary)) if p.id in g.ids}
        users = {u.id: u for u in g.session.scalars(select(User))}
        events = [e for e in g.session.scalars(select(AuditEvent)) if e.beneficiary_id in g.ids]
        creates = [e for e in events if e.action == AuditAction.BENEFICIARY_CREATE.value]
        assert sorted(e.beneficiary_id for e in creates) == sorted(people)
        for e in creates:
            person = people[e.beneficiary_id]  # type: ignore[index]
            assert (e.subject_type, e.subject_id) == ("beneficiaries", str(person.id))
            assert e.actor_structure_id == person.created_by_structure_id
            assert users[e.actor_id].structure_id == person.created_by_structure_id
            assert e.purpose == "import"
            assert "import_id" in e.data
        consents = [e for e in events if e.action == AuditAction.CONSENT_RECORD.value]
        assert len(consents) == len(_rows(g.session, Consent, g.ids))
        assert g.counts.rows["audit_events"] == len(events)

    def test_identities_decrypt_to_valid_fictional_values(self, generated: Generated) -> None:
        g = generated
        session, vault = g.session, g.vault
        people = [p for p in session.scalars(select(Beneficiary)) if p.id in g.ids][:60]
        for person in people:
            identity = open_identity(vault, session, person)
            assert clean_identity(identity, TODAY) == identity  # valid, already normalised
            assert identity.birth_date is not None
            assert person.birth_year == identity.birth_date.year
            if identity.email:
                assert identity.email.endswith("@exemple.fr")
            indexed = Beneficiary(id=person.id)
            vault.index_person(
                indexed,
                identity.last_name,
                identity.first_name,
                identity.birth_date,
                identity.email,
                identity.phone,
            )
            columns = (
                "name_birth_index",
                "email_index",
                "phone_index",
                "lookup_version",
                "name_birth_lookup",
                "email_lookup",
                "phone_lookup",
            )
            assert [getattr(indexed, c) for c in columns] == [getattr(person, c) for c in columns]
            assert person.lookup_version == vault.indexer.version
        # The free texts (step actions, notes, messages) decrypt under the person's key.
        handoffs, events = _handoffs(g)
        person = people[0]
        sealed = [
            ("pathway_steps", "action", s.id, s.action)
            for s in _rows(session, PathwayStep, {person.id})
        ]
        mine = [h for h in handoffs.values() if h.beneficiary_id == person.id]
        sealed += [("handoffs", "note", h.id, h.note) for h in mine]
        sealed += [
            ("handoff_transitions", "message", t.id, t.message) for h in mine for t in events[h.id]
        ]
        texts = vault.open_many(session, person.id, sealed)
        assert len(texts) == sum(1 for item in sealed if item[3] is not None) > 0

    # -- runs that write, each in a savepoint rolled back --

    def test_the_same_seed_gives_the_same_people_whatever_the_batches(
        self, generated: Generated
    ) -> None:
        first = self._run(generated, seed=3, batches=(150,))
        again = self._run(generated, seed=3, batches=(100, 30, 20))
        other = self._run(generated, seed=4, batches=(150,))
        assert first == again
        assert first["people"] != other["people"]

    def test_each_run_adds_new_people(self, generated: Generated) -> None:
        session = generated.session
        before = session.scalar(select(func.count()).select_from(Beneficiary))
        with session.begin_nested() as nested:
            one = prepare_caseload(session, seed=SEED, today=TODAY)
            one.write_batch(session, generated.vault, 20)
            two = prepare_caseload(session, seed=SEED, today=TODAY)
            assert two.next_index == one.next_index
            two.write_batch(session, generated.vault, 20)
            after = session.scalar(select(func.count()).select_from(Beneficiary))
            pseudonyms = session.scalars(select(Beneficiary.pseudonym)).all()
            nested.rollback()
        assert after == (before or 0) + 40
        assert len(set(pseudonyms)) == len(pseudonyms)

    def test_a_taken_pseudonym_is_drawn_again(self, generated: Generated) -> None:
        session = generated.session
        with session.begin_nested() as nested:
            caseload = prepare_caseload(session, seed=SEED, today=TODAY)
            index = caseload.next_index
            expected = pseudonym_for(SEED, index)
            someone = next(iter(generated.ids))
            session.execute(
                update(Beneficiary).where(Beneficiary.id == someone).values(pseudonym=expected)
            )
            caseload.write_batch(session, generated.vault, 1)
            drawn = session.scalars(select(Beneficiary.pseudonym)).all()
            nested.rollback()
        assert drawn.count(expected) == 1
        assert pseudonym_for(SEED, index, 1) in drawn

    def test_generate_writes_in_batches_in_the_callers_transaction(
        self, generated: Generated
    ) -> None:
        session = generated.session
        before = people_count(session)
        done: list[int] = []
        with session.begin_nested() as nested:
            counts = generate(
                session,
                generated.vault,
                people=25,
                today=TODAY,
                seed=SEED,
                batch_size=10,
                progress=done.append,
            )
            after = people_count(session)
            nested.rollback()
        assert done == [10, 10, 5]
        assert counts.people == 25
        assert after == before + 25
        assert people_count(session) == before

    @pytest.mark.postgres_only
    def test_postgresql_statistics_are_refreshed_as_the_tables_grow(
        self, generated: Generated
    ) -> None:
        # Autovacuum may be off or late: without fresh statistics the pathway state's UPDATE
        # of each batch scanned every event table once per person (quadratic at 100,000).
        session = generated.session
        before = people_count(session)
        with session.begin_nested() as nested, count_queries() as queries:
            generate(
                session, generated.vault, people=before * 2, today=TODAY, seed=SEED,
                batch_size=max(before // 4, 1),
            )  # fmt: skip
            nested.rollback()
        analyzed = [s for s in queries.statements if s.lstrip().upper().startswith("ANALYZE")]
        # At the run's start, then each time the people have grown by half: 1, 1.5, 2.25 ×.
        assert len(analyzed) == 3
        assert "pathway_steps" in analyzed[0]
        assert "handoff_transitions" in analyzed[0]

    @pytest.mark.parametrize(
        ("people", "batch_size", "field"),
        [(0, 10, "people"), (MAX_PEOPLE + 1, 10, "people"), (10, 0, "batch_size")],
    )
    def test_generate_refuses_bad_sizes(
        self, generated: Generated, people: int, batch_size: int, field: str
    ) -> None:
        with pytest.raises(InvalidInput) as caught:
            generate(
                generated.session,
                generated.vault,
                people=people,
                today=TODAY,
                seed=SEED,
                batch_size=batch_size,
            )
        assert caught.value.field == field

    @staticmethod
    def _run(g: Generated, *, seed: int, batches: Sequence[int]) -> dict[str, Any]:
        session = g.session
        with session.begin_nested() as nested:
            known = set(session.scalars(select(Beneficiary.id)))
            caseload: SyntheticCaseload = prepare_caseload(session, seed=seed, today=TODAY)
            for size in batches:
                caseload.write_batch(session, g.vault, size)
            ids = set(session.scalars(select(Beneficiary.id))) - known
            found = _fingerprint(session, g.vault, ids)
            nested.rollback()
        return found


def _fingerprint(session: Session, vault: Vault, ids: set[uuid.UUID]) -> dict[str, Any]:
    """Everything generated but the ciphertexts (random nonces) and creation times."""
    people = sorted(
        (p for p in session.scalars(select(Beneficiary)) if p.id in ids), key=lambda p: p.id
    )
    identities = [open_identity(vault, session, p) for p in people]

    def plain(model: Any, *columns: str) -> list[tuple[Any, ...]]:
        rows = _rows(session, model, ids)
        return sorted(tuple(getattr(r, c) for c in columns) for r in rows)

    handoffs = {h.id for h in _rows(session, Handoff, ids)}
    transitions = sorted(
        (t.id, t.handoff_id, t.event, t.from_status, t.to_status, t.actor_id, t.reason_id, t.at)
        for t in session.scalars(select(HandoffTransition))
        if t.handoff_id in handoffs
    )
    return {
        "people": [
            (p.id, p.pseudonym, p.birth_year, p.sex, p.qpv_id, p.education_level, p.created_month)
            for p in people
        ],
        "identities": [
            (i.last_name, i.first_name, i.birth_date, i.phone, i.email, i.address)
            for i in identities
        ],
        "follow_ups": plain(
            FollowUp, "id", "structure_id", "started_on", "ended_on", "end_reason_id"
        ),
        "steps": plain(PathwayStep, "id", "structure_id", "stage_id", "started_on", "ended_on"),
        "barriers": plain(
            Barrier, "id", "category_id", "status", "acting_structure_id", "closed_on"
        ),
        "handoffs": plain(
            Handoff,
            "id",
            "from_structure_id",
            "to_structure_id",
            "status",
            "parent_id",
            "sent_at",
            "answered_at",
            "first_contact_at",
            "closed_at",
            "outcome_id",
        ),  # fmt: skip
        "transitions": transitions,
        "consents": plain(Consent, "beneficiary_id", "method", "given_on"),
    }


def test_without_the_demo_network_nothing_is_generated(db_session: Session) -> None:
    with pytest.raises(NotFound, match="demo network"):
        prepare_caseload(db_session, seed=1, today=TODAY)
