"""Writing played pathways, a batch at a time, the way ``app.services.imports`` writes a caseload.

A data key per person, wrapped; the identity sealed by ``seal_identity`` (see ``identities``);
one bulk insert per table and batch, with the import's engine (``app.services.imports.bulk``:
COPY on PostgreSQL); a ``beneficiary:create`` audit event per person (and ``consent:record``
when consent is given), as ``audit.record`` writes them, chained by ``audit.append_many``. Nothing here commits: the caller commits after each batch, or rolls the
batch back.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from app.crypto import DataKey
from app.demo.synthetic.decisions import barrier_level, decision_rows
from app.demo.synthetic.identities import (
    SEALED_COLUMNS,
    SealedIdentity,
    SealingVault,
    draw_identity,
)
from app.demo.synthetic.network import Network
from app.demo.synthetic.pathway import Pathway
from app.demo.synthetic.records import HandoffRecord, TransitionRecord
from app.demo.synthetic.unmet import unmet_rows
from app.domain.audit import AuditAction
from app.domain.effective_dates import field_day
from app.domain.handoffs import HandoffEvent
from app.domain.pathway import ConsentScope
from app.domain.people import EducationLevel, Sex
from app.models import (
    AuditEvent,
    Barrier,
    Beneficiary,
    Consent,
    FollowUp,
    Handoff,
    HandoffTransition,
    NameSearchToken,
    OrientationCriterion,
    OrientationDecision,
    PathwayStep,
    PersonKey,
    ReferenceKind,
    UnmetNeed,
    beneficiary_cohorts,
    unmet_need_cohorts,
)
from app.models.base import utcnow
from app.services.imports.bulk import BulkInserts
from app.services.pathways.state import refresh_state
from app.services.security import audit
from app.services.security.vault import Vault

AUDIT_PURPOSE = "import"  # what an import of such a caseload writes (see app.services.imports)


@dataclass
class GenerationCounts:
    """What was written: rows per table, and the states the indicators read."""

    people: int = 0
    rows: Counter[str] = field(default_factory=Counter)
    handoffs_by_status: Counter[str] = field(default_factory=Counter)
    steps_by_stage: Counter[str] = field(default_factory=Counter)
    barriers_by_status: Counter[str] = field(default_factory=Counter)

    def add(self, other: GenerationCounts) -> None:
        self.people += other.people
        self.rows.update(other.rows)
        self.handoffs_by_status.update(other.handoffs_by_status)
        self.steps_by_stage.update(other.steps_by_stage)
        self.barriers_by_status.update(other.barriers_by_status)


# Tables in the order their rows are inserted (foreign keys first).
MODELS: tuple[Any, ...] = (
    Beneficiary,
    PersonKey,
    NameSearchToken,
    beneficiary_cohorts,
    Consent,
    FollowUp,
    Barrier,
    PathwayStep,
    Handoff,
    HandoffTransition,
    OrientationDecision,
    OrientationCriterion,
    UnmetNeed,
    unmet_need_cohorts,
    AuditEvent,
)
TABLES: tuple[Table, ...] = tuple(
    cast(Table, model if isinstance(model, Table) else model.__table__) for model in MODELS
)


def _day(moment: datetime | None) -> date | None:
    return field_day(moment) if moment is not None else None


class BatchWriter:
    """The rows of one batch, table by table, built from played pathways."""

    def __init__(self, network: Network, run_id: str, session: Session, vault: Vault) -> None:
        self.network = network
        self.run_id = run_id  # the audit events' "import_id"
        self.session = session
        self.vault = SealingVault(vault)
        self.now = utcnow()  # one creation time per batch, as the import does
        self.rows: dict[str, list[dict[str, Any]]] = {t.name: [] for t in TABLES}
        self.counts = GenerationCounts()

    def insert(self) -> None:
        # The import's bulk-insert engine: one statement per table (COPY on PostgreSQL).
        inserts = BulkInserts(self.session)
        for table in TABLES:
            rows = self.rows[table.name]
            if not rows:
                continue
            if table.name == AuditEvent.__tablename__:
                audit.append_many(self.session, rows, write=inserts)  # chained
            else:
                inserts(table, rows)
            self.counts.rows[table.name] += len(rows)
        # The bulk inserts bypass the session's hook: the batch's people get their pathway
        # state from the events just written, in one UPDATE.
        refresh_state(self.session, [row["id"] for row in self.rows["beneficiaries"]])

    def audit(
        self, actor: str, action: AuditAction, subject: str, subject_id: uuid.UUID,
        person_id: uuid.UUID, **data: str | int | None,
    ) -> None:  # fmt: skip
        """An audit event as ``audit.record`` writes it, as the import writes it."""
        self.rows["audit_events"].append(
            {
                "at": self.now,
                "actor_id": self.network.caseworkers[actor],
                "actor_structure_id": self.network.ids[actor],
                "action": action.value,
                "subject_type": subject,
                "subject_id": str(subject_id),
                "beneficiary_id": person_id,
                "purpose": AUDIT_PURPOSE,
                "data": {"import_id": self.run_id, **data},
            }
        )

    def add(self, person: Pathway, pseudonym: str) -> None:
        key = DataKey.generate()
        kek_id, wrapped = self.vault.keys.wrap(key)
        sealed = self.vault.seal_new_identity(self.session, key, person.id, draw_identity(person))
        self.person(person, pseudonym, sealed)
        self.rows["person_keys"].append(
            {
                "beneficiary_id": person.id,
                "kek_id": kek_id,
                "wrapped_key": wrapped,
                "created_at": self.now,
                "rewrapped_at": None,
                "rotation_requested": False,
            }
        )
        self.follow_ups(person)
        self.barriers(person)
        self.steps(person, key)
        self.handoffs(person, key)
        decisions, criteria = decision_rows(person, self.network, self.now)
        self.rows["orientation_decisions"] += decisions
        self.rows["orientation_criteria"] += criteria
        needs, cohorts = unmet_rows(self.network, person, self.now)
        self.rows["unmet_needs"].extend(needs)
        self.rows["unmet_need_cohorts"].extend(cohorts)
        self.counts.people += 1

    def person(self, person: Pathway, pseudonym: str, sealed: SealedIdentity) -> None:
        network, reg = self.network, person.entry
        self.rows["beneficiaries"].append(
            {
                "id": person.id,
                "pseudonym": pseudonym,
                **{name: getattr(sealed, name) for name in SEALED_COLUMNS},
                "sex": Sex(person.sex) if person.sex else None,
                "qpv_id": person.qpv_id,
                "education_level": EducationLevel(person.education) if person.education else None,
                "created_month": person.start.replace(day=1),
                "created_by_structure_id": network.ids[reg],
                "created_at": self.now,
                "erased_at": None,
            }
        )
        self.rows["name_search_tokens"].extend(
            {"beneficiary_id": person.id, "value": value} for value in sealed.name_prefixes
        )
        cohorts = network.refs[ReferenceKind.COHORT]
        self.rows["beneficiary_cohorts"].extend(
            {"beneficiary_id": person.id, "cohort_id": cohorts[code]} for code in person.cohorts
        )
        self.audit(reg, AuditAction.BENEFICIARY_CREATE, "beneficiaries", person.id, person.id)
        if person.consent_method is not None:
            consent_id = person.uuid()
            self.rows["consents"].append(
                {
                    "id": consent_id,
                    "beneficiary_id": person.id,
                    "scope": ConsentScope.NETWORK_SHARING,
                    "method": person.consent_method,
                    "given_on": person.start,
                    "recorded_by_id": network.caseworkers[reg],
                    "recorded_by_structure_id": network.ids[reg],
                    "withdrawn_on": None,
                    "withdrawal_source": None,
                    "created_at": self.now,
                    "withdrawn_at": None,
                }
            )
            method = person.consent_method.value
            self.audit(
                reg, AuditAction.CONSENT_RECORD, "consents", consent_id, person.id, method=method
            )

    def follow_ups(self, person: Pathway) -> None:
        network, refs = self.network, self.network.refs
        for f in person.follow_ups.values():
            self.rows["follow_ups"].append(
                {
                    "id": f.id,
                    "beneficiary_id": person.id,
                    "structure_id": network.ids[f.structure],
                    "referent_id": network.caseworkers[f.structure],
                    "started_on": f.started_on,
                    "ended_on": f.ended_on,
                    "end_reason_id": refs[ReferenceKind.END_REASON][f.end_reason]
                    if f.end_reason
                    else None,
                    "created_at": self.now,
                }
            )

    def barriers(self, person: Pathway) -> None:
        network, refs = self.network, self.network.refs
        for b in person.barriers:
            self.rows["barriers"].append(
                {
                    "id": b.id,
                    "beneficiary_id": person.id,
                    "category_id": refs[ReferenceKind.BARRIER_CATEGORY][b.category],
                    "status": b.status,
                    "acting_structure_id": network.ids[b.acting],
                    "identified_on": b.identified_on,
                    "closed_on": b.closed_on,
                    "status_on": b.status_on or b.identified_on,
                    "level": barrier_level(b.id, b.category),
                    "recorded_by_id": network.caseworkers[b.recorded_by],
                    "created_at": self.now,
                }
            )
            self.counts.barriers_by_status[b.status.value] += 1

    def steps(self, person: Pathway, key: DataKey) -> None:
        network, refs = self.network, self.network.refs
        for s in person.steps:
            self.rows["pathway_steps"].append(
                {
                    "id": s.id,
                    "beneficiary_id": person.id,
                    "structure_id": network.ids[s.structure],
                    "stage_id": refs[ReferenceKind.STAGE][s.stage],
                    "started_on": s.started_on,
                    "ended_on": s.ended_on,
                    "action": Vault.seal(key, "pathway_steps", "action", s.id, person.id, s.action),
                    "recorded_by_id": network.caseworkers[s.recorded_by],
                    "created_at": self.now,
                }
            )
            self.counts.steps_by_stage[s.stage] += 1

    def handoffs(self, person: Pathway, key: DataKey) -> None:
        network, refs = self.network, self.network.refs
        for h in person.handoffs:
            self.rows["handoffs"].append(
                {
                    "id": h.id,
                    "beneficiary_id": person.id,
                    "from_structure_id": network.ids[h.sender],
                    "from_user_id": network.caseworkers[h.sender],
                    "to_structure_id": network.ids[h.receiver],
                    "purpose_stage_id": refs[ReferenceKind.STAGE][h.purpose]
                    if h.barrier is None
                    else None,
                    "purpose_barrier_id": h.barrier.id if h.barrier is not None else None,
                    "note": Vault.seal(key, "handoffs", "note", h.id, person.id, h.note),
                    "consent_confirmed": True,
                    "status": h.status,
                    "parent_id": h.parent.id if h.parent is not None else None,
                    "decline_reason_id": refs[ReferenceKind.DECLINE_REASON][h.decline_reason]
                    if h.decline_reason
                    else None,
                    "outcome_id": refs[ReferenceKind.OUTCOME][h.outcome] if h.outcome else None,
                    "sent_at": h.sent_at,
                    "answered_at": h.answered_at,
                    "first_contact_at": h.first_contact_at,
                    "closed_at": h.closed_at,
                    # Recorded the day they happened: the effective days are those moments'.
                    "answered_on": _day(h.answered_at),
                    "first_contact_on": _day(h.first_contact_at),
                    "closed_on": _day(h.closed_at),
                    "version": len(h.events),  # one per transition, as the ORM's version counter
                }
            )
            self.counts.handoffs_by_status[h.status.value] += 1
            for t in h.events:
                self.rows["handoff_transitions"].append(self.transition(person, key, h, t))

    def transition(
        self, person: Pathway, key: DataKey, handoff: HandoffRecord, t: TransitionRecord
    ) -> dict[str, Any]:
        network, refs = self.network, self.network.refs
        reason_id = None
        if t.event is HandoffEvent.DECLINE and t.reason:
            reason_id = refs[ReferenceKind.DECLINE_REASON][t.reason]
        elif t.reason:
            reason_id = refs[ReferenceKind.OUTCOME][t.reason]
        table = "handoff_transitions"
        return {
            "id": t.id,
            "handoff_id": handoff.id,
            "event": t.event,
            "from_status": t.source,
            "to_status": t.target,
            "actor_id": network.caseworkers[t.actor] if t.actor else None,
            "actor_structure_id": network.ids[t.actor] if t.actor else None,
            "reason_id": reason_id,
            "message": Vault.seal(key, table, "message", t.id, person.id, t.message),
            "at": t.at,
            "effective_on": field_day(t.at),
        }
