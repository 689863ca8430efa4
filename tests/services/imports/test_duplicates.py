"""Possible duplicates, within the file and in the network: warnings that hold the import back,
and an audited lookup that names only the people the structure follows."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.models import AuditEvent, Beneficiary, User
from app.services.imports import duplicates
from app.services.people import lookup
from app.services.people.identity import Identity
from app.services.people.lookup import identity_keys, lookup_values, unindexed_left
from app.services.rights.subject_access import access_log
from app.services.security import audit_people, keys
from app.services.security.vault import Vault
from tests import factories
from tests.services.imports.helpers import (
    GOOD,
    HEADER,
    OTHER,
    csv_file,
    people_count,
    run,
)


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
    seen = [(line.action, line.purpose) for line in access_log(db_session, known.id)]
    assert seen.count(("beneficiary:duplicate_check", "import")) == 1
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


def _decrypted(db_session: Session) -> int:
    """People decrypted by the duplicate lookups so far (each lookup's event lists them)."""
    query = select(AuditEvent.data).where(
        AuditEvent.action == "beneficiary:duplicate_check",
        AuditEvent.subject_type == "beneficiaries",
    )
    return sum(len(data["people"]) for data in db_session.scalars(query))


def _summary(db_session: Session) -> AuditEvent:
    query = (
        select(AuditEvent)
        .where(
            AuditEvent.action == "beneficiary:duplicate_check",
            AuditEvent.subject_type == "import",
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    return db_session.scalars(query).one()


def test_narrow_index_collisions_are_not_decrypted(
    db_session: Session, vault: Vault, worker: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    factories.person(db_session, vault, worker)
    # Every narrow value collides (as the 14-bit indexes do by the thousand in a large
    # database); the wide lookup index keeps the two people apart: nobody is decrypted.
    monkeypatch.setattr(type(vault.indexer), "compute", lambda _self, _name, _value: 7)
    result = run(db_session, vault, worker, csv_file(HEADER, OTHER))
    assert result.imported == 1
    assert not result.warnings
    assert _decrypted(db_session) == 0
    assert _summary(db_session).data["candidates"] == 0


def test_a_wide_index_match_that_is_not_the_same_person_is_not_a_duplicate(
    db_session: Session, vault: Vault, worker: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every wide value collides (from the registration on): the candidate is decrypted to
    # confirm, and the match refused.
    monkeypatch.setattr(type(vault.indexer), "lookup", lambda _self, _name, _value: 7)
    factories.person(db_session, vault, worker)
    line = "Roy;Léo;01/02/2003;other"  # a birth date: a name-and-birth-date value to look up
    result = run(db_session, vault, worker, csv_file("nom;prenom;date_naissance;public", line))
    assert result.imported == 1
    assert not result.warnings
    assert _decrypted(db_session) == 1


def test_people_not_yet_reindexed_are_found_through_their_narrow_indexes(
    db_session: Session, vault: Vault, worker: User
) -> None:
    known = factories.person(db_session, vault, worker)
    # As the migration leaves the people registered before it: no lookup indexes yet.
    db_session.execute(
        update(Beneficiary).values(
            lookup_version=None, name_birth_lookup=None, email_lookup=None, phone_lookup=None
        )
    )
    assert unindexed_left(db_session, vault.indexer)
    warned = [f"Possible duplicate of {known.pseudonym}, already followed by your structure."]
    result = run(db_session, vault, worker, csv_file(HEADER, GOOD))
    assert [str(w) for w in result.warnings] == warned
    # ``keys rebuild-index`` fills them; the lookup then finds the person through them alone.
    assert keys.count_stale_indexes(db_session, vault) == 1
    assert keys.reindex_batch(db_session, vault) == 1
    db_session.refresh(known)
    assert known.lookup_version == vault.indexer.version
    identity = Identity(last_name="Zephyrin", first_name="Aurélie", birth_date=date(2004, 3, 14))
    (name_birth,) = lookup_values(vault.indexer, identity_keys(identity))
    assert known.name_birth_lookup == name_birth.wide
    assert not unindexed_left(db_session, vault.indexer)
    result = run(db_session, vault, worker, csv_file(HEADER, GOOD))
    assert [str(w) for w in result.warnings] == warned


def _elsewhere(db_session: Session, vault: Vault, count: int, **identity: str) -> None:
    other = factories.user(db_session, structure_=factories.structure(db_session, "ZZZ"))
    for n in range(count):
        factories.person(
            db_session,
            vault,
            other,
            last_name=f"Autre{n}",
            first_name="Personne",
            phone=None,
            email=f"autre.{n}@exemple.fr",
            **identity,
        )


def test_network_candidates_are_decrypted_until_one_matches(
    db_session: Session, vault: Vault, worker: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every wide value collides: all the network's people are candidates of every line.
    monkeypatch.setattr(type(vault.indexer), "lookup", lambda _self, _name, _value: 7)
    _elsewhere(db_session, vault, 5)
    factories.person(db_session, vault, factories.user(db_session))  # the true duplicate
    result = run(db_session, vault, worker, csv_file(HEADER, GOOD))
    assert [str(w) for w in result.warnings] == [
        "A possible duplicate exists in the network; contact your coordinator."
    ]
    summary = _summary(db_session).data
    assert summary["candidates"] == 6
    assert summary["network_matches"] == 1
    assert summary["unconfirmed"] == 0
    # Decrypted in rounds, one candidate per line and round, until the match: at most all six.
    assert 1 <= summary["decrypted"] == _decrypted(db_session) <= 6


def test_network_candidates_beyond_the_cap_warn_without_decrypting(
    db_session: Session, vault: Vault, worker: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(type(vault.indexer), "lookup", lambda _self, _name, _value: 7)
    monkeypatch.setattr(duplicates, "NETWORK_CANDIDATES_PER_LINE", 2)
    _elsewhere(db_session, vault, 5)  # none is the person of the file
    result = run(db_session, vault, worker, csv_file(HEADER, GOOD))
    assert [str(w) for w in result.warnings] == [
        "A possible duplicate exists in the network; contact your coordinator."
    ]
    summary = _summary(db_session).data
    assert (summary["candidates"], summary["decrypted"], summary["unconfirmed"]) == (5, 2, 1)
    assert _decrypted(db_session) == 2
    [listing] = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "beneficiary:duplicate_check",
            AuditEvent.subject_type == "beneficiaries",
        )
    ).all()
    assert (listing.subject_id, listing.beneficiary_id, listing.purpose) == ("*", None, "import")
    assert listing.data["import_id"] == _summary(db_session).subject_id
    assert audit_people.index_mismatch(db_session) is None  # both people findable
    # Under the cap, the same false candidates are all decrypted and refused: no warning.
    monkeypatch.setattr(duplicates, "NETWORK_CANDIDATES_PER_LINE", 5)
    result = run(db_session, vault, worker, csv_file(HEADER, GOOD))
    assert not result.warnings
    assert _summary(db_session).data["unconfirmed"] == 0


def test_the_structures_own_candidates_are_all_named(
    db_session: Session, vault: Vault, worker: User
) -> None:
    first = factories.person(db_session, vault, worker)
    second = factories.person(
        db_session, vault, worker, last_name="Autre", first_name="Nom", email=None
    )  # the same phone
    result = run(db_session, vault, worker, csv_file(HEADER, GOOD))
    names = ", ".join(sorted((first.pseudonym, second.pseudonym)))
    assert [str(w) for w in result.warnings] == [
        f"Possible duplicate of {names}, already followed by your structure."
    ]


def test_many_lookup_values_are_asked_one_index_a_query_in_slices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A few values (a registration's three) in one query; past ``INDEX_CHUNK``, each index
    in its own queries of at most ``INDEX_CHUNK`` values (PostgreSQL probes an index for such
    a list, where three long lists in one query read the whole table)."""
    monkeypatch.setattr(lookup, "INDEX_CHUNK", 3)
    few = {"name_birth": {5}, "email": {2}, "phone": {9}}
    assert lookup._groups(few) == [{"name_birth": [5], "email": [2], "phone": [9]}]
    many = {"name_birth": {4, 1, 3, 2}, "email": set(), "phone": {8}}
    assert lookup._groups(many) == [{"name_birth": [1, 2, 3]}, {"name_birth": [4]}, {"phone": [8]}]
    assert lookup._groups({"email": set()}) == []


def test_a_lookup_in_slices_finds_the_candidates_of_one_query(
    db_session: Session, vault: Vault, worker: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same candidates, decryptions and warnings, each index asked in slices of one value."""
    first = factories.person(db_session, vault, worker)  # GOOD's name, birth date, e-mail, phone
    second = factories.person(
        db_session, vault, worker, last_name="Autre", first_name="Nom", email=None
    )  # the same phone
    _elsewhere(db_session, vault, 1, birth_date=date(2001, 5, 2))
    data = csv_file(HEADER, GOOD, OTHER)
    names = ", ".join(sorted((first.pseudonym, second.pseudonym)))
    expected = [f"Possible duplicate of {names}, already followed by your structure."]
    whole = run(db_session, vault, worker, data)
    assert [str(w) for w in whole.warnings] == expected
    monkeypatch.setattr(lookup, "INDEX_CHUNK", 1)
    sliced = run(db_session, vault, worker, data)
    assert [str(w) for w in sliced.warnings] == expected
    summaries = db_session.scalars(
        select(AuditEvent.data)
        .where(AuditEvent.action == "beneficiary:duplicate_check")
        .where(AuditEvent.subject_type == "import")
        .order_by(AuditEvent.seq)
    ).all()
    assert len(summaries) == 2
    assert summaries[0] == summaries[1]
    assert summaries[0]["candidates"] == 2
