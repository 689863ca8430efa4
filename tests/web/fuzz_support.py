"""What the fuzz test (tests/web/test_fuzz.py) knows of the application, read from it.

* ``routes``: every route of ``app.url_map`` with its methods and path arguments;
* ``PageReader``: the forms (action, method, fields, options) and the links of a page;
* ``read_parameters``: the query and form parameters the views read by name
  (``request.args.get("page")``...), found in the source of ``app/web``;
* ``values``: the Hypothesis strategy of the values sent (NUL and control characters, other
  scripts' digits, spaces around a valid choice, 400-digit numbers, very long text...).

Nothing here lists the routes or the forms by hand: a new route, form or field is fuzzed as
soon as it exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from flask import Flask
from hypothesis import strategies as st

WEB_SOURCE = Path(__file__).resolve().parents[2] / "app" / "web"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Route:
    endpoint: str
    rule: str
    methods: tuple[str, ...]
    arguments: tuple[str, ...]


def routes(app: Flask) -> list[Route]:
    """Every route of the application, with the methods it answers (HEAD and OPTIONS aside)."""
    found = []
    for rule in app.url_map.iter_rules():
        methods = tuple(sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}))
        found.append(Route(rule.endpoint, rule.rule, methods, tuple(sorted(rule.arguments))))
    return sorted(found, key=lambda r: (r.endpoint, r.rule))


@dataclass
class FormField:
    name: str
    kind: str  # text, select, radio, checkbox, file, hidden, textarea, submit...
    options: list[str] = field(default_factory=list)
    default: str = ""


@dataclass
class PageForm:
    action: str
    method: str
    fields: dict[str, FormField] = field(default_factory=dict)


class PageReader(HTMLParser):
    """The ``<form>`` elements of a page with their fields, and the targets of its links."""

    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[PageForm] = []
        self.links: list[str] = []
        self._form: PageForm | None = None
        self._select: FormField | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href", "").startswith("/"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = PageForm(a.get("action") or self.page_url, (a.get("method") or "get"))
            self.forms.append(self._form)
        elif self._form is not None and "name" in a:
            self._field(tag, a)
        elif tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))

    def _field(self, tag: str, a: dict[str, str]) -> None:
        assert self._form is not None
        kind = {"select": "select", "textarea": "textarea"}.get(tag, a.get("type", "text"))
        if tag == "button":
            kind = "submit"
        known = self._form.fields.setdefault(a["name"], FormField(a["name"], kind))
        if kind in ("radio", "checkbox", "submit"):
            known.options.append(a.get("value", "y"))
        elif "value" in a:
            known.default = a["value"]
        if tag == "select":
            self._select = known

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def read_page(url: str, html: str) -> PageReader:
    reader = PageReader(url)
    reader.feed(html)
    return reader


_READ_BY_NAME = re.compile(
    r"request\.(args|form|values)(?:\.get(?:list)?\(|\[)\s*[\"'](\w+)[\"']|"
    r"(?:MARKER|_PARAMETER)\s*=\s*[\"'](\w+)[\"']"
)


def read_parameters() -> set[str]:
    """The names of the parameters the views read from the query string or the form."""
    names = set()
    for source in WEB_SOURCE.rglob("*.py"):
        for match in _READ_BY_NAME.finditer(source.read_text(encoding="utf-8")):
            names.add(match.group(2) or match.group(3))
    return names


def query_of(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


# -- values -------------------------------------------------------------------------------------

# Values refused as a whole by app/web/request_guard.py (a 400 before any view).
CONTROL = ("\x00", "a\x00b", "\x01", "\x1b[31m", "\x7f", "%00\x00", "\x0b", "\x1f")
# Values that reach the views and their forms.
NASTY = (
    "",
    " ",
    "\t",
    "\r\n",
    "²",
    "١٢",
    "１２",
    "٣٠/١٢/٢٠٢٦",
    "9" * 400,
    "-" + "9" * 400,
    "-1",
    "0",
    "2147483648",
    "-2147483649",
    "9223372036854775808",
    "1e10",
    "NaN",
    "1_000",
    "0x10",
    "é" * 300,
    "🙂" * 200,
    "\u202eevil",
    "\ufeff",
    "e\u0301",
    "\u200b",
    "\x85",
    "null",
    "None",
    "[]",
    "{}",
    "' OR 1=1 --",
    '"><script>x</script>',
    "../../etc/passwd",
    "%00",
    "2026-02-30",
    "0000-00-00",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "31/12/2026",
    "2026-11-25T10:00",
    "a@b",
    "+33 6 12 34 56 78",
)
# Text with no C0 control character or DEL (and no lone surrogate, which cannot be sent).
_TYPABLE = st.characters(
    blacklist_categories=("Cs",),
    blacklist_characters=[chr(c) for c in [*range(32), 127] if chr(c) not in "\t\n\r"],
)


def long_text() -> st.SearchStrategy[str]:
    """Text longer than any column or ``Length`` (the form parser's limit included)."""
    return st.builds(
        lambda n, ch: ch * n, st.sampled_from([300, 1_100, 5_000, 70_000]), st.sampled_from("xé9 ")
    )


def values(valid: list[str], control: bool = False) -> st.SearchStrategy[str]:
    """A value for a field or parameter whose valid values (options, default) are ``valid``;
    with ``control``, most often one holding a control character."""
    nasty = st.sampled_from(NASTY) | long_text() | st.text(_TYPABLE, max_size=30)
    good = st.sampled_from(valid) if valid else nasty
    plain = st.one_of(good, good, good, nasty, good.map(lambda v: f" {v} ")) if valid else nasty
    if not control:
        return plain
    dirty = st.sampled_from(CONTROL) | good.map(lambda v: v + "\x00") | st.text(max_size=10)
    return st.one_of(dirty, dirty, plain)


def path_values(valid: list[str]) -> st.SearchStrategy[str]:
    """A path argument: mostly a real id of the test world (the page exists), sometimes not."""
    good = st.sampled_from(valid)
    wrong = st.sampled_from(["9" * 400, "2147483648", "0", "²", " ", "x" * 300, "%00"])
    return st.one_of(good, good, good, wrong)


def fill_path(rule: str, arguments: dict[str, str]) -> str:
    """``rule`` with its ``<converter:name>`` parts replaced (values already URL-safe)."""

    def replace(match: re.Match[str]) -> str:
        return arguments[match.group(1)]

    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", replace, rule)


def url_safe(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def pairs(mapping: dict[str, list[str]]) -> Iterator[tuple[str, str]]:
    for name, items in mapping.items():
        for item in items:
            yield name, item
