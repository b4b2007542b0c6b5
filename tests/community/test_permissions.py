"""The one permission module: who may do what where."""

import pytest

from community.models import Area
from community.permissions import Action, can, can_view_area, scope_q

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "user, area, action, allowed",
    [
        ("worker_a1", "grid_a1", Action.MANAGE_TASKS, True),
        ("worker_a1", "grid_a2", Action.MANAGE_TASKS, False),
        ("worker_a1", "grid_b1", Action.VIEW_PEOPLE, False),
        ("worker_a1", "com_a", Action.MANAGE_TASKS, False),
        ("worker_a1", "grid_a1", Action.SWITCH_MODE, False),
        ("admin_a", "grid_a2", Action.MANAGE_TASKS, True),
        ("admin_a", "com_a", Action.SWITCH_MODE, True),
        ("admin_a", "com_b", Action.SWITCH_MODE, False),
        ("admin_a", "sub_a", Action.SWITCH_MODE, False),
        ("commander", "district", Action.SWITCH_MODE, True),
        ("commander", "grid_b2", Action.VIEW_PEOPLE, True),
        ("commander", "grid_b2", Action.VIEW_PERSONAL_DATA, False),
        ("commander", "city", Action.SWITCH_MODE, False),
        ("resident", "grid_a1", Action.VIEW_PEOPLE, False),
    ],
)
def test_role_matrix(world, user, area, action, allowed):
    assert can(getattr(world, user), action, getattr(world, area)) is allowed


def test_scope_q_filters_areas_in_sql(world):
    in_scope = Area.objects.filter(scope_q(world.admin_a, Action.MANAGE_TASKS))
    assert set(in_scope) == {world.com_a, world.grid_a1, world.grid_a2}
    assert not Area.objects.filter(scope_q(world.resident, Action.MANAGE_TASKS)).exists()


def test_staff_see_their_ancestors_but_not_siblings(world):
    assert can_view_area(world.worker_a1, world.city)
    assert can_view_area(world.worker_a1, world.com_a)
    assert not can_view_area(world.worker_a1, world.grid_a2)
    assert not can_view_area(world.worker_a1, world.com_b)


def test_inactive_staff_lose_their_roles(world):
    world.admin_a.is_active = False
    world.admin_a.save()
    from community.models import User

    assert not can(User.objects.get(pk=world.admin_a.pk), Action.SWITCH_MODE, world.com_a)
