"""Labels of the domain's enums, in French."""

from __future__ import annotations

from enum import Enum

import pytest
from flask import Flask

from app.domain.handoffs import HandoffEvent, HandoffStatus
from app.domain.pathway import BarrierStatus
from app.domain.people import EducationLevel, Sex
from app.domain.roles import Role
from app.models import ReferenceKind
from app.web.labels import enum_label

ENUMS: tuple[type[Enum], ...] = (
    HandoffStatus,
    HandoffEvent,
    BarrierStatus,
    EducationLevel,
    Sex,
    Role,
    ReferenceKind,
)


def test_members_sharing_a_value_keep_their_own_label(app: Flask) -> None:
    with app.test_request_context("/"):
        assert enum_label(HandoffStatus.IN_PROGRESS) == "En cours"
        assert enum_label(BarrierStatus.IN_PROGRESS) == "En cours de levée"


@pytest.mark.parametrize("enum", ENUMS)
def test_every_member_has_a_french_label(app: Flask, enum: type[Enum]) -> None:
    with app.test_request_context("/"):
        for member in enum:
            assert enum_label(member) != member.value, member
