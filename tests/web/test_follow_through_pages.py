"""Following hand-offs through, on the pages: "Reorient" opens the send form pre-filled,
"Remind" mails the partner at most once every few days, and the receiving structure is asked
whether its follow-up ends once a barrier hand-off has completed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.handoffs import HandoffEvent
from app.models import Beneficiary, FollowUp, Handoff, MailKind, MailMessage, Structure, User
from app.services.handoffs import apply_event, send_handoff
from app.services.handoffs import follow_through as follow_through_service
from app.services.pathways import add_barrier
from app.services.security.vault import Vault
from tests import factories
from tests.web.helpers import login

SENDER = "envoi@relais.example"
RECEIVER = "accueil@relais.example"
NOTE = "Pas de permis ; horaires décalés en cuisine"


@dataclass
class Net:
    a: Structure
    b: Structure
    c: Structure
    sender: User
    receiver: User
    person: Beneficiary
    pseudonym: str


@pytest.fixture
def net(db_session: Session, vault: Vault) -> Net:
    a, b, c = (factories.structure(db_session) for _ in range(3))
    sender = factories.user(db_session, structure_=a, email=SENDER)
    receiver = factories.user(db_session, structure_=b, email=RECEIVER)
    factories.user(db_session, structure_=b)
    person = factories.person(db_session, vault, sender, last_name="Benali", first_name="Yanis")
    db_session.commit()
    return Net(a, b, c, sender, receiver, person, person.pseudonym)


def _barrier_handoff(session: Session, vault: Vault, net: Net, *, days_ago: int = 0) -> Handoff:
    barrier = add_barrier(
        session, net.sender, net.person, category_code="mobility", identified_on=net_today()
    )
    handoff = send_handoff(
        session,
        vault,
        net.sender,
        net.person,
        to_structure=net.b,
        now=datetime.now(UTC) - timedelta(days=days_ago),
        purpose_barrier=barrier,
        note=NOTE,
        consent_confirmed=True,
    )
    session.commit()
    return handoff


def net_today() -> date:
    return (datetime.now(UTC) - timedelta(days=40)).date()


def _token(page: str, prefix: str = "") -> str:
    found = re.search(rf'name="{prefix}csrf_token"[^>]*value="([^"]+)"', page)
    assert found, f"no {prefix}csrf_token"
    return found.group(1)


def _any_token(page: str) -> str:
    found = re.search(r'name="[\w-]*csrf_token"[^>]*value="([^"]+)"', page)
    assert found
    return found.group(1)


def _flash(page: str) -> str:
    return " ".join(re.findall(r'class="flash[^"]*"[^>]*>(.*?)</', page, re.S))


# -- reorient ---------------------------------------------------------------------------------


def test_reorient_opens_the_send_form_pre_filled_without_the_partner(
    client: FlaskClient, db_session: Session, vault: Vault, net: Net
) -> None:
    handoff = _barrier_handoff(db_session, vault, net)
    barrier_id = handoff.purpose_barrier_id
    assert barrier_id is not None
    login(client, SENDER)
    pending = client.get(f"/handoffs/{handoff.id.hex}").get_data(as_text=True)
    assert "Réorienter" not in pending
    # A pending hand-off is not reoriented: the form stays empty.
    form = client.get(f"/handoffs/new/{net.pseudonym}?reorient={handoff.id.hex}")
    assert NOTE not in form.get_data(as_text=True)

    apply_event(
        db_session,
        vault,
        net.receiver,
        db_session.get(Handoff, handoff.id),  # type: ignore[arg-type]
        HandoffEvent.DECLINE,
        now=datetime.now(UTC),
        reason_code="no_capacity",
    )
    db_session.commit()
    page = client.get(f"/handoffs/{handoff.id.hex}").get_data(as_text=True)
    link = f"/handoffs/new/{net.pseudonym}?reorient={handoff.id.hex}"
    assert f'href="{link}"' in page
    assert "Réorienter" in page

    form_page = client.get(link).get_data(as_text=True)
    assert "Vous réorientez la personne" in form_page
    assert NOTE.replace("'", "&#39;") in form_page
    assert re.search(rf'<input(?=[^>]*checked)(?=[^>]*value="barrier:{barrier_id.hex}")', form_page)
    assert f'<option value="{net.b.id}"' not in form_page  # the partner who declined
    assert f'<option value="{net.c.id}"' in form_page

    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form_page))
    data = {k: v for k, v in fields.items() if "csrf" in k or "submission" in k}
    data |= {
        "purpose": f"barrier:{barrier_id.hex}",
        "to_structure": str(net.b.id),
        "note": NOTE,
        "consent_confirmed": "y",
    }
    refused = client.post(link, data=data)
    assert refused.status_code == 200  # the declining partner is not a choice any more
    data["to_structure"] = str(net.c.id)
    sent = client.post(link, data=data)
    assert sent.status_code == 302, sent.get_data(as_text=True)
    again = db_session.scalars(select(Handoff).where(Handoff.to_structure_id == net.c.id)).one()
    assert again.purpose_barrier_id == barrier_id
    assert again.parent_id is None


def test_the_receiver_is_not_offered_to_reorient(
    client: FlaskClient, db_session: Session, vault: Vault, net: Net
) -> None:
    handoff = _barrier_handoff(db_session, vault, net)
    apply_event(
        db_session,
        vault,
        net.receiver,
        handoff,
        HandoffEvent.DECLINE,
        now=datetime.now(UTC),
        reason_code="not_interested",
    )
    db_session.commit()
    login(client, RECEIVER)
    assert "Réorienter" not in client.get(f"/handoffs/{handoff.id.hex}").get_data(as_text=True)


# -- remind -----------------------------------------------------------------------------------


def _reminders(session: Session, handoff_id: object) -> list[str]:
    return list(
        session.scalars(
            select(MailMessage.to_address).where(
                MailMessage.handoff_id == handoff_id,
                MailMessage.kind == MailKind.HANDOFF_REMINDER,
            )
        )
    )


def test_a_fresh_hand_off_says_when_it_can_be_reminded(
    client: FlaskClient, db_session: Session, vault: Vault, net: Net
) -> None:
    handoff = _barrier_handoff(db_session, vault, net)
    login(client, SENDER)
    page = client.get(f"/handoffs/{handoff.id.hex}").get_data(as_text=True)
    assert "Relancer le partenaire" in page
    assert "Prochaine relance possible à partir du" in page
    assert "Envoyer une relance" not in page
    answer = client.post(
        f"/handoffs/{handoff.id.hex}/remind",
        data={"remind-csrf_token": _any_token(page)},
        follow_redirects=True,
    )
    assert "Une relance a été envoyée il y a moins de 3 jours" in _flash(
        answer.get_data(as_text=True)
    )
    assert _reminders(db_session, handoff.id) == []


def test_remind_mails_the_partner_once_then_waits(
    client: FlaskClient,
    db_session: Session,
    vault: Vault,
    net: Net,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handoff = _barrier_handoff(db_session, vault, net, days_ago=5)
    login(client, SENDER)
    page = client.get(f"/handoffs/{handoff.id.hex}").get_data(as_text=True)
    assert "Envoyer une relance" in page
    done = client.post(
        f"/handoffs/{handoff.id.hex}/remind",
        data={"remind-csrf_token": _token(page, "remind-"), "remind-message": "Une place ?"},
        follow_redirects=True,
    ).get_data(as_text=True)
    # The confirmation names the person to the sender, whose structure follows them.
    assert f"Relance au sujet de Yanis BENALI envoyée à {net.b.name}." in _flash(done)
    assert "Relance envoyée au partenaire" in done  # in the history, with its message
    assert "Une place ?" in done
    assert "Prochaine relance possible à partir du" in done
    assert len(_reminders(db_session, handoff.id)) == 2  # both caseworkers of B
    # Sent again at once (a double click): recorded once, and said so.
    twice = client.post(
        f"/handoffs/{handoff.id.hex}/remind",
        data={"remind-csrf_token": _any_token(done)},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "déjà enregistré (depuis un autre onglet ou par un second envoi)" in _flash(twice)
    assert len(_reminders(db_session, handoff.id)) == 2
    # Later on (past the moment a second sending is recognised), the interval answers.
    monkeypatch.setattr(follow_through_service, "REPEAT_WINDOW", timedelta(0))
    later = client.post(
        f"/handoffs/{handoff.id.hex}/remind",
        data={"remind-csrf_token": _any_token(twice)},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "moins de 3 jours" in _flash(later)
    assert len(_reminders(db_session, handoff.id)) == 2
    # The receiver sees the reminder in the history, and cannot remind.
    login(client, RECEIVER)
    inbox_page = client.get(f"/handoffs/{handoff.id.hex}").get_data(as_text=True)
    assert "Relance envoyée au partenaire" in inbox_page
    assert "Relancer le partenaire" not in inbox_page
    refused = client.post(
        f"/handoffs/{handoff.id.hex}/remind",
        data={"remind-csrf_token": _any_token(inbox_page)},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Seule la structure qui a envoyé" in _flash(refused)


# -- does the follow-up end? --------------------------------------------------------------------


def _completed(session: Session, vault: Vault, net: Net) -> Handoff:
    handoff = _barrier_handoff(session, vault, net, days_ago=20)
    now = datetime.now(UTC)
    for event, reason in (
        (HandoffEvent.ACCEPT, None),
        (HandoffEvent.FIRST_CONTACT, None),
        (HandoffEvent.COMPLETE, "barrier_lifted"),
    ):
        apply_event(session, vault, net.receiver, handoff, event, now=now, reason_code=reason)
    session.commit()
    return handoff


def _receiver_follows(session: Session, net: Net) -> bool:
    return (
        session.scalar(
            select(FollowUp.id).where(
                FollowUp.beneficiary_id == net.person.id,
                FollowUp.structure_id == net.b.id,
                FollowUp.ended_on.is_(None),
            )
        )
        is not None
    )


@pytest.mark.parametrize(
    ("answer", "says", "follows", "history"),
    [
        ("end", "Le suivi de cette personne par votre structure est terminé", False, "terminé"),
        ("keep", "Votre structure poursuit le suivi de cette personne.", True, "poursuivi"),
    ],
)
def test_the_receiver_is_asked_whether_its_follow_up_ends(
    client: FlaskClient,
    db_session: Session,
    vault: Vault,
    net: Net,
    answer: str,
    says: str,
    follows: bool,
    history: str,
) -> None:
    handoff = _completed(db_session, vault, net)
    pseudonym = net.pseudonym
    login(client, SENDER)
    assert "Votre suivi s'arrête-t-il" not in client.get(f"/handoffs/{handoff.id.hex}").get_data(
        as_text=True
    ).replace("&#39;", "'")
    login(client, RECEIVER)
    page = client.get(f"/handoffs/{handoff.id.hex}").get_data(as_text=True).replace("&#39;", "'")
    assert "Votre suivi s'arrête-t-il ?" in page
    assert "Si votre structure n'a plus rien à faire avec Yanis BENALI" in page
    done = client.post(
        f"/handoffs/{handoff.id.hex}/follow-up",
        data={"follow-csrf_token": _token(page, "follow-"), "answer": answer},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert says in _flash(done).replace("&#39;", "'")
    assert _receiver_follows(db_session, net) is follows
    assert "Votre suivi s'arrête-t-il" not in done.replace("&#39;", "'")
    assert f"Suivi {history} par la structure qui a reçu l" in done
    readable = done.replace("&#39;", "'")
    assert "L'identité s'affiche une fois" not in readable  # the name is still shown
    assert ("Votre structure ne suit plus cette personne" in readable) is not follows
    assert pseudonym in done


@pytest.mark.parametrize("answer", ["end", "keep"])
def test_the_same_answer_sent_twice_is_recorded_once(
    client: FlaskClient, db_session: Session, vault: Vault, net: Net, answer: str
) -> None:
    handoff = _completed(db_session, vault, net)
    login(client, RECEIVER)
    page = client.get(f"/handoffs/{handoff.id.hex}").get_data(as_text=True)
    data = {"follow-csrf_token": _token(page, "follow-"), "answer": answer}
    path = f"/handoffs/{handoff.id.hex}/follow-up"
    client.post(path, data=data)
    twice = client.post(path, data=data, follow_redirects=True).get_data(as_text=True)
    assert "déjà enregistré (depuis un autre onglet ou par un second envoi)" in _flash(twice)
    db_session.expire_all()
    answers = [e.event for e in db_session.scalars(select(Handoff)).one().events]
    assert (
        answers.count(
            HandoffEvent.FOLLOW_UP_ENDED if answer == "end" else HandoffEvent.FOLLOW_UP_KEPT
        )
        == 1
    )
    # The other answer, from the same page, is refused as before.
    other = {**data, "answer": "keep" if answer == "end" else "end"}
    refused = client.post(path, data=other, follow_redirects=True).get_data(as_text=True)
    assert "Cette question a déjà reçu une réponse" in _flash(refused)
    assert _receiver_follows(db_session, net) is (answer == "keep")


def test_a_bad_answer_is_refused_clearly(
    client: FlaskClient, db_session: Session, vault: Vault, net: Net
) -> None:
    handoff = _completed(db_session, vault, net)
    login(client, RECEIVER)
    page = client.get(f"/handoffs/{handoff.id.hex}").get_data(as_text=True)
    answer = client.post(
        f"/handoffs/{handoff.id.hex}/follow-up",
        data={"follow-csrf_token": _token(page, "follow-"), "answer": "maybe"},
        follow_redirects=True,
    )
    assert answer.status_code == 200
    assert "Le formulaire avait expiré" in _flash(answer.get_data(as_text=True))
    assert _receiver_follows(db_session, net)
