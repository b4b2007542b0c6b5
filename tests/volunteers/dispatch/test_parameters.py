"""Dispatch parameters: defaults per priority, area overrides (nearest wins per key, per
priority if given), and the mode's shorter answer times."""

import pytest

from core.errors import ValidationError
from emergency.switching import switch_mode
from volunteers.services import (
    clear_area_dispatch_override,
    dispatch_parameters,
    set_area_dispatch_override,
)

from .conftest import error_codes

pytestmark = pytest.mark.django_db


def test_defaults_follow_priority(world, settings):
    routine, life = dispatch_parameters(world.grid_a1, "ROUTINE"), dispatch_parameters(world.grid_a1, "LIFE_SAFETY")
    assert routine.answer_seconds == settings.DISPATCH_DEFAULTS["ROUTINE"]["answer_seconds"] == 1800
    assert life.answer_seconds == 180 and life.radius_start_m == 500 and life.ranking_band_m == 150
    assert routine.wave_size(5) == 8 and life.wave_size(5) == 15 and routine.wave_size(0) == 0
    assert routine.overridden == () and routine.mode == "NORMAL"


def test_the_radius_widens_step_by_step_to_the_maximum(world):
    p = dispatch_parameters(world.grid_a1, "URGENT")
    steps, radius = [p.radius_start_m], p.radius_start_m
    while (radius := p.next_radius(radius)) is not None:
        steps.append(radius)
    assert steps == [1000, 2000, 3000, 4000, 5000]


def test_an_override_on_an_ancestor_applies_below_and_the_nearest_wins_per_key(world):
    set_area_dispatch_override(world.district, answer_seconds=120, radius_max_m=8000)
    set_area_dispatch_override(world.com_a, answer_seconds=300)
    p = dispatch_parameters(world.grid_a1, "URGENT")
    assert (p.answer_seconds, p.radius_max_m, p.wave_factor) == (300, 8000, 2.0)
    assert set(p.overridden) == {"answer_seconds", "radius_max_m"}
    other = dispatch_parameters(world.grid_b1, "URGENT")
    assert (other.answer_seconds, other.radius_max_m) == (120, 8000)


def test_an_override_may_differ_per_priority(world):
    set_area_dispatch_override(world.com_a, wave_factor={"LIFE_SAFETY": 5, "URGENT": 2.5})
    assert dispatch_parameters(world.grid_a1, "LIFE_SAFETY").wave_factor == 5.0
    assert dispatch_parameters(world.grid_a1, "URGENT").wave_factor == 2.5
    assert dispatch_parameters(world.grid_a1, "ROUTINE").wave_factor == 1.5


def test_emergency_halves_default_answer_times_but_not_an_explicit_override(world):
    switch_mode(world.sub_a, "EMERGENCY", by=world.commander)
    assert dispatch_parameters(world.grid_a1, "URGENT").answer_seconds == 300
    assert dispatch_parameters(world.grid_a1, "LIFE_SAFETY").answer_seconds == 90
    switch_mode(world.com_b, "STANDBY", by=world.admin_b)
    assert dispatch_parameters(world.grid_b1, "ROUTINE").answer_seconds == 1350
    set_area_dispatch_override(world.com_a, answer_seconds=240)
    assert dispatch_parameters(world.grid_a1, "URGENT").answer_seconds == 240


def test_answer_times_never_drop_below_the_floor(world, settings):
    settings.DISPATCH_DEFAULTS = {**settings.DISPATCH_DEFAULTS, "LIFE_SAFETY": {**settings.DISPATCH_DEFAULTS["LIFE_SAFETY"], "answer_seconds": 90}}
    switch_mode(world.com_a, "EMERGENCY", by=world.admin_a)
    assert dispatch_parameters(world.grid_a1, "LIFE_SAFETY").answer_seconds == settings.DISPATCH_MIN_ANSWER_SECONDS


def test_clearing_restores_the_defaults(world):
    set_area_dispatch_override(world.com_a, radius_start_m=300)
    assert clear_area_dispatch_override(world.com_a) is True
    assert dispatch_parameters(world.grid_a1, "ROUTINE").radius_start_m == 1000
    assert clear_area_dispatch_override(world.com_a) is False


def test_setting_again_replaces_the_override(world):
    set_area_dispatch_override(world.com_a, radius_start_m=300, answer_seconds=100)
    set_area_dispatch_override(world.com_a, wave_factor=3)
    p = dispatch_parameters(world.grid_a1, "ROUTINE")
    assert (p.radius_start_m, p.answer_seconds, p.wave_factor) == (1000, 1800, 3.0)


@pytest.mark.parametrize("params", [
    {"answer_seconds": 5}, {"wave_factor": 0.5}, {"radius_max_m": 10**9}, {"speed": 3}, {"answer_seconds": "fast"},
    {"answer_seconds": True}, {"wave_factor": {"SOMEDAY": 2}}, {"wave_factor": {}}, {"answer_seconds": float("nan")}, {},
])
def test_bad_overrides_are_refused_with_a_code_and_nothing_is_saved(world, params):
    with pytest.raises(ValidationError) as refused:
        set_area_dispatch_override(world.com_a, **params)
    assert set(error_codes(refused.value)) == {"invalid_dispatch_parameter"}
    from volunteers.models import AreaDispatchOverride

    assert not AreaDispatchOverride.objects.exists()


def test_an_unknown_priority_is_refused(world):
    with pytest.raises(ValidationError):
        dispatch_parameters(world.grid_a1, "WHENEVER")
