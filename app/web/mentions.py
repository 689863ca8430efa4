"""The warning before a free text that names the person is saved (a hand-off note, the message
of an answer or a reminder, a step's action): a confirm step, like the possible duplicate of a
registration.

A form with such a text carries a ``KeepTextField``. The view calls ``names_the_person``
after the form's own checks and before saving: when the text names the person (see
``app.domain.mentions``) and the box is not ticked, the text field gets the warning as its
error, saying what was found, the page shows the form again with the text as typed and the box
("Save the text as it is"), and nothing is saved. The caseworker edits the text, or ticks the
box and saves again.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field

from app.domain.mentions import Mention, MentionKind
from app.models import Beneficiary
from app.services.people.mentions import identity_mentions
from app.web.context import actor, dbs, today, vault

KIND_LABELS = {
    MentionKind.LAST_NAME: _l("the last name"),
    MentionKind.FIRST_NAME: _l("the first name"),
    MentionKind.PHONE: _l("the phone number"),
    MentionKind.EMAIL: _l("the e-mail address"),
    MentionKind.BIRTH_DATE: _l("the birth date"),
}


class KeepTextField(BooleanField):  # type: ignore[misc]
    """The box that keeps a text naming the person; shown once the warning was given."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(
            _l("Save the text as it is: it has to name the person"),
            description=_l(
                "Partners read this text, some before they may see the person's identity."
            ),
            **kwargs,
        )


def warning(mentions: list[Mention]) -> str:
    """What the text field says when it names the person: what was found, and the way out."""
    found: list[str] = []
    for mention in mentions:
        item: str = _("%(what)s (“%(text)s”)", what=KIND_LABELS[mention.kind], text=mention.excerpt)
        if item not in found:
            found.append(item)
    message: str = _(
        "This text seems to name the person: %(found)s. Partners may read it before they may "
        "see the identity. Remove it, or tick “Save the text as it is” and save again.",
        found=", ".join(found),
    )
    return message


def names_the_person(form: FlaskForm, person: Beneficiary, text: Field) -> bool:
    """Whether saving must wait: ``text`` names ``person`` and the form's ``keep_text`` box is
    not ticked. The field then carries the warning (the caller shows the form again)."""
    keep: KeepTextField = form.keep_text
    if keep.data:
        return False
    found = identity_mentions(dbs(), vault(), actor(), person, [text.data], today=today())
    if not found:
        return False
    text.errors = [*text.errors, warning(found)]
    form.mentions_found = True
    return True
