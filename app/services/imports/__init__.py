"""Importing an existing caseload from a spreadsheet (.xlsx, .ods) or a CSV file: read, check
every line, look for possible duplicates, write in batches.

``importing`` holds the use cases (``import_caseload``; ``check_sheet`` then
``import_checked`` for a caller that reports between the two, like the command line), and the
names below are the package's API for the web and CLI layers. Inside: ``sheet`` (reading the
file; ``workbook`` reads the cells of a spreadsheet), ``lines`` (checking each line),
``duplicates`` (the audited lookup), ``writing`` (the batches), ``bulk`` (the insert engine,
usable by other bulk writers), ``results`` and ``audit_rows`` (the values passed between them).

May import: ``app.domain``, ``app.models``, ``app.crypto`` and the shared services
(``audit``, ``access``, ``identity``, ``people``, ``structures``, ``accounts``, ``vault``,
``errors``); never Flask. Nothing here commits.
"""

from app.services.imports.importing import (
    check_sheet,
    import_actor,
    import_caseload,
    import_checked,
    past_import,
)
from app.services.imports.results import (
    DATABASE_FAILURE,
    CheckedImport,
    ImportFailed,
    ImportRejected,
    ImportResult,
    PastImport,
    Problem,
)
from app.services.imports.sheet import (
    COLUMNS,
    MAX_FILE_BYTES,
    MAX_FILE_MEGABYTES,
    MAX_ROWS,
    Sheet,
    read_sheet,
    too_large,
)
from app.services.imports.workbook import Kind, kind_of

__all__ = [
    "COLUMNS",
    "DATABASE_FAILURE",
    "MAX_FILE_BYTES",
    "MAX_FILE_MEGABYTES",
    "MAX_ROWS",
    "CheckedImport",
    "ImportFailed",
    "ImportRejected",
    "ImportResult",
    "Kind",
    "PastImport",
    "Problem",
    "Sheet",
    "check_sheet",
    "import_actor",
    "import_caseload",
    "import_checked",
    "kind_of",
    "past_import",
    "read_sheet",
    "too_large",
]
