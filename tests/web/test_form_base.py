"""The base of every form (app/web/form_base.py): single choices stripped before they are
validated, text bounded when a field does not say, numbers read as ASCII digits."""

from __future__ import annotations

import pytest
from babel import support
from flask import Flask, session
from werkzeug.datastructures import MultiDict
from wtforms import RadioField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.web.form_base import (
    TEXT_LIMIT,
    RelaisForm,
    WholeNumberField,
    id_choice,
    wtforms_catalogue,
)


class _Sample(RelaisForm):
    class Meta:
        csrf = False

    optional_choice = SelectField(
        choices=[SelectChoice("", "—"), SelectChoice("a", "A")], validators=[Optional()]
    )
    required_choice = RadioField(choices=[SelectChoice("a", "A")], validators=[DataRequired()])
    free = StringField()
    short = StringField(validators=[Length(max=5)])
    count = WholeNumberField(validators=[Optional()])
    person = SelectField(
        coerce=id_choice, choices=[SelectChoice(7, "Seven")], validators=[Optional()]
    )


def _form(app: Flask, **data: str) -> _Sample:
    with app.test_request_context(method="POST", data=data):
        form = _Sample(formdata=MultiDict(data))
        form.validate()
        return form


@pytest.mark.parametrize("blank", [" ", "  ", "\t"])
def test_a_blank_optional_choice_is_empty(app: Flask, blank: str) -> None:
    form = _form(app, optional_choice=blank, required_choice="a")
    assert not form.optional_choice.errors
    assert form.optional_choice.data == ""  # was " ": the view then failed on it


def test_a_padded_choice_is_the_choice_and_a_blank_required_one_an_error(app: Flask) -> None:
    assert _form(app, required_choice=" a ").required_choice.data == "a"
    assert _form(app, required_choice=" a ").required_choice.errors == []
    assert _form(app, required_choice=" ").required_choice.errors


def test_text_is_bounded_when_the_field_does_not_say(app: Flask) -> None:
    assert not _form(app, required_choice="a", free="x" * TEXT_LIMIT).free.errors
    assert _form(app, required_choice="a", free="x" * (TEXT_LIMIT + 1)).free.errors
    assert _form(app, required_choice="a", short="x" * 6).short.errors  # its own Length kept
    assert not _form(app, required_choice="a", short="x" * 5).short.errors


@pytest.mark.parametrize(("typed", "number"), [("12", 12), (" 12 ", 12), ("-4", -4), ("", None)])
def test_a_whole_number_in_ascii_digits(app: Flask, typed: str, number: int | None) -> None:
    form = _form(app, required_choice="a", count=typed)
    assert form.count.data == number
    assert not form.count.errors


@pytest.mark.parametrize("typed", ["²", "١٢", "１２", "9" * 400, "1_000", "1e3"])
def test_anything_else_is_a_form_error(app: Flask, typed: str) -> None:
    form = _form(app, required_choice="a", count=typed)
    assert form.count.data is None
    assert form.count.errors


@pytest.mark.parametrize(
    ("typed", "valid"), [("7", True), (" 7 ", True), ("²", False), ("9" * 400, False)]
)
def test_a_choice_of_ids_reads_ascii_digits(app: Flask, typed: str, valid: bool) -> None:
    form = _form(app, required_choice="a", person=typed)
    assert (not form.person.errors) is valid
    assert form.person.data == (7 if valid else None)


def test_wtforms_messages_are_read_once_per_language(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """WTForms' catalogue is read from disk once per process and language, not in every
    request that shows one of its messages (Flask-WTF's own lookup reads it per request)."""
    loads: list[str] = []
    original = support.Translations.load

    def counted(dirname: object, locales: object, domain: str) -> object:
        loads.append(domain)
        return original(dirname, locales, domain)  # type: ignore[arg-type]

    monkeypatch.setattr(support.Translations, "load", counted)
    wtforms_catalogue.cache_clear()
    for _request in range(2):
        errors = _form(app, required_choice="").required_choice.errors
        assert errors == ["Ce champ est requis."]  # French, the default language
    assert loads == ["wtforms"]
    with app.test_request_context(method="POST"):
        session["lang"] = "en"
        for _request in range(2):
            form = _Sample(formdata=MultiDict({"required_choice": ""}))
            form.validate()
            assert form.required_choice.errors == ["This field is required."]
    assert loads == ["wtforms", "wtforms"]
