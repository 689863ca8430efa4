"""French that reads as French: a structure's name with its article, in the forms a sentence
needs ("la Mission Locale", "à la Mission Locale", "au CCAS", "aux Petits Pas", "de l'EPIDE",
"du CCAS", "des Petits Pas"), and names sorted with their accents folded.

Each structure may carry its article (``Structure.article``, chosen by an administrator);
without one, ``guess_article`` derives it from the name. English has no such forms: every
phrase is the bare name there, the English sentence carrying its own "to" or "of".
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class Article(StrEnum):
    """The definite article a structure's name takes in a French sentence."""

    LE = "le"  # le CCAS, au CCAS, du CCAS
    LA = "la"  # la Mission Locale, à la Mission Locale, de la Mission Locale
    ELIDED = "l"  # l'EPIDE, à l'EPIDE, de l'EPIDE
    LES = "les"  # les Petits Pas, aux Petits Pas, des Petits Pas
    NONE = "none"  # France Travail, à France Travail, de France Travail (d'Unis-Cité)


# The article as written before a name, and after "à" and "de" (contracted where French does).
_WRITTEN: dict[Article, tuple[str, str, str]] = {
    Article.LE: ("le ", "au ", "du "),
    Article.LA: ("la ", "à la ", "de la "),
    Article.ELIDED: ("l'", "à l'", "de l'"),
    Article.LES: ("les ", "aux ", "des "),
    Article.NONE: ("", "à ", "de "),
}

# Words a name may begin with, by the article they take (folded: lower case, no accents).
# Vowel-initial words take "l'" anyway; these lists settle the others, and the acronyms.
_FEMININE = frozenset(
    {
        "mission",
        "maison",
        "mairie",
        "ville",
        "prefecture",
        "plateforme",
        "permanence",
        "communaute",
        "caf",
        "cpam",
        "mlds",
        "fondation",
        "regie",
        "residence",
        "boutique",
        "creche",
        "halte",
        "direction",
        "delegation",
        "coordination",
        "cite",
    }
)
_MASCULINE = frozenset(
    {
        "conseil",
        "centre",
        "ccas",
        "cias",
        "cio",
        "csapa",
        "plie",
        "point",
        "pole",
        "service",
        "secours",
        "foyer",
        "comite",
        "groupement",
        "departement",
        "relais",
        "bureau",
        "club",
        "garage",
        "chantier",
        "collectif",
        "reseau",
        "pimms",
        "cada",
        "chrs",
    }
)
# Vowel-initial nouns that take "l'" ("l'École", "l'Association..."); any other word starting
# with a vowel takes "l'" only as an acronym ("l'EPIDE", "l'AFPA"), since brand names starting
# with a vowel usually go without ("Unis-Cité", "Emmaüs", "Accès Droits 90").
_ELIDED = frozenset(
    {
        "ecole",
        "association",
        "agence",
        "antenne",
        "atelier",
        "espace",
        "entreprise",
        "epicerie",
        "etablissement",
        "equipe",
        "union",
        "institut",
        "office",
        "accueil",
        "amicale",
        "unite",
        "observatoire",
        "auto",
    }
)
_VOWELS = frozenset("aeiouy")
_LEADING: tuple[tuple[str, Article], ...] = (
    ("les ", Article.LES),
    ("le ", Article.LE),
    ("la ", Article.LA),
    ("l'", Article.ELIDED),
)


def fold(text: str) -> str:
    """``text`` in lower case without accents, for comparing and sorting names
    ("École" sorts with "ecole", between "Droit" and "Famille")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def name_sort_key(name: str) -> tuple[str, str]:
    """Sort names alphabetically with accents and case folded (the name itself breaks ties)."""
    return (fold(name).strip(), name)


def _straight(text: str) -> str:
    return text.replace("\u2019", "'")


def leading_article(name: str) -> Article | None:
    """The article a name starts with ("Les Petits Pas" → ``LES``), or ``None``."""
    folded = fold(_straight(name)).lstrip()
    for written, article in _LEADING:
        if folded.startswith(written) and len(folded) > len(written):
            return article
    return None


def guess_article(name: str) -> Article:
    """The article a name most likely takes when nobody chose one.

    A name that starts with its article keeps it; otherwise its first word decides: a known
    feminine or masculine word ("Mission" → la, "Conseil", "CCAS" → le), a known noun or an
    acronym starting with a vowel ("École", "EPIDE" → l'); anything else takes none ("France
    Travail", "Cap emploi", "Accès Droits 90"), which is never wrong French, only sometimes
    less natural.
    """
    leading = leading_article(name)
    if leading is not None:
        return leading
    written = _straight(name).replace("-", " ").replace("'", " ").split()
    if not written:
        return Article.NONE
    first = fold(written[0])
    if first in _FEMININE:
        return Article.LA
    if first in _MASCULINE:
        return Article.LE
    acronym = len(written[0]) > 1 and written[0].isupper()
    if first in _ELIDED or (acronym and first[0] in _VOWELS):
        return Article.ELIDED
    return Article.NONE


def _bare(name: str, article: Article) -> str:
    """The name without the article it starts with, if it starts with ``article``."""
    if leading_article(name) is not article:
        return name.strip()
    cut = 2 if article is Article.ELIDED else len(_WRITTEN[article][0])
    return name.lstrip()[cut:].lstrip()


@dataclass(frozen=True, slots=True)
class StructurePhrases:
    """A structure's name as sentences need it, in one language.

    ``the``: subject or object ("la Mission Locale"); ``to``: after "à" ("au CCAS");
    ``of``: after "de" ("des Petits Pas"); ``The``: ``the`` at the start of a sentence.
    In English the four are the name.
    """

    the: str
    to: str
    of: str

    @property
    def The(self) -> str:  # noqa: N802 - the capital says what it is for
        return self.the[:1].upper() + self.the[1:]

    def __str__(self) -> str:
        return self.the


def phrases(name: str, article: Article | None, locale: str) -> StructurePhrases:
    """The forms of ``name`` for sentences in ``locale`` (``article`` ``None``: guessed)."""
    if not locale.startswith("fr"):
        return StructurePhrases(name, name, name)
    chosen = article if article is not None else guess_article(name)
    bare = _bare(name, chosen)
    the, to, of = _WRITTEN[chosen]
    if chosen is Article.NONE and bare[:1] and fold(bare[:1]) in _VOWELS:
        of = "d'"
    return StructurePhrases(the + bare, to + bare, of + bare)
