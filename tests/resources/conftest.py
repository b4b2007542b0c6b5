"""Fixtures for facilities and supplies in the small world: a shelter in community A,
households with vulnerable members, a warehouse with an item."""

from __future__ import annotations

import pytest
from graphql_relay import to_global_id

from community.models import Area, Household, Resident
from resources.facilities import FacilitySpec, save_facility, set_facility_status
from resources.models import Facility, SupplyItem, Warehouse
from resources.supplies import ItemSpec, save_item, save_warehouse
from tests.community.conftest import _media_in_tmp  # noqa: F401


def gid(type_name: str, obj) -> str:
    return to_global_id(type_name, obj if isinstance(obj, int) else obj.pk)


def shelter(area: Area, code: str = "school", *, capacity: int = 4, open_: bool = True, at: tuple[float, float] | None = None,
            **fields) -> Facility:
    point = at or (area.center_lat, area.center_lng)
    spec = FacilitySpec(code=code, kind=fields.pop("kind", "SHELTER"), name=fields.pop("name", f"{area.name}小学"),
                        location=point, capacity=capacity, address=fields.pop("address", "学院路1号"), **fields)
    facility = save_facility(spec, area=area, by=None)
    return set_facility_status(facility, "OPEN", by=None) if open_ else facility


def household(grid: Area, label: str, *members: tuple[str, dict]) -> Household:
    home = Household.objects.create(grid=grid, label=label)
    for name, flags in members:
        person = Resident(grid=grid, display_name=name, household=home, **flags)
        person.set_location(grid.center_lat, grid.center_lng)
        person.save()
    return home


@pytest.fixture
def homes(world) -> dict[str, Household]:
    """Three households of grid A1: the Wangs (an elderly woman living alone among them), the
    Lis (none vulnerable) and the Zhaos (a disabled member); one of grid B1."""
    return {
        "wang": household(world.grid_a1, "1幢101", ("王奶奶", {"elderly_living_alone": True}), ("王小明", {})),
        "li": household(world.grid_a1, "1幢102", ("李四", {}), ("李四妻", {}), ("李四子", {})),
        "zhao": household(world.grid_a1, "2幢201", ("赵桂兰", {"disabled": True})),
        "far": household(world.grid_b1, "9幢901", ("钱五", {})),
    }


@pytest.fixture
def water(db) -> SupplyItem:
    return save_item(ItemSpec(code="water-550", name="矿泉水", unit="箱", category="WATER", name_en="Bottled water", unit_en="box"))


@pytest.fixture
def store(world) -> Warehouse:
    return save_warehouse(area=world.com_a, code="com-a-store", name="甲社区应急仓库")
