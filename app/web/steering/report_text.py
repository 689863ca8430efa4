"""The words of the CDE report: its tables' titles and its method annex (page and README)."""

from __future__ import annotations

from flask_babel import gettext as _

from app.services.statistics.report import CdeReport
from app.web.dashboard.views import quarter_name


def table_titles() -> dict[str, str]:
    """Each CSV of the bundle, by file name: what the table counts."""
    return {
        "decisions-by-type": _("Orientation decisions by pathway type: first or later"),
        "decision-criteria": _("Orientation decisions by pathway type and heaviest barrier level"),
        "delays-registration-to-decision-by-structure": _(
            "From registration to the first decision, by registering structure"
        ),
        "unmet-needs-qpv": _("Unmet needs by barrier category and neighbourhood (QPV)"),
        "unmet-needs-sources": _("Unmet needs by barrier category and source"),
        "unmet-needs-publics": _("Unmet needs by public"),
        "lost_from_view": _("People lost from view by last structure and reason"),
        "handoffs-by-receiver": _("Hand-offs by receiving partner and state"),
        "decline-reasons": _("Declined hand-offs by reason"),
    }


def method_lines(report: CdeReport) -> list[tuple[str, list[str]]]:
    """The method annex, section by section (title, lines): also the bundle's README."""
    s = report.settings
    period = _(
        "Period: %(quarter)s, from %(start)s to %(end)s, the whole territory.",
        quarter=quarter_name(report.quarter),
        start=report.scope.start.isoformat(),
        end=report.scope.end.isoformat(),
    )
    return [
        (_("Period"), [period]),
        (
            _("Definitions"),
            [
                _(
                    "Orientation decisions: the decisions of pathway type (professional, "
                    "socio-professional, social) dated in the quarter; a first decision is the "
                    "person's earliest, a later one a change or a review. The criteria are "
                    "summed up by the heaviest barrier level recorded with the decision."
                ),
                _(
                    "Delays: registration (the start of the person's first follow-up) to the "
                    "first decision; hand-off sent to its answer; answer to the first contact; "
                    "sent to the first contact. Share within N days: reached within N days over "
                    "the items settled (reached, or not reached with more than %(contract)d "
                    "days gone). Median: of the items reached, in days.",
                    contract=s.contract,
                ),
                _(
                    "Unmet needs: hand-offs declined for lack of places, eligibility or no such "
                    "service, expired hand-offs, and needs for which no partner was found, "
                    "dated in the quarter, with the person's public and neighbourhood that day."
                ),
                _(
                    "Lost from view: people followed whose pathway has not ended, with no news "
                    "from any partner for %(days)d days, or a hand-off accepted %(contact)d "
                    "days ago or more without a first contact, at the end of the quarter.",
                    days=s.lost_days,
                    contact=s.contact_days,
                ),
                _(
                    "Hand-off outcomes: the hand-offs sent in the quarter by receiving partner "
                    "and what became of them; the declined ones by coded reason."
                ),
                _(
                    "Network events: the meetings of the network held in the quarter, with "
                    "the number of structures present."
                ),
            ],
        ),
        (
            _("Targets"),
            [
                _(
                    "Target: %(target)d days (RELAIS_DELAY_TARGET_DAYS); contract: "
                    "%(contract)d days (RELAIS_DELAY_CONTRACT_DAYS).",
                    target=s.target,
                    contract=s.contract,
                )
            ],
        ),
        (
            _("Protection of the people counted"),
            [
                _(
                    "Publication view: counts from 1 to %(last)d read “< %(k)d” (empty cells "
                    "in the CSV files); a second value reads “secret” wherever a hidden one "
                    "could be worked out from the totals, across all the tables published "
                    "together. A share or a median is given only when at least %(k)d people "
                    "or hand-offs are behind it.",
                    last=s.k - 1,
                    k=s.k,
                ),
                _(
                    "The hand-offs by receiving structure are counted once, in the outcomes "
                    "table; the delays of the hand-offs by receiving structure are given as "
                    "shares and medians only, and the shares only for a partner whose outcomes "
                    "are all published."
                ),
                _("No name, e-mail or pseudonym appears in this report."),
            ],
        ),
    ]
