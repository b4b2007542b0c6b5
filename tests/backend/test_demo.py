"""The demo city: realistic, deterministic from its seed, loaded only into an empty database."""

from io import StringIO

import pytest
from django.core.management import call_command

from community.models import Area, AreaKind, Role, RoleAssignment, User

pytestmark = pytest.mark.django_db


def load(*args) -> str:
    out = StringIO()
    call_command("load_demo_data", *args, stdout=out, stderr=out)
    return out.getvalue()


def test_demo_city_has_the_promised_shape():
    load()
    kinds = {kind: Area.objects.filter(kind=kind).count() for kind in AreaKind.values}
    assert kinds == {"city": 1, "district": 1, "subdistrict": 2, "community": 4, "grid": 16}
    roles = {role: RoleAssignment.objects.filter(role=role).count() for role in Role.values}
    assert roles == {"grid_worker": 16, "community_admin": 4, "district_commander": 1}
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="gridworker1").check_password("linli-demo")
    grids = Area.objects.filter(kind=AreaKind.GRID)
    assert all(30.0 < g.center_lat < 30.6 and 119.9 < g.center_lng < 120.4 for g in grids)


def test_demo_is_loaded_only_into_an_empty_database():
    load()
    users = User.objects.count()
    assert "nothing loaded" in load("--if-empty")
    assert User.objects.count() == users


def test_same_seed_gives_the_same_city():
    from community.demo import build_demo_city

    first = build_demo_city(seed=7)
    names = sorted(User.objects.values_list("username", "display_name", "phone"))
    for model in (RoleAssignment, Area):
        model.objects.all().delete()
    User.objects.all().delete()
    second = build_demo_city(seed=7)
    assert sorted(User.objects.values_list("username", "display_name", "phone")) == names
    assert len(first.grids) == len(second.grids) == 16
