"""The area tree: subtree and ancestor queries in SQL, and mode inheritance."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from community.models import Area, Mode

pytestmark = pytest.mark.django_db


def test_subtree_of_a_community_is_its_grids_and_itself(world):
    assert set(world.com_a.subtree()) == {world.com_a, world.grid_a1, world.grid_a2}


def test_ancestors_of_a_grid_are_root_first(world):
    assert list(world.grid_b2.ancestors_and_self()) == [world.city, world.district, world.sub_b, world.com_b, world.grid_b2]


def test_subtree_and_ancestors_are_one_query_each_whatever_the_depth(world):
    with CaptureQueriesContext(connection) as ctx:
        list(world.city.subtree())
        list(world.grid_a1.ancestors_and_self())
    assert len(ctx.captured_queries) == 2


def test_a_mode_set_on_a_district_applies_to_every_grid_below(world):
    Area.objects.filter(pk=world.district.pk).update(mode=Mode.EMERGENCY)
    assert world.grid_a1.effective_mode() == Mode.EMERGENCY
    assert world.city.effective_mode() == Mode.NORMAL


def test_effective_mode_is_the_most_severe_on_the_path(world):
    Area.objects.filter(pk=world.district.pk).update(mode=Mode.STANDBY)
    Area.objects.filter(pk=world.com_a.pk).update(mode=Mode.EMERGENCY)
    Area.objects.filter(pk=world.grid_a2.pk).update(mode=Mode.RECOVERY)
    assert world.grid_a2.effective_mode() == Mode.EMERGENCY
    assert world.grid_b1.effective_mode() == Mode.STANDBY


def test_role_on_the_wrong_kind_of_area_is_invalid(world):
    from django.core.exceptions import ValidationError

    from community.models import Role, RoleAssignment

    bad = RoleAssignment(user=world.resident, area=world.com_a, role=Role.GRID_WORKER)
    with pytest.raises(ValidationError):
        bad.full_clean()
