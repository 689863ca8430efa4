"""Relais's vocabularies mapped onto data·inclusion v1: every value is a member of the
``data-inclusion-schema`` package's enums (read here, so a vocabulary change fails), and what is
published reads back."""

from __future__ import annotations

import pytest
from data_inclusion.schema.v1 import (
    Frais,
    ModeAccueil,
    ModeMobilisation,
    Public,
    ReseauPorteur,
    Thematique,
    TypeService,
)

from app.domain import data_inclusion as di
from app.domain.directory import Fee, ReceptionMode, ReferralMode, ServiceType, ZoneType


def test_every_mapped_value_is_in_the_package_vocabulary() -> None:
    thematiques = {t.value for t in Thematique}
    assert {t.value for t in di.BARRIER_THEMATIQUES.values()} <= thematiques
    assert {t.value for t in di.STAGE_THEMATIQUES.values() if t is not None} <= thematiques
    assert {n.value for n in di.TYPE_NETWORKS.values() if n} <= {n.value for n in ReseauPorteur}
    assert {p.value for p in di.COHORT_PUBLICS.values()} <= {p.value for p in Public}
    assert {t.value for t in di.SERVICE_TYPES.values() if t} <= {t.value for t in TypeService}
    assert {f.value for f in di.FEES.values()} <= {f.value for f in Frais}
    mobilisation = {m.value for m in ModeMobilisation}
    assert {m.value for m in di.REFERRAL_MOBILISATION.values() if m} <= mobilisation


def test_every_card_vocabulary_value_is_mapped() -> None:
    """A Relais value added to a card vocabulary needs its v1 mapping (even "none")."""
    assert set(di.SERVICE_TYPES) == set(ServiceType)
    assert set(di.FEES) == set(Fee)
    assert set(di.REFERRAL_MOBILISATION) == set(ReferralMode)
    assert ReceptionMode is ModeAccueil  # the package's vocabulary itself


def test_thematiques_read_back_to_the_same_codes() -> None:
    barriers = sorted(di.BARRIER_THEMATIQUES)
    stages = sorted(c for c, t in di.STAGE_THEMATIQUES.items() if t is not None)
    assert di.codes_from_thematiques(di.thematiques_for(barriers, stages)) == (barriers, stages, [])


@pytest.mark.parametrize(
    ("value", "barriers", "stages"),
    [
        ("mobilite--preparer-un-permis", ["mobility"], []),
        ("sante--sante-sexuelle", ["health"], []),
        ("sante--addictions", ["addiction"], []),
        ("creer-une-entreprise--developper-son-entreprise", [], ["employment"]),
        ("numerique", ["digital"], []),  # a category
    ],
)
def test_other_thematiques_are_read_by_their_category(
    value: str, barriers: list[str], stages: list[str]
) -> None:
    assert di.codes_from_thematiques([value]) == (barriers, stages, [])


def test_thematiques_relais_has_nothing_for_are_listed() -> None:
    values = ["equipement-et-alimentation--alimentation", "mobilite--preparer-un-permis"]
    assert di.codes_from_thematiques(values) == (
        ["mobility"],
        [],
        ["equipement-et-alimentation--alimentation"],
    )


def test_publics_follow_the_v1_rule_of_tous_publics() -> None:
    assert di.publics_for(["young_dropout", "single_parent"]) == ["familles", "jeunes"]
    assert di.publics_for(["young_dropout", "other"]) == ["tous-publics"]
    assert di.publics_for([]) is None
    assert di.cohorts_from_publics(["jeunes", "femmes"]) == [
        "other",
        "young_dropout",
        "young_graduate",
    ]


@pytest.mark.parametrize("type_code", sorted(di.TYPE_NETWORKS))
def test_structure_types_read_back_from_their_network(type_code: str) -> None:
    networks = di.networks_for(type_code)
    expected = type_code if networks else "other"
    assert di.type_from_networks(networks) == expected


def test_service_kinds_fees_and_modes() -> None:
    assert di.service_type_for(["numerique", "atelier"]) == "atelier"  # first that maps
    assert di.service_type_for(["numerique"]) is None
    assert di.fee_for(["gratuit-sous-conditions", "adhesion"]) == "payant"
    assert di.fee_for(["gratuit-sous-conditions"]) == "gratuit"
    assert di.fee_for([]) is None
    assert di.mobilisation_for(
        ["envoyer-un-mail", "envoyer-un-mail-avec-une-fiche-de-prescription"]
    ) == ["envoyer-un-courriel"]
    assert di.referral_modes_from(["telephoner", "se-presenter"]) == ["prendre-rdv", "telephoner"]


@pytest.mark.parametrize(
    ("kind", "code", "zone"),
    [
        (ZoneType.COMMUNE, "90010", ["90010"]),
        (ZoneType.EPCI, "200069052", ["200069052"]),
        (ZoneType.DEPARTEMENT, "90", ["90"]),
        (ZoneType.REGION, "27", None),
        (ZoneType.PAYS, "", ["france"]),
        (None, "", None),
    ],
)
def test_zones(kind: ZoneType | None, code: str, zone: list[str] | None) -> None:
    assert di.zone_eligibilite_for(kind, code) == zone
    if zone and kind is not None:
        assert di.zone_from_eligibilite(zone) == (kind.value, code)
