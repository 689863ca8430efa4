"""The rule that finds a person's own identity in a free text (``app.domain.mentions``)."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.mentions import (
    COMMON_WORDS,
    IdentityTerms,
    MentionKind,
    find_mentions,
    mentioned_kinds,
)

LAST, FIRST, PHONE, EMAIL, BORN = (
    MentionKind.LAST_NAME,
    MentionKind.FIRST_NAME,
    MentionKind.PHONE,
    MentionKind.EMAIL,
    MentionKind.BIRTH_DATE,
)
AURELIE = IdentityTerms(
    last_name="N'Diaye-Lefèvre",
    first_name="Aurélie",
    phone="+33612345678",
    email="Aurelie.Ndiaye90@exemple.fr",
    birth_date=date(2004, 3, 12),
)
# "Marie Rose": a first name that is no ordinary word, a last name that is one.
MARIE_ROSE = IdentityTerms(last_name="Rose", first_name="Marie", birth_date=date(2001, 5, 1))
JEAN_PIERRE = IdentityTerms(last_name="Da Silva", first_name="Jean-Pierre")


def kinds(text: str, terms: IdentityTerms = AURELIE) -> list[MentionKind]:
    return mentioned_kinds(find_mentions(text, terms))


@pytest.mark.parametrize(
    "text",
    [
        "Aurélie viendra mardi.",
        "aurelie viendra mardi",
        "AURELIE est motivée",
        "Vu avec aurélie, elle est motivée",
        "RDV pris pour Aurélie.",
    ],
)
def test_the_first_name_in_any_case_with_or_without_accents(text: str) -> None:
    assert kinds(text) == [FIRST]


@pytest.mark.parametrize(
    "text",
    [
        "Mme N'Diaye-Lefèvre",
        "Mme NDIAYE-LEFEVRE",
        "mme n diaye lefevre",
        "Mme Ndiaye Lefèvre",
        "Madame ndiayelefevre a appelé",
        "Mme Lefèvre a appelé",  # a part of a compound name on its own
        "Mme DIAYE",
    ],
)
def test_the_last_name_with_or_without_hyphens_apostrophes_and_accents(text: str) -> None:
    assert kinds(text) == [LAST]


@pytest.mark.parametrize(
    "text",
    [
        "Joignable au 06 12 34 56 78",
        "tél. 06.12.34.56.78",
        "0612345678",
        "06-12-34-56-78",
        "+33 6 12 34 56 78",
        "+33 (0)6 12 34 56 78",
        "0033 6 12 34 56 78",
        "+33612345678",
    ],
)
def test_the_phone_in_the_ways_people_write_it(text: str) -> None:
    assert kinds(text) == [PHONE]


@pytest.mark.parametrize(
    "text",
    [
        "écrire à aurelie.ndiaye90@exemple.fr",
        "écrire à AURELIE.NDIAYE90@EXEMPLE.FR",
        "mail : aurelie.ndiaye90 @ exemple.fr",
        "son adresse commence par aurelie.ndiaye90, sur exemple",
    ],
)
def test_the_email_in_any_case_or_its_part_before_the_at_sign(text: str) -> None:
    assert kinds(text) == [EMAIL]


@pytest.mark.parametrize(
    "text",
    [
        "née le 12/03/2004",
        "née le 12-03-2004",
        "née le 12.03.04",
        "née le 12/3/2004",
        "née le 12 / 03 / 2004",
        "née le 12 03 2004",
        "2004-03-12",
        "née le 12 mars 2004",
        "née le 12 Mars 2004",
        "née le 12 mars 04",
        "born on 12 March 2004",
    ],
)
def test_the_birth_date_in_french_and_iso_forms(text: str) -> None:
    assert kinds(text) == [BORN]


def test_the_first_of_the_month_written_1er() -> None:
    assert kinds("née le 1er mai 2001", MARIE_ROSE) == [BORN]
    assert kinds("née le 01/05/2001", MARIE_ROSE) == [BORN]


@pytest.mark.parametrize(
    "text",
    [
        "Besoin d'un accompagnement vers l'emploi, mobilité difficile.",
        "Aurore viendra mardi.",  # another first name
        "Mariette et Aurélien sont venus",  # longer words that start with the names
        "Le 12 mars, entretien à 10 h.",  # day and month without the year
        "Promotion 2004, diplômée en 2004",
        "Appeler le 06 12 34 56 79",  # another number
        "Dossier 612345678901234",  # the nine digits inside a longer number
        "née le 13/03/2004",
        "née le 12/03/2005",
        "Contact : conseil@exemple.fr",
    ],
)
def test_ordinary_texts_do_not_fire(text: str) -> None:
    assert kinds(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Elle porte une écharpe rose.",
        "Rose, bleu ou vert : au choix.",  # at the start of a sentence
        "La vie en rose. Rose des vents.",
    ],
)
def test_a_last_name_that_is_a_common_word_does_not_fire_as_that_word(text: str) -> None:
    assert "rose" in COMMON_WORDS
    assert kinds(text, MARIE_ROSE) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Vu Mme Rose ce matin.", [LAST]),  # a capital away from the start of a sentence
        ("Vu Mme ROSE ce matin.", [LAST]),
        ("marie rose est venue", [LAST, FIRST]),  # next to the other name
        ("Rose Marie est venue", [LAST, FIRST]),
        ("Marie est venue avec une écharpe rose", [FIRST]),
    ],
)
def test_a_common_word_name_fires_when_written_as_a_name(
    text: str, expected: list[MentionKind]
) -> None:
    assert kinds(text, MARIE_ROSE) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Jean-Pierre est venu", [FIRST]),
        ("jean pierre est venu", [FIRST]),
        ("JEANPIERRE est venu", [FIRST]),
        ("Jean est venu", [FIRST]),  # the part of the compound first name
        ("un mur de pierre", []),  # the other part is an ordinary word, in lower case
        ("M. Da Silva", [LAST]),
        ("M. DASILVA", [LAST]),
        ("M. Silva", [LAST]),
        ("de la salle", []),  # "Da" alone is too short to count
    ],
)
def test_compound_names(text: str, expected: list[MentionKind]) -> None:
    assert kinds(text, JEAN_PIERRE) == expected


def test_every_kind_at_once_keeps_what_was_written() -> None:
    text = (
        "Aurélie N'DIAYE-LEFÈVRE, née le 12 mars 2004, 06 12 34 56 78, aurelie.ndiaye90@exemple.fr"
    )
    found = find_mentions(text, AURELIE)
    assert mentioned_kinds(found) == [LAST, FIRST, PHONE, EMAIL, BORN]
    assert [m.excerpt for m in found] == [
        "N'DIAYE-LEFÈVRE",
        "Aurélie",
        "06 12 34 56 78",
        "aurelie.ndiaye90@exemple.fr",
        "12 mars 2004",
    ]


def test_a_name_inside_the_email_counts_once_as_the_email() -> None:
    assert kinds("aurelie.ndiaye90@exemple.fr") == [EMAIL]


def test_nothing_to_check() -> None:
    assert find_mentions("", AURELIE) == []
    assert find_mentions(None, AURELIE) == []
    assert find_mentions("Aurélie", IdentityTerms()) == []
    assert "<hidden>" in repr(AURELIE)
