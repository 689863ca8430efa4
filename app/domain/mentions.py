"""Does a free text name the person it is about? The rule behind the warning shown before a
note, a message or a step's action is saved (``docs/security.md``, "Free texts").

Free texts travel: a hand-off note is read by a partner before it may see the identity, a
step's action by every partner on the pathway. ``find_mentions`` looks in a text for the
person's own identity, in the spellings people type:

- **names**, last and first, as whole words, in any case, with or without accents, with
  hyphens, apostrophes or spaces, or none ("Jean-Pierre", "jean pierre", "JEANPIERRE";
  "N'Diaye", "ndiaye"); each part of a compound name on its own too ("Jean" of
  "Jean-Pierre"), when it has at least three letters. A name, or a part, that is also an
  ordinary French word ("Rose", "Petit", "Blanc", "Pierre", "Claire") counts only when it is
  written as a name: with a capital (or in capitals) away from the start of a sentence, or
  next to the person's other name ("Marie Rose"). "Une écharpe rose" does not fire;
  "j'ai vu Rose hier" does. A part inside a longer word never fires ("Marie" in
  "Mariette");
- **phone**: the same last nine digits, written with spaces, dots, dashes or none, from
  0, +33, 0033 or +33 (0);
- **e-mail**: the address in any case (spaces around the @ allowed), or its part before the
  @ as a word of its own when it has at least five characters;
- **birth date**: day, month and year in any order French writes them: 12/03/2004,
  12-03-2004, 12.03.04, 2004-03-12, 12 mars 2004, 1er mars 2004, 12 March 2004. A day and
  month without the year, or a year alone, do not fire.

Pure: no database, no keys; the service (``app/services/people/mentions.py``) decrypts the
identity and calls it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from app.domain.french import fold


class MentionKind(StrEnum):
    LAST_NAME = "last_name"
    FIRST_NAME = "first_name"
    PHONE = "phone"
    EMAIL = "email"
    BIRTH_DATE = "birth_date"


@dataclass(frozen=True, slots=True)
class IdentityTerms:
    """What a text is checked against (values in clear, for the length of one check)."""

    last_name: str = ""
    first_name: str = ""
    phone: str | None = None  # E.164 or as typed
    email: str | None = None
    birth_date: date | None = None

    def __repr__(self) -> str:
        return "IdentityTerms(<hidden>)"


@dataclass(frozen=True, slots=True)
class Mention:
    kind: MentionKind
    excerpt: str  # as written in the text


# Ordinary French words that are also first or last names, and the small words of the
# language (a person named "Le" or "Da" is not found in every sentence).
_WORDS = """
    a au aux ce ces da de des di do du elle en et il je la le les lui ma me mes mon ne ni
    nous on ou par pas pour qui sa se ses si son sur ta te tes ton tu un une vous y aime
    aimee ange aurore avril ambre amour baron beau bel belle berger bien blanc blanche bois
    bon bonne boulanger boucher brun brune carre celeste chevalier claire clement colombe
    constance constant desire dore doux fidele fleur fontaine forestier france franc franche
    gaillard garcon gay germain grace grand gros hardi hermine honore innocent iris jade
    joli jolie juste lion loup lune maire marchand marin masse mercier meunier modeste noel
    noir olive olivier page paris parfait patience perle petit petite pierre pieds pommier
    prince prosper prudence renard riviere roi roux rose rosier sage saint salle simple
    soleil tonnelier vaillant verger victoire vigne violette
"""
COMMON_WORDS = frozenset(_WORDS.split())
_MIN_PART = 3
_TOKEN = re.compile(r"[^\W_]+")
_SENTENCE_END = frozenset(".!?:;\n")


@dataclass(frozen=True, slots=True)
class _Token:
    folded: str
    start: int
    end: int
    capitalised: bool
    opens_sentence: bool


def _tokens(text: str) -> list[_Token]:
    tokens = []
    for match in _TOKEN.finditer(text):
        word = match.group()
        before = text[: match.start()].rstrip(" \t\"«(\u00a0'-\u2019")
        tokens.append(
            _Token(
                folded=fold(word),
                start=match.start(),
                end=match.end(),
                capitalised=word[:1].isupper(),
                opens_sentence=not before or before[-1] in _SENTENCE_END,
            )
        )
    return tokens


def _name_words(name: str) -> list[str]:
    return [fold(part) for part in _TOKEN.findall(name or "")]


def _spans(tokens: list[_Token], target: str) -> list[tuple[int, int]]:
    """Runs of whole tokens whose letters, put together, are ``target`` (first and last
    token index); "jean pierre", "jean-pierre" and "jeanpierre" all give "jeanpierre"."""
    spans = []
    for first in range(len(tokens)):
        joined = ""
        for last in range(first, len(tokens)):
            joined += tokens[last].folded
            if joined == target:
                spans.append((first, last))
            if len(joined) >= len(target) or not target.startswith(joined):
                break
    return spans


def _written_as_name(tokens: list[_Token], span: tuple[int, int], other: set[int]) -> bool:
    first = tokens[span[0]]
    if first.capitalised and not first.opens_sentence:
        return True
    return span[0] - 1 in other or span[1] + 1 in other


def _name_mentions(tokens: list[_Token], name: str, other_name: str) -> list[tuple[int, int]]:
    words = _name_words(name)
    if not words:
        return []
    targets = {"".join(words)} | {w for w in words if len(w) >= _MIN_PART and len(words) > 1}
    other_tokens = {
        index
        for target in {"".join(_name_words(other_name))} | set(_name_words(other_name))
        if target
        for s in _spans(tokens, target)
        for index in range(s[0], s[1] + 1)
    }
    found = []
    for target in targets:
        for span in _spans(tokens, target):
            if target not in COMMON_WORDS or _written_as_name(tokens, span, other_tokens):
                found.append((tokens[span[0]].start, tokens[span[1]].end))
    return found


_PHONE_GROUP = re.compile(r"\+?\d+")
_PHONE_GAP = re.compile(r"[\s.\-/()]{0,3}")


def _phone_mentions(text: str, phone: str) -> list[tuple[int, int]]:
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 9:
        return []
    tail = digits[-9:]
    groups = list(_PHONE_GROUP.finditer(text))
    found = []
    for i in range(len(groups)):
        joined = ""
        for j in range(i, len(groups)):
            if j > i and not _PHONE_GAP.fullmatch(text[groups[j - 1].end() : groups[j].start()]):
                break
            joined += groups[j].group().lstrip("+")
            if len(joined) >= 9 and joined.endswith(tail) and _phone_prefix(joined[:-9]):
                found.append((groups[i].start(), groups[j].end()))
            if len(joined) >= 13:
                break
    return found


def _phone_prefix(prefix: str) -> bool:
    """What may stand before the nine digits: nothing, the trunk 0, or a country code
    (33, 0033, 33 and the trunk 0 of "+33 (0)6...")."""
    return len(prefix) <= 5


def _email_mentions(text: str, email: str) -> list[tuple[int, int]]:
    address = email.strip().casefold()
    local, _at, domain = address.partition("@")
    if not local or not domain:
        return []
    patterns = [re.escape(local) + r"\s*@\s*" + re.escape(domain)]
    if len(local) >= 5:
        patterns.append(r"(?<![\w.+-])" + re.escape(local) + r"(?![\w+-]|\.\w)")
    found = []
    for pattern in patterns:
        found += [m.span() for m in re.finditer(pattern, text, re.IGNORECASE)]
    return found


MONTHS: dict[str, int] = {
    name: number
    for number, names in enumerate(
        (
            ("janvier", "janv", "january", "jan"),
            ("fevrier", "fevr", "fev", "february", "feb"),
            ("mars", "march", "mar"),
            ("avril", "avr", "april", "apr"),
            ("mai", "may"),
            ("juin", "june", "jun"),
            ("juillet", "juil", "july", "jul"),
            ("aout", "august", "aug"),
            ("septembre", "sept", "september", "sep"),
            ("octobre", "oct", "october"),
            ("novembre", "nov", "november"),
            ("decembre", "dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_SEP = r"\s*[/.\-]\s*"
_DAY_FIRST = re.compile(
    rf"(?<!\d)(\d{{1,2}})(?:{_SEP}(\d{{1,2}}){_SEP}(\d{{4}}|\d{{2}})"
    rf"|\s+(\d{{1,2}})\s+(\d{{4}}))(?!\d)"
)
_YEAR_FIRST = re.compile(rf"(?<!\d)(\d{{4}}){_SEP}(\d{{1,2}}){_SEP}(\d{{1,2}})(?!\d)")
_IN_WORDS = re.compile(
    r"(?<!\d)(\d{1,2})(?:er)?\s+(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
    r",?\s+(\d{4}|\d{2})(?!\d)"
)


def _same_year(written: str, year: int) -> bool:
    return int(written) == (year if len(written) == 4 else year % 100)


def _date_mentions(text: str, born: date) -> list[tuple[int, int]]:
    # Folded one character for one, so that positions in it are positions in the text.
    folded = "".join(fold(ch)[:1] or ch for ch in text)
    found = []
    for m in _DAY_FIRST.finditer(folded):
        day, month, year = m.group(1), m.group(2) or m.group(4), m.group(3) or m.group(5)
        if (int(day), int(month)) == (born.day, born.month) and _same_year(year, born.year):
            found.append(m.span())
    for m in _YEAR_FIRST.finditer(folded):
        year, month, day = m.groups()
        if (int(day), int(month), int(year)) == (born.day, born.month, born.year):
            found.append(m.span())
    for m in _IN_WORDS.finditer(folded):
        day, month, year = m.groups()
        if (int(day), MONTHS[month]) == (born.day, born.month) and _same_year(year, born.year):
            found.append(m.span())
    return found


def find_mentions(text: str | None, terms: IdentityTerms) -> list[Mention]:
    """Every place where ``text`` names the person of ``terms`` (see the module's rules), in
    the order of the kinds: last name, first name, phone, e-mail, birth date."""
    if not text or not text.strip():
        return []
    tokens = _tokens(text)
    spans: list[tuple[int, int, MentionKind]] = []
    for kind, name, other in (
        (MentionKind.LAST_NAME, terms.last_name, terms.first_name),
        (MentionKind.FIRST_NAME, terms.first_name, terms.last_name),
    ):
        spans += [(a, b, kind) for a, b in _name_mentions(tokens, name, other)]
    if terms.phone:
        spans += [(a, b, MentionKind.PHONE) for a, b in _phone_mentions(text, terms.phone)]
    if terms.email:
        spans += [(a, b, MentionKind.EMAIL) for a, b in _email_mentions(text, terms.email)]
    if terms.birth_date is not None:
        spans += [(a, b, MentionKind.BIRTH_DATE) for a, b in _date_mentions(text, terms.birth_date)]
    # A mention inside a longer one is the same place ("marie" in "marie.rose92@...").
    kept = {
        (a, b, kind)
        for a, b, kind in spans
        if not any(c <= a and b <= d and (c, d) != (a, b) for c, d, _k in spans)
    }
    order = list(MentionKind)
    return [
        Mention(kind, text[a:b])
        for a, b, kind in sorted(kept, key=lambda s: (order.index(s[2]), s[0]))
    ]


def mentioned_kinds(mentions: list[Mention]) -> list[MentionKind]:
    """The kinds found, each once, in the order of ``MentionKind``."""
    kinds = {m.kind for m in mentions}
    return [kind for kind in MentionKind if kind in kinds]
