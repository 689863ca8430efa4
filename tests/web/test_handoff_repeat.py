"""The same hand-off (person, sender, receiver, purpose) waiting for an answer is sent once:
sent again, even past the "same purpose" warning, the form says so and sends nothing."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Handoff, Structure
from tests.web.helpers import login, page_tokens
from tests.web.test_handoff_pages import _register, _send, partners  # noqa: F401 - fixture


def test_the_same_pending_handoff_is_refused_on_the_form(
    client: FlaskClient,
    partners: dict[str, Structure],  # noqa: F811 - the fixture imported above
    db_session: Session,
) -> None:
    login(client, "aaa@relais.example")
    pseudonym = _register(client)
    _send(client, pseudonym, partners["BBB"])
    path = f"/handoffs/new/{pseudonym}"

    def form(to: Structure) -> dict[str, str]:
        return {
            "to_structure": str(to.id),
            "purpose": "stage:training",
            "consent_confirmed": "y",
            "send_anyway": "y",  # past the warning about the open purpose
        }

    again = client.post(path, data={**form(partners["BBB"]), **page_tokens(client, path)})
    assert again.status_code == 200
    page = again.get_data(as_text=True)
    assert 'id="to_structure-error"' in page  # the answer, on the receiver's field
    assert db_session.scalar(select(func.count()).select_from(Handoff)) == 1
    other = client.post(path, data={**form(partners["CCC"]), **page_tokens(client, path)})
    assert other.status_code == 302  # another receiver, the same purpose: sent
    assert db_session.scalar(select(func.count()).select_from(Handoff)) == 2
