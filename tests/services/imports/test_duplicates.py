"""Possible duplicates, within the file and in the network: warnings that hold the import back,
and an audited lookup that names only the people the structure follows."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import AuditEvent, User
from app.services.security.vault import Vault
from tests import factories
from tests.services.imports.helpers import GOOD, HEADER, OTHER, csv_file, people_count, run


def test_duplicates_within_the_file_hold_the_import_back(
    db_session: Session, vault: Vault, worker: User
) -> None:
    same_name = "ZEPHYRIN;aurelie;2004-03-14;;;;;other;"
    same_phone = "Autre;Personne;;+33 6 12 34 56 78;;;;other;"
    data = csv_file(HEADER, GOOD, OTHER, same_name, same_phone)
    result = run(db_session, vault, worker, data)
    assert result.needs_confirmation
    assert result.imported == 0
    assert result.duplicate_lines == [4, 5]
    assert all("line 2" in str(w) for w in result.warnings)
    assert people_count(db_session) == 0

    result = run(db_session, vault, worker, data, allow_duplicates=True)
    assert result.imported == 4
    assert result.duplicate_lines == [4, 5]
    assert people_count(db_session) == 4


def test_duplicate_followed_by_the_structure_is_named(
    db_session: Session, vault: Vault, worker: User
) -> None:
    known = factories.person(db_session, vault, worker)  # Aurélie Zephyrin, 14/03/2004
    result = run(db_session, vault, worker, csv_file(HEADER, OTHER, GOOD))
    assert result.needs_confirmation
    assert result.duplicate_lines == [3]
    assert [str(w) for w in result.warnings] == [
        f"Possible duplicate of {known.pseudonym}, already followed by your structure."
    ]
    decrypted = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "beneficiary:duplicate_check",
            AuditEvent.beneficiary_id == known.id,
        )
    ).all()
    assert len(decrypted) == 1  # the candidate was opened to confirm, and that is recorded
    summary = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "beneficiary:duplicate_check",
            AuditEvent.subject_type == "import",
        )
    ).one()
    assert summary.data["followed_matches"] == 1
    assert summary.data["network_matches"] == 0


def test_a_blind_index_match_that_is_not_the_same_person_is_not_a_duplicate(
    db_session: Session, vault: Vault, worker: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    factories.person(db_session, vault, worker)
    # Every value shares one blind index value: candidates are confirmed by decryption.
    monkeypatch.setattr(type(vault.indexer), "compute", lambda _self, _name, _value: 7)
    result = run(db_session, vault, worker, csv_file("nom;prenom;public", "Roy;Léo;other"))
    assert result.imported == 1
    assert not result.warnings


def test_duplicate_elsewhere_in_the_network_is_not_revealed(
    db_session: Session, vault: Vault, worker: User
) -> None:
    other_structure = factories.structure(db_session, "ZZZ")
    elsewhere = factories.user(db_session, structure_=other_structure)
    known = factories.person(db_session, vault, elsewhere)
    result = run(db_session, vault, worker, csv_file(HEADER, GOOD))
    assert result.needs_confirmation
    assert [str(w) for w in result.warnings] == [
        "A possible duplicate exists in the network; contact your coordinator."
    ]
    assert all(known.pseudonym not in str(w) and "ZZZ" not in str(w) for w in result.warnings)
    # Decrypted inside the application only to confirm the match: the person's access log
    # records it, the caseworker learns nothing of who or where.
    assert (
        db_session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.action == "beneficiary:duplicate_check",
                AuditEvent.beneficiary_id == known.id,
            )
        )
        == 1
    )
    assert (
        run(db_session, vault, worker, csv_file(HEADER, GOOD), allow_duplicates=True).imported == 1
    )


def test_the_duplicate_lookup_is_audited_even_when_nothing_is_imported(
    db_session: Session, vault: Vault, worker: User
) -> None:
    factories.person(db_session, vault, worker)
    result = run(db_session, vault, worker, csv_file(HEADER, GOOD))
    assert result.needs_confirmation
    actions = db_session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.actor_id == worker.id, AuditEvent.subject_type == "import"
        )
    ).all()
    assert actions == ["beneficiary:duplicate_check"]
