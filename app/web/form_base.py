"""The base of every form of Relais, and the fields that read numbers.

``RelaisForm`` (and ``RelaisSubform`` for the forms nested in a ``FormField``):

* strips the value of every single choice (``SelectField``, ``RadioField``) before it is
  validated: ``" "`` is an empty choice (refused when the field is required), ``" code "`` is
  ``"code"``. Without it, ``Optional()`` let a blank choice through to the view as ``" "``;
* gives every text field without a ``Length`` of its own a ``Length(max=TEXT_LIMIT)``, so that
  no text of any size reaches a service unchecked (fields stored in a column of a given size
  declare that size themselves);
* translates WTForms' own messages ("This field is required.", the CSRF refusals) with its
  catalogue read once per process and language (``wtforms_catalogue``): Flask-WTF reads it
  from disk again in every request that translates one, which is every POST.

``WholeNumberField`` and ``id_choice`` read numbers with ``app.domain.numbers``: ASCII digits
only, bounded, a form error otherwise.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from babel import support
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    Form,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.i18n import messages_path
from wtforms.meta import DefaultMeta
from wtforms.validators import Length

from app.domain.numbers import read_id, read_int

# The longest text a field takes when it does not say (the longest text areas take 4,000).
TEXT_LIMIT = 4000


def strip_choice(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _single_choice(field_class: type) -> bool:
    return issubclass(field_class, SelectField | RadioField) and not issubclass(
        field_class, SelectMultipleField
    )


class _RelaisMeta(DefaultMeta):  # type: ignore[misc]
    def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
        if _single_choice(unbound_field.field_class):
            filters = [*unbound_field.kwargs.get("filters", ()), strip_choice]
            options = {**options, "filters": filters}
        field = super().bind_field(form, unbound_field, options)
        if isinstance(field, StringField) and not any(
            isinstance(v, Length) for v in field.validators
        ):
            field.validators = [*field.validators, Length(max=TEXT_LIMIT)]
        return field


@cache
def wtforms_catalogue(locale: str) -> support.Translations | support.NullTranslations:
    """WTForms' messages in ``locale``, read from WTForms' catalogues once per process."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class _RequestLanguage:
    """WTForms' translations object: the catalogue of the request's language."""

    def gettext(self, string: str) -> str:
        return str(wtforms_catalogue(str(get_locale() or "fr")).ugettext(string))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return str(wtforms_catalogue(str(get_locale() or "fr")).ungettext(singular, plural, n))


_REQUEST_LANGUAGE = _RequestLanguage()


class RelaisForm(FlaskForm):  # type: ignore[misc]
    """A Flask-WTF form (CSRF token): single choices stripped, text bounded, WTForms'
    messages from a catalogue read once (see above)."""

    class Meta(_RelaisMeta):
        def get_translations(self, form: Any) -> Any:
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return _REQUEST_LANGUAGE


class RelaisSubform(Form):  # type: ignore[misc]
    """A form nested in a ``FormField`` (no CSRF token of its own), the same rules."""

    class Meta(_RelaisMeta):
        pass


class WholeNumberField(IntegerField):  # type: ignore[misc]
    """An ``IntegerField`` that reads ASCII digits only (``app.domain.numbers.read_int``):
    ``"²"``, ``"١٢"`` or a 400-digit number are a form error, never an overflow."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        raw = valuelist[0]
        self.data = read_int(raw) if isinstance(raw, str) else None
        if self.data is None:
            raise ValueError(_l("Enter a whole number written with the digits 0 to 9."))


def id_choice(value: object) -> int:
    """``coerce`` of a choice of database ids: ``ValueError`` (a form error) unless ASCII
    digits within the database's range."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    found = read_id(value if isinstance(value, str) else None)
    if found is None:
        raise ValueError("not a database id")  # WTForms shows its own "Invalid choice"
    return found
