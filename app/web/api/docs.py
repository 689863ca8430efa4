"""The OpenAPI 3.1 document of /api/v1, generated from the code (SpecTree, from the views'
pydantic models), and its documentation page: rendered on the server from the same document,
with no script (nothing loads from elsewhere, the CSP stays strict)."""

from __future__ import annotations

import copy
from typing import Any

from flask import Response, json, render_template
from flask.typing import ResponseReturnValue

from app.web.api.blueprint import bp, spec
from app.web.api.problems import PROBLEM_TYPE

_document: dict[str, Any] | None = None


def openapi_document() -> dict[str, Any]:
    """SpecTree's document, with the problem documents' media type (RFC 9457) on every
    error answer, and the scheme the token is sent in."""
    global _document  # noqa: PLW0603 - one document per process: the routes do not change
    if _document is None:
        document = copy.deepcopy(spec.spec)
        for operations in document["paths"].values():
            for operation in operations.values():
                for status, answer in operation.get("responses", {}).items():
                    content = answer.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        content[PROBLEM_TYPE] = content.pop("application/json")
                    if int(status) == 422 and not answer.get("description"):
                        answer["description"] = "Unprocessable"
        document["info"]["x-problem-types"] = "https://relais.invalid/problems/"
        _document = document
    return _document


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return Response(json.dumps(openapi_document()), mimetype="application/json")


@bp.get("/docs")
def docs() -> ResponseReturnValue:
    document = openapi_document()
    operations = [
        {
            "method": method.upper(),
            "path": path,
            "summary": operation.get("summary", ""),
            "description": operation.get("description", ""),
            "id": operation.get("operationId", ""),
            "tags": operation.get("tags", []),
        }
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    return render_template("api/docs.html", operations=operations, document=document)
