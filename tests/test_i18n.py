"""The French catalog: complete, faithful to its placeholders, compiled, and used by the pages.

French is the default language and the source strings are English, so a message missing from
``app/translations/fr/LC_MESSAGES/messages.po`` shows up in English on a French page. These
tests extract the messages afresh from ``app/`` and ``templates/`` (same mapping and keywords
as the command in docs/translations.md) and compare them with the committed catalog.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "app" / "translations"
MAPPING = TRANSLATIONS / "babel.cfg"
FR_PO = TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po"
FR_MO = TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.mo"
# Besides Babel's defaults (_, gettext, ngettext, ...): lazy strings and the services' no-op marker.
KEYWORDS = ("_l", "N_", "lazy_gettext")
SOURCE_DIRS = ("app", "templates")

# A printf conversion: %(name)s, %(num)d, %s, %%... Any other "%" is a stray one.
CONVERSION = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]"
)


def _text(value: str | tuple[str, ...] | None) -> tuple[str, ...]:
    """A message id or string as a tuple of forms (one form unless plural)."""
    if value is None:
        return ("",)
    return (value,) if isinstance(value, str) else tuple(value)


def _key(message: Message) -> str:
    return _text(message.id)[0]


def _translated(catalog: Catalog) -> Iterator[Message]:
    """The catalog's messages, without the header entry."""
    return (message for message in catalog if message.id)


def _conversions(text: str) -> set[str]:
    """Every printf conversion in ``text``, written in full (``%(num)d``, ``%%``...)."""
    return {match.group(0) for match in CONVERSION.finditer(text)}


def _stray_percent(text: str) -> bool:
    return "%" in CONVERSION.sub("", text)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The messages of app/ and templates/, extracted now with the documented command."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    arguments = ["pybabel", "--quiet", "extract", "-F", str(MAPPING)]
    for keyword in KEYWORDS:
        arguments += ["-k", keyword]
    arguments += ["--sort-output", "-o", str(pot), *(str(ROOT / d) for d in SOURCE_DIRS)]
    CommandLineInterface().run(arguments)
    with pot.open("rb") as stream:
        return read_po(stream)


@pytest.fixture(scope="module")
def french() -> Catalog:
    with FR_PO.open("rb") as stream:
        return read_po(stream, locale="fr")


def test_extraction_finds_messages_of_code_and_templates(extracted: Catalog) -> None:
    """Guards the mapping: an extraction that finds nothing would make every check pass."""
    ids = {_key(message) for message in _translated(extracted)}
    assert len(ids) > 100
    assert "Sign in to Relais" in ids  # a template
    assert "E-mail address" in ids  # a lazy form label in app/web
    assert "This password is too common; choose another." in ids  # N_() in app/services
    assert any(message.pluralizable for message in _translated(extracted))  # ngettext


# A call of a translation function, as the extraction looks for them.
TRANSLATION_CALL = re.compile(r"\b(_|_l|N_|gettext|ngettext|lazy_gettext|pgettext)\(")


def test_no_translation_call_hides_in_an_f_string() -> None:
    """The extraction reads an f-string as one string token: a ``_("...")`` inside one is never
    extracted, and its text shows in English on French pages ("(days)" in a French export)."""
    hidden = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        with path.open("rb") as source:
            for token in tokenize.tokenize(source.readline):
                prefix = token.string[: len(token.string) - len(token.string.lstrip("rRbBuUfF"))]
                f_string = token.type == tokenize.STRING and "f" in prefix.lower()
                if f_string and TRANSLATION_CALL.search(token.string):
                    hidden.append(f"{path.relative_to(ROOT)}:{token.start[0]}")
    assert not hidden, f"translation calls inside f-strings (not extracted): {hidden}"


def test_french_catalog_is_complete(extracted: Catalog, french: Catalog) -> None:
    assert french.num_plurals == 2
    missing, untranslated, fuzzy = [], [], []
    for message in _translated(extracted):
        entry = french.get(message.id, message.context)
        if entry is None:
            missing.append(_key(message))
            continue
        forms = _text(entry.string)
        expected_forms = french.num_plurals if message.pluralizable else 1
        if len(forms) != expected_forms or not all(form.strip() for form in forms):
            untranslated.append(_key(message))
        if entry.fuzzy:
            fuzzy.append(_key(message))
    fuzzy += [_key(m) for m in _translated(french) if m.fuzzy and _key(m) not in fuzzy]
    assert not missing, f"not in fr/messages.po (run pybabel update): {missing}"
    assert not untranslated, f"empty translation in fr/messages.po: {untranslated}"
    assert not fuzzy, f"fuzzy (to review, then drop the flag): {fuzzy}"


def test_translations_keep_the_placeholders(french: Catalog) -> None:
    wrong = []
    for message in _translated(french):
        ids = _text(message.id)
        expected = set().union(*(_conversions(form) for form in ids))
        for form in _text(message.string):
            if not form:
                continue  # reported by the completeness test
            if _conversions(form) != expected or _stray_percent(form):
                wrong.append((ids[0], form))
    assert not wrong, f"placeholders differ between msgid and msgstr: {wrong}"


def test_translations_can_be_formatted(french: Catalog) -> None:
    """Templates always apply ``%`` to a translation, even without variables."""
    for message in _translated(french):
        names = {m.group("name") for m in CONVERSION.finditer(" ".join(_text(message.id)))}
        values = {name: 1 for name in names if name}
        for form in _text(message.string):
            form % values  # noqa: B018 - raises on a broken conversion


def test_committed_mo_matches_the_po(tmp_path: Path, french: Catalog) -> None:
    """messages.mo is committed: it must be the compilation of messages.po as it stands."""
    compiled = tmp_path / "messages.mo"
    with compiled.open("wb") as stream:
        write_mo(stream, french)  # what "pybabel compile" does (fuzzy entries left out)
    with compiled.open("rb") as stream:
        fresh = read_mo(stream)
    assert FR_MO.is_file(), "run: .venv/bin/pybabel compile -d app/translations"
    committed = read_mo(io.BytesIO(FR_MO.read_bytes()))

    def content(catalog: Catalog) -> dict[tuple[str | None, tuple[str, ...]], tuple[str, ...]]:
        return {(m.context, _text(m.id)): _text(m.string) for m in catalog}

    assert content(committed) == content(fresh), (
        "messages.mo is stale; run: .venv/bin/pybabel compile -d app/translations"
    )
    assert committed.plural_forms == fresh.plural_forms


class _CsrfFinder(HTMLParser):
    """Reads the value of the first hidden input named csrf_token."""

    def __init__(self) -> None:
        super().__init__()
        self.token: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("name") == "csrf_token" and self.token is None:
            self.token = found.get("value")


def _csrf_token(page: str) -> str:
    finder = _CsrfFinder()
    finder.feed(page)
    assert finder.token, "no hidden csrf_token input on the page"
    return finder.token


def test_login_page_is_french_by_default_and_english_on_request(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Se connecter à Relais" in page
    assert "Adresse e-mail" in page  # a lazy form label
    assert "Mot de passe" in page
    assert "Sign in" not in page

    response = client.post(
        "/language", data={"csrf_token": _csrf_token(page), "lang": "en", "next": "/login"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")

    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Sign in to Relais" in page
    assert "E-mail address" in page
    assert "Se connecter" not in page
