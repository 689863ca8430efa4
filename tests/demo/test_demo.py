"""The demo network: idempotent, complete (every state shown), fictional and encrypted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import phonenumbers
import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.demo.builder import birth_date
from app.demo.data.network import ACTING_ON, DEMO_PASSWORD, PEOPLE, QPVS, STRUCTURES
from app.demo.loading import DemoReport, load_demo
from app.demo.stories import STORIES
from app.domain.handoffs import HandoffEvent, HandoffStatus
from app.domain.pathway import STAGE_ORDER, BarrierStatus
from app.domain.roles import Role
from app.domain.unmet_needs import UnmetNeedSource
from app.extensions import db
from app.models import (
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
from app.services.errors import Conflict, InvalidInput
from app.services.pathways import stale_people
from app.services.people.identity import normalise_phone, open_identity
from app.services.security.passwords import check_password_policy, verify_password
from app.services.security.vault import Vault
from app.services.structures import create_structure

TODAY = date.today()  # noqa: DTZ011 - the demo is dated relative to the local day, like the CLI
COHORT_AGES = {
    "young_dropout": (16, 25),
    "young_graduate": (20, 29),
    "single_parent": (22, 50),
    "other": (18, 100),
}


@pytest.fixture(scope="class")
def demo(app: Flask) -> Iterator[tuple[Session, Vault, DemoReport]]:
    """The demo loaded once for a class of tests, in a transaction rolled back afterwards.

    Loading takes seconds (two dozen Argon2 hashes, hundreds of service calls), so the tests
    that only read it share one load; they must not write.
    """
    vault: Vault = app.extensions["relais_vault"]
    connection = db.engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        report = load_demo(session, vault, today=TODAY)
        yield session, vault, report
    finally:
        session.close()
        outer.rollback()
        connection.close()


def _count(session: Session, model: type[object]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0  # type: ignore[arg-type]


class TestDemoNetwork:
    def test_a_second_load_changes_nothing(self, demo: tuple[Session, Vault, DemoReport]) -> None:
        session, vault, first = demo
        assert not first.already_loaded
        models = (Beneficiary, Handoff, HandoffTransition, PathwayStep, Barrier, User, Structure)
        before = {m: _count(session, m) for m in models}

        again = load_demo(session, vault, today=TODAY)

        assert again.already_loaded
        assert (again.people, again.handoffs, again.structures) == (0, 0, 0)
        assert {m: _count(session, m) for m in models} == before
        assert again.logins == first.logins
        assert before[Beneficiary] == first.people
        assert before[Handoff] == first.handoffs

    def test_every_pathway_state_is_kept(self, demo: tuple[Session, Vault, DemoReport]) -> None:
        session, _vault, _report = demo
        assert stale_people(session) == []
        people = list(session.scalars(select(Beneficiary)))
        assert any(p.last_event_day is not None for p in people)
        assert any(p.current_stage_id is not None for p in people)

    def test_each_structure_with_staff_has_a_manager(
        self, demo: tuple[Session, Vault, DemoReport]
    ) -> None:
        session, _vault, report = demo
        staffed = set(
            session.scalars(select(User.structure_id).where(User.structure_id.is_not(None)))
        )
        managed = set(
            session.scalars(
                select(User.structure_id).where(
                    User.manages_structure.is_(True), User.active.is_(True)
                )
            )
        )
        assert staffed
        assert staffed == managed
        assert all(login.manager for login in report.logins if login.structure)

    def test_about_sixty_people_some_without_consent(
        self, demo: tuple[Session, Vault, DemoReport]
    ) -> None:
        session, _vault, report = demo
        assert 55 <= report.people == len(PEOPLE) == _count(session, Beneficiary) <= 65
        with_consent = session.scalar(select(func.count(func.distinct(Consent.beneficiary_id))))
        assert report.people_without_consent == report.people - (with_consent or 0)
        assert 3 <= report.people_without_consent <= 10
        # Nobody without consent was handed off.
        no_consent = select(Beneficiary.id).where(
            Beneficiary.id.not_in(select(Consent.beneficiary_id))
        )
        assert not session.scalars(
            select(Handoff.id).where(Handoff.beneficiary_id.in_(no_consent))
        ).all()

    def test_every_handoff_status_appears(self, demo: tuple[Session, Vault, DemoReport]) -> None:
        session, _vault, report = demo
        found = set(session.scalars(select(Handoff.status).distinct()))
        assert found == set(HandoffStatus)
        assert set(report.handoffs_by_status) == {s.value for s in HandoffStatus}

    def test_unmet_needs_of_every_kind_appear(
        self, demo: tuple[Session, Vault, DemoReport]
    ) -> None:
        """Declined for lack of places, expired, no solution found (``/steering/unmet-needs``)."""
        session, _vault, _report = demo
        found = set(session.scalars(select(UnmetNeed.source).distinct()))
        wanted = {UnmetNeedSource.NO_CAPACITY, UnmetNeedSource.EXPIRED, UnmetNeedSource.NO_SOLUTION}
        assert wanted <= found

    def test_orientation_decisions_of_each_type_and_changes(
        self, demo: tuple[Session, Vault, DemoReport]
    ) -> None:
        """Recorded through ``decide_pathway`` (audited, with their criteria)."""
        from app.domain.audit import AuditAction
        from app.domain.orientation import PATHWAY_TYPES
        from app.models import AuditEvent, OrientationCriterion, OrientationDecision

        session, _vault, report = demo
        decisions = list(session.scalars(select(OrientationDecision)))
        assert report.decisions == len(decisions) > len(PEOPLE) // 2
        assert {d.pathway_type.code for d in decisions} == set(PATHWAY_TYPES)
        by_person: dict[object, list[OrientationDecision]] = {}
        for decision in decisions:
            by_person.setdefault(decision.beneficiary_id, []).append(decision)
        changed = [ds for ds in by_person.values() if len(ds) > 1]
        assert changed
        for history in changed:
            history.sort(key=lambda d: d.decided_on)
            assert history[0].pathway_type_id != history[1].pathway_type_id
        assert all(d.decided_on < TODAY for d in decisions)
        assert _count(session, OrientationCriterion) > 0
        audited = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == AuditAction.ORIENTATION_DECIDE)
        )
        assert audited == len(decisions)

    def test_every_barrier_status_appears(self, demo: tuple[Session, Vault, DemoReport]) -> None:
        session, _vault, _report = demo
        assert set(session.scalars(select(Barrier.status).distinct())) == set(BarrierStatus)

    def test_every_stage_appears(self, demo: tuple[Session, Vault, DemoReport]) -> None:
        session, _vault, _report = demo
        stages = session.scalars(
            select(ReferenceItem.code).join(PathwayStep, PathwayStep.stage_id == ReferenceItem.id)
        )
        assert set(stages) == set(STAGE_ORDER)

    def test_named_cohorts_appear(self, demo: tuple[Session, Vault, DemoReport]) -> None:
        session, _vault, _report = demo
        cohorts = set(
            session.scalars(
                select(ReferenceItem.code).join(
                    beneficiary_cohorts, beneficiary_cohorts.c.cohort_id == ReferenceItem.id
                )
            )
        )
        assert {"young_dropout", "young_graduate", "single_parent", "other"} <= cohorts

    def test_people_live_in_the_fictional_qpvs(
        self, demo: tuple[Session, Vault, DemoReport]
    ) -> None:
        session, _vault, _report = demo
        codes = set(
            session.scalars(
                select(ReferenceItem.code).join(Beneficiary, Beneficiary.qpv_id == ReferenceItem.id)
            )
        )
        assert codes == {q.code for q in QPVS}
        labels = session.scalars(
            select(ReferenceItem.label_fr).where(ReferenceItem.kind == ReferenceKind.QPV)
        )
        assert all("(fictif)" in label for label in labels)

    def test_each_structure_has_exactly_one_caseworker(
        self, demo: tuple[Session, Vault, DemoReport]
    ) -> None:
        session, _vault, report = demo
        rows = session.execute(
            select(Structure.code, func.count(User.id))
            .outerjoin(User, (User.structure_id == Structure.id) & (User.role == Role.CASEWORKER))
            .group_by(Structure.code)
        ).all()
        assert dict(rows) == {s.code: 1 for s in STRUCTURES}
        roles = [login.role for login in report.logins]
        assert roles.count(Role.ADMIN) == roles.count(Role.COORDINATOR) == 1
        assert roles.count(Role.CASEWORKER) == len(STRUCTURES)

    def test_the_published_demo_password_is_refused_outside_the_demo(
        self, demo: tuple[Session, Vault, DemoReport]
    ) -> None:
        """The demo accounts are made without the password policy, which refuses the published
        demo password for every real account."""
        session, _vault, report = demo
        assert report.password == DEMO_PASSWORD
        for login in report.logins:
            user = session.scalars(select(User).where(User.email == login.email)).one()
            assert verify_password(user.password_hash, DEMO_PASSWORD)
            with pytest.raises(InvalidInput, match="too common"):
                check_password_policy(DEMO_PASSWORD, 12, email=login.email)

    def test_sent_handoffs_are_recent_or_overdue_but_not_expired(
        self, demo: tuple[Session, Vault, DemoReport]
    ) -> None:
        session, _vault, _report = demo
        midnight = datetime(TODAY.year, TODAY.month, TODAY.day, tzinfo=UTC)
        ages = [
            (midnight - sent).days
            for sent in session.scalars(
                select(Handoff.sent_at).where(Handoff.status == HandoffStatus.SENT)
            )
        ]
        assert any(age < 10 for age in ages)
        assert any(10 <= age < 30 for age in ages)
        assert all(age < 30 for age in ages)

    def test_redirects_form_chains_of_two_and_three(
        self, demo: tuple[Session, Vault, DemoReport]
    ) -> None:
        session, _vault, _report = demo
        handoffs = {h.id: h for h in session.scalars(select(Handoff))}

        def length(handoff: Handoff) -> int:
            return 1 if handoff.parent_id is None else 1 + length(handoffs[handoff.parent_id])

        lengths = {length(h) for h in handoffs.values()}
        assert {2, 3} <= lengths
        for h in handoffs.values():
            if h.parent_id is not None:
                assert handoffs[h.parent_id].status is HandoffStatus.REDIRECTED

    def test_answers_carry_reasons_and_outcomes(
        self, demo: tuple[Session, Vault, DemoReport]
    ) -> None:
        session, vault, _report = demo
        outcomes = set(
            session.scalars(
                select(ReferenceItem.code)
                .join(Handoff, Handoff.outcome_id == ReferenceItem.id)
                .where(Handoff.status == HandoffStatus.COMPLETED)
            )
        )
        assert {"barrier_lifted", "training_entered", "job_signed"} <= outcomes
        reasons = set(
            session.scalars(
                select(ReferenceItem.code).join(
                    Handoff, Handoff.decline_reason_id == ReferenceItem.id
                )
            )
        )
        assert len(reasons) >= 3
        declines = session.scalars(
            select(HandoffTransition).where(HandoffTransition.event == HandoffEvent.DECLINE)
        ).all()
        assert declines
        assert all(t.message is not None and t.reason_id is not None for t in declines)
        expiries = session.scalars(
            select(HandoffTransition).where(HandoffTransition.event == HandoffEvent.EXPIRE)
        ).all()
        assert expiries
        assert all(t.actor_id is None for t in expiries)
        # A hand-off completed with "barrier_lifted" lifted the barrier it was about.
        lifted = session.scalars(
            select(Barrier.status)
            .join(Handoff, Handoff.purpose_barrier_id == Barrier.id)
            .join(ReferenceItem, ReferenceItem.id == Handoff.outcome_id)
            .where(ReferenceItem.code == "barrier_lifted")
        ).all()
        assert lifted
        assert set(lifted) == {BarrierStatus.LIFTED}

    def test_everything_is_dated_before_today(
        self, demo: tuple[Session, Vault, DemoReport]
    ) -> None:
        session, _vault, _report = demo
        midnight = datetime(TODAY.year, TODAY.month, TODAY.day, tzinfo=UTC)
        earliest = TODAY - timedelta(days=550)
        for at in session.scalars(select(HandoffTransition.at)):
            assert at < midnight
            assert at.date() >= earliest
        for day in session.scalars(select(PathwayStep.started_on)):
            assert earliest <= day < TODAY
        for follow_up in session.scalars(select(FollowUp)):
            assert earliest <= follow_up.started_on < TODAY
            assert follow_up.ended_on is None or follow_up.ended_on < TODAY

    def test_identities_decrypt_to_the_fictional_people(
        self, demo: tuple[Session, Vault, DemoReport]
    ) -> None:
        session, vault, _report = demo
        emails = {p.email: p for p in PEOPLE}
        for person in session.scalars(select(Beneficiary)):
            identity = open_identity(vault, session, person)
            assert identity.email is not None
            expected = emails.pop(identity.email)
            assert identity.last_name == expected.last_name
            born = identity.birth_date
            assert born is not None
            assert born == birth_date(expected, TODAY)
            assert person.birth_year == born.year
            # The cohorts already fitted on the day the person was registered.
            registered = session.scalar(
                select(func.min(FollowUp.started_on)).where(FollowUp.beneficiary_id == person.id)
            )
            assert registered is not None
            age = (
                registered.year
                - born.year
                - ((registered.month, registered.day) < (born.month, born.day))
            )
            for cohort in expected.cohorts:
                low, high = COHORT_AGES[cohort]
                assert low <= age <= high, (expected.first_name, cohort, age)
        assert not emails

    def test_no_identity_value_in_clear_in_the_raw_tables(
        self, demo: tuple[Session, Vault, DemoReport]
    ) -> None:
        session, _vault, _report = demo
        needles: set[str] = set()
        for p in PEOPLE:
            needles |= {p.last_name, p.first_name, p.email, p.address}
            needles |= {p.phone, p.phone.replace(" ", ""), normalise_phone(p.phone)}
        encoded = [(n, n.encode()) for n in needles]
        seen = 0
        for table in ("beneficiaries", "pathway_steps", "handoffs", "handoff_transitions"):
            for row in session.execute(text(f"SELECT * FROM {table}")):
                seen += 1
                for value in row:
                    if isinstance(value, bytes | bytearray | memoryview):
                        raw = bytes(value)
                        leaks = [n for n, b in encoded if b in raw]
                    elif isinstance(value, str):
                        leaks = [n for n, _b in encoded if n in value]
                    else:
                        continue
                    assert not leaks, f"{table}: {leaks}"
        assert seen > len(PEOPLE)


# -- the data itself -------------------------------------------------------------------------


def test_every_person_has_a_known_story_and_a_valid_phone() -> None:
    assert {p.story for p in PEOPLE} == set(STORIES)
    assert len({p.email for p in PEOPLE}) == len({p.phone for p in PEOPLE}) == len(PEOPLE)
    for p in PEOPLE:
        assert phonenumbers.is_valid_number(phonenumbers.parse(p.phone, "FR"))
        assert p.email.endswith("@exemple.fr")
        assert min(len(p.first_name), len(p.last_name)) >= 4  # no accidental match in ciphertext


def test_birth_dates_match_the_cohorts() -> None:
    for p in PEOPLE:
        born = birth_date(p, TODAY)
        age = TODAY.year - born.year - ((TODAY.month, TODAY.day) < (born.month, born.day))
        assert age == p.age
        for cohort in p.cohorts:
            low, high = COHORT_AGES[cohort]
            assert low <= age <= high, (p.first_name, cohort, age)


def test_structures_and_acting_partners_are_consistent() -> None:
    codes = {s.code for s in STRUCTURES}
    assert len(codes) == len(STRUCTURES)
    assert set(ACTING_ON.values()) <= codes
    assert {p.registered_by for p in PEOPLE} <= codes


# -- refusals --------------------------------------------------------------------------------


def test_a_partial_demo_is_refused(db_session: Session, vault: Vault) -> None:
    create_structure(db_session, None, code="ML90", name="Already here", type_code="other")
    with pytest.raises(Conflict):
        load_demo(db_session, vault, today=TODAY)


# -- the command -----------------------------------------------------------------------------


def test_the_command_loads_once_then_reports_it_is_loaded(
    runner: FlaskCliRunner, db_session: Session
) -> None:
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "Demo loaded" in first.output
    assert "conseil@ml90.demo" in first.output
    assert f"Password: {DEMO_PASSWORD}" in first.output
    assert "fictional" in first.output
    people = _count(db.session(), Beneficiary)
    assert people == len(PEOPLE)

    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    assert "already loaded" in second.output
    assert "coordination@relais.demo" in second.output
    assert f"Password: {DEMO_PASSWORD}" in second.output
    assert _count(db.session(), Beneficiary) == people


def test_the_command_refuses_production(
    runner: FlaskCliRunner, db_session: Session, monkeypatch: pytest.MonkeyPatch, app: Flask
) -> None:
    monkeypatch.setitem(app.config, "RELAIS_ENV", "production")
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code != 0
    assert "production" in result.output
    assert _count(db.session(), User) == 0
