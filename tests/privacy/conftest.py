"""Residents in the small world (the community suite's fixtures) and an auditor."""

from __future__ import annotations

import pytest

from community.models import Role
from tests.community.conftest import _media_in_tmp, make_resident, people  # noqa: F401 - fixtures
from tests.world import give_role, make_user


@pytest.fixture
def auditor(world):
    """An auditor of community 甲."""
    user = make_user("auditor_a", "+8613800000009")
    give_role(user, world.com_a, Role.AUDITOR)
    return user
