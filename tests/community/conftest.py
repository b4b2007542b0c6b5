"""Fixtures for community data: residents in the small world, uploads, a fake geocoder."""

from __future__ import annotations

import pytest

from community.models import Area, Resident


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def make_resident(db):
    """make_resident(grid, name, **fields) -> Resident (location defaults to the grid centre)."""

    def make(grid: Area, name: str = "张三", *, at: tuple[float, float] | None = None, **fields) -> Resident:
        resident = Resident(grid=grid, display_name=name, **fields)
        lat, lng = at or (grid.center_lat, grid.center_lng)
        if lat is not None:
            resident.set_location(lat, lng)
        resident.save()
        return resident

    return make


@pytest.fixture
def people(world, make_resident):
    """Residents of grid A1 and B1, one linked to the `resident` user, with a household."""
    from community.models import EmergencyContact, Household

    home = Household.objects.create(grid=world.grid_a1, label="1幢101", address="甲社区1幢101")
    me = make_resident(
        world.grid_a1, "王秀英", user=world.resident, phone="+8613900000001", household=home,
        address="甲社区1幢101", elderly_living_alone=True, care_notes="需要助行器",
    )
    spouse = make_resident(world.grid_a1, "李建国", household=home, address="甲社区1幢101")
    EmergencyContact.objects.create(resident=me, name="王强", phone="+8613700000009", relation="family")
    other_home = Household.objects.create(grid=world.grid_b1, label="2幢202")
    other = make_resident(
        world.grid_b1, "赵桂兰", user=world.other_resident, phone="+8613900000002", household=other_home,
        address="乙社区2幢202", disabled=True, care_notes="独自居住, 耳背",
    )
    return {"me": me, "spouse": spouse, "other": other, "home": home, "other_home": other_home}
