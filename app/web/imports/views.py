"""Caseworkers: import the people their structure already follows from a spreadsheet (.xlsx,
.ods) or a CSV file (the service tells them apart by their bytes).

One POST checks the file and, if every line is valid, imports it at once (stateless: nothing
is kept between two requests, so no personal data waits on disk or in a cookie). When possible
duplicates are found, nothing is imported and the page asks to send the file again with the
"import anyway" box ticked. The upload is kept in memory (never in a temporary file) and
limited in size before it is read; a larger one gets a clear message, not an error page.

The confirmation is bound to the file whose duplicates were shown: the page carries a MAC of
that file's bytes (keyed with the application's secret key, so it tells nothing about the
file), and "import anyway" applies only to a file with the same MAC. Another file sent with
the box ticked is checked as a new one, its own duplicates shown before anything is imported.

The form carries a one-time token (``app/web/submissions.py``), kept through the
confirmation step: the same form sent again after its file was imported (a double click, the
browser's resend of "import anyway") imports nothing and shows the first import's result, read
back from its audit event (``imports.past_import``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from io import BytesIO
from typing import IO, Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask import session as web_session
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from wtforms import BooleanField, HiddenField

from app.domain.roles import Role
from app.services import imports
from app.services.imports import ImportResult, Problem
from app.services.submissions import AlreadySubmitted, fulfil
from app.unit_of_work import attempt
from app.web import submissions
from app.web.context import actor, dbs, roles_required, today, vault
from app.web.form_base import RelaisForm
from app.web.submissions import SubmissionField

bp = Blueprint("imports", __name__, url_prefix="/import")
log = logging.getLogger(__name__)

# Room for the multipart envelope and the other fields around the file itself.
FORM_OVERHEAD = 64 * 1024
RESULT_KEY = "import_result"
SHOWN_LINES = 100  # duplicate line numbers carried to the result page
SHOWN_PROBLEMS = 500  # rows of the error and duplicate tables; the rest are counted


class ImportForm(RelaisForm):
    file = FileField(
        _l("Spreadsheet or CSV file"),
        validators=[FileRequired(message=_l("Choose the file to import."))],
    )
    allow_duplicates = BooleanField(
        _l("I have checked the possible duplicates: import the file anyway.")
    )
    # The MAC of the file whose duplicates were shown (``_file_mac``): what the box confirms.
    checked = HiddenField()
    # Kept through the confirmation step: the form sent twice imports the file once.
    submission = SubmissionField()


def _memory_stream(*_args: Any, **_kwargs: Any) -> IO[bytes]:
    return BytesIO()


class _InMemoryFormDataParser(FormDataParser):
    """Keeps uploaded files in memory: werkzeug spills those over 500 KB to a temporary file,
    and an uploaded caseload is personal data in clear."""

    def __init__(self, **options: Any) -> None:
        options["stream_factory"] = _memory_stream
        super().__init__(**options)


@bp.url_value_preprocessor
def _limit_upload(_endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """Before anything reads the body (the CSRF check does): cap it and keep it in memory."""
    if request.method == "POST":
        request.max_content_length = imports.MAX_FILE_BYTES + FORM_OVERHEAD
        request.form_data_parser_class = _InMemoryFormDataParser


def _file_mac(data: bytes) -> str:
    key = str(current_app.secret_key).encode()
    return hmac.new(key, b"relais-import-checked\x00" + data, hashlib.sha256).hexdigest()


def _confirmed(form: ImportForm, data: bytes) -> bool:
    """The box is ticked for this very file (the one whose duplicates the page showed)."""
    checked = str(form.checked.data or "").encode()  # bytes: any text sent compares, no error
    return bool(form.allow_duplicates.data) and hmac.compare_digest(
        checked, _file_mac(data).encode()
    )


def _confirming(form: ImportForm, result: ImportResult | None) -> bool:
    """The page asks to confirm: duplicates were just found, or the confirming form came back
    without its file (chosen again in the browser only)."""
    if result is not None:
        return result.needs_confirmation
    return form.is_submitted() and bool(form.allow_duplicates.data and form.checked.data)


def _translated(problem: Problem) -> str:
    return str(_(problem.message, **problem.params))


def _rows(problems: list[Problem]) -> list[dict[str, object]]:
    return [{"line": p.line, "column": p.column, "text": _translated(p)} for p in problems]


def _page(
    form: ImportForm, result: ImportResult | None = None, status: int = 200
) -> ResponseReturnValue:
    errors = list(result.errors) if result else []
    line_errors = [p for p in errors if p.line is not None]
    warnings = list(result.warnings) if result else []
    return (
        render_template(
            "imports/upload.html",
            form=form,
            result=result,
            confirming=_confirming(form, result),
            error_count=len(errors),
            file_errors=_rows([p for p in errors if p.line is None]),
            line_errors=_rows(line_errors[:SHOWN_PROBLEMS]),
            hidden_errors=max(0, len(line_errors) - SHOWN_PROBLEMS),
            warnings=_rows(warnings[:SHOWN_PROBLEMS]),
            hidden_warnings=max(0, len(warnings) - SHOWN_PROBLEMS),
            max_megabytes=imports.MAX_FILE_MEGABYTES,
            max_rows=imports.MAX_ROWS,
        ),
        status,
    )


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge) -> ResponseReturnValue:
    if not current_user.is_authenticated or current_user.role is not Role.CASEWORKER:
        title = _("Page not found")
        return render_template("errors/error.html", status=404, title=title), 404
    result = ImportResult(total=0, imported=0, errors=[imports.too_large()])
    # formdata=None: the body is not read again.
    return _page(ImportForm(formdata=None), result, 413)


@bp.route("/", methods=["GET", "POST"])
@roles_required(Role.CASEWORKER)
def upload() -> ResponseReturnValue:
    form = ImportForm()
    if not form.validate_on_submit():
        return _page(form, status=422 if form.is_submitted() else 200)
    session, user = dbs(), actor()
    data = form.file.data.read(imports.MAX_FILE_BYTES + 1)
    confirmed = _confirmed(form, data)
    other_file = bool(form.allow_duplicates.data) and not confirmed
    try:
        with attempt():
            submissions.ensure_unused(form)  # sent again: the first import, not a new check
            result = imports.import_caseload(
                session,
                vault(),
                user,
                data,
                today=today(),
                allow_duplicates=confirmed,
            )
            if result.import_id is not None:
                claimed = submissions.claim(form, "import")
                target = url_for("imports.past", import_id=result.import_id.hex)
                fulfil(session, claimed, target)
    except AlreadySubmitted as exc:
        flash(_("This file was already imported with this form: it was imported once."), "info")
        target = exc.target or ""
        return redirect(target if target.startswith("/import/") else url_for("imports.upload"))
    except imports.ImportFailed as exc:
        log.error("import rolled back after %s", exc.kind)  # never the message
        failed = Problem(None, None, imports.DATABASE_FAILURE)
        return _page(form, ImportResult(total=0, imported=0, errors=[failed]), 503)
    if result.errors:
        return _page(form, result, 422)
    if result.needs_confirmation:
        if other_file:
            flash(
                _("This is not the file whose possible duplicates were shown: here are its own."),
                "error",
            )
        form.allow_duplicates.data = False
        form.checked.data = _file_mac(data)
        return _page(form, result)
    web_session[RESULT_KEY] = {
        "imported": result.imported,
        "total": result.total,
        "duplicates": len(result.duplicate_lines),
        "lines": result.duplicate_lines[:SHOWN_LINES],
    }
    return redirect(url_for("imports.done"), 303)


@bp.get("/done")
@roles_required(Role.CASEWORKER)
def done() -> ResponseReturnValue:
    summary = web_session.pop(RESULT_KEY, None)
    if not isinstance(summary, dict):
        return redirect(url_for("imports.upload"))
    return render_template("imports/done.html", summary=summary)


@bp.get("/done/<import_id>")
@roles_required(Role.CASEWORKER)
def past(import_id: str) -> ResponseReturnValue:
    """The result of an import written earlier by the structure (the form sent again)."""
    found = imports.past_import(dbs(), actor(), import_id)
    if found is None:
        return redirect(url_for("imports.upload"))
    summary = {
        "imported": found.imported,
        "total": found.imported,
        "duplicates": found.possible_duplicates,
        "lines": [],
    }
    return render_template("imports/done.html", summary=summary)
