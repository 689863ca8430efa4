"""An account's professional contact details: the work phone partners see beside the name and
the work e-mail (the login) when the account is a person's referent."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import Length

from app.services.errors import ServiceError
from app.services.people import referents
from app.unit_of_work import attempt
from app.web.auth.views import bp
from app.web.context import actor, dbs
from app.web.form_base import RelaisForm
from app.web.forms_support import service_message


class ContactForm(RelaisForm):
    work_phone = StringField(
        _l("Work phone"),
        validators=[Length(max=32)],
        description=_l("Shown to partners when you are a person's referent. Leave empty to hide."),
    )


@bp.route("/account/contact", methods=["GET", "POST"])
def contact() -> ResponseReturnValue:
    user = actor()
    form = ContactForm()
    if not form.is_submitted():
        form.work_phone.data = user.work_phone or ""
    if form.validate_on_submit():
        try:
            with attempt():
                referents.set_work_phone(dbs(), user, user, form.work_phone.data)
        except ServiceError as exc:
            form.work_phone.errors = [*form.work_phone.errors, service_message(exc)]
        else:
            flash(_("Your contact details are recorded."), "success")
            return redirect(url_for("auth.contact"))
    return render_template("auth/contact.html", form=form, user=user)
