"""Structure names with their article in French sentences (``app.domain.french``)."""

from __future__ import annotations

import pytest

from app.domain.french import (
    Article,
    fold,
    guess_article,
    leading_article,
    name_sort_key,
    phrases,
)


@pytest.mark.parametrize(
    ("name", "article", "the", "to", "of"),
    [
        (
            "Mission Locale",
            Article.LA,
            "la Mission Locale",
            "à la Mission Locale",
            "de la Mission Locale",
        ),
        ("EPIDE", Article.ELIDED, "l'EPIDE", "à l'EPIDE", "de l'EPIDE"),
        (
            "CCAS d'Offemont",
            Article.LE,
            "le CCAS d'Offemont",
            "au CCAS d'Offemont",
            "du CCAS d'Offemont",
        ),
        ("Les Petits Pas", Article.LES, "les Petits Pas", "aux Petits Pas", "des Petits Pas"),
        ("Petits Pas", Article.LES, "les Petits Pas", "aux Petits Pas", "des Petits Pas"),
        ("France Travail", Article.NONE, "France Travail", "à France Travail", "de France Travail"),
        ("Unis-Cité", Article.NONE, "Unis-Cité", "à Unis-Cité", "d'Unis-Cité"),
        ("L’Atelier", Article.ELIDED, "l'Atelier", "à l'Atelier", "de l'Atelier"),
    ],
)
def test_french_forms(name: str, article: Article, the: str, to: str, of: str) -> None:
    forms = phrases(name, article, "fr")
    assert (forms.the, forms.to, forms.of) == (the, to, of)
    assert forms.The == the[0].upper() + the[1:]
    assert str(forms) == the


def test_english_is_the_name_alone() -> None:
    forms = phrases("Les Petits Pas", Article.LES, "en")
    assert (forms.the, forms.to, forms.of, forms.The) == ("Les Petits Pas",) * 4


@pytest.mark.parametrize(
    ("name", "article"),
    [
        ("Mission Locale du Pays belfortain", Article.LA),
        ("Maison de l'emploi", Article.LA),
        ("CCAS d'Offemont", Article.LE),
        ("Conseil départemental", Article.LE),
        ("Point Santé Quartiers", Article.LE),
        ("EPIDE – centre de Belfort", Article.ELIDED),
        ("École de la 2e chance", Article.ELIDED),
        ("Les Jardins du Lion", Article.LES),
        ("La Passerelle", Article.LA),
        ("Le Relais", Article.LE),
        ("L'Escale", Article.ELIDED),
        ("France Travail", Article.NONE),
        ("Unis-Cité", Article.NONE),
        ("Mobilité 90", Article.NONE),
        ("Accès Droits 90", Article.NONE),  # a brand starting with a vowel
        ("Emmaüs Connect", Article.NONE),
        ("AFPA de Belfort", Article.ELIDED),  # an acronym starting with a vowel
        ("E2C Territoire de Belfort", Article.ELIDED),
        ("Association Relance", Article.ELIDED),
        ("Auto-école solidaire", Article.ELIDED),
        ("", Article.NONE),
    ],
)
def test_the_article_a_name_suggests(name: str, article: Article) -> None:
    assert guess_article(name) is article


def test_a_guessed_article_when_none_is_chosen() -> None:
    assert phrases("Le Relais", None, "fr").to == "au Relais"
    assert phrases("Mission Locale", None, "fr-FR").of == "de la Mission Locale"


def test_a_name_that_does_not_start_with_its_article_keeps_its_words() -> None:
    # "La" chosen for a name starting with "Le": the name is not cut.
    assert phrases("Le Bon Départ", Article.LA, "fr").the == "la Le Bon Départ"
    assert leading_article("Lesbos") is None
    assert leading_article("Les") is None


def test_names_sort_with_accents_and_case_folded() -> None:
    names = ["Ville", "École de la 2e chance", "epide", "EPIDE", "Conseil", "Éducation"]
    assert sorted(names, key=name_sort_key) == [
        "Conseil",
        "École de la 2e chance",
        "Éducation",
        "EPIDE",
        "epide",
        "Ville",
    ]
    assert fold("Élodie ÇA") == "elodie ca"
