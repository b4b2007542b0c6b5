"""Ranking: nearest first in distance bands, then the more reliable, then the less loaded;
measuring only where it can matter gives exactly the answer of measuring everyone."""

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from community.geo import distance_m
from volunteers.dispatch.ranking import Candidate, choose, rank_key

from .conftest import TASK_POINT, point_at


def person(uid, metres, bearing=0.0, reliability=0.75, load=0):
    lat, lng = point_at(metres, bearing)
    return Candidate(user_id=uid, volunteer_id=uid, pool="VOLUNTEER", lat=lat, lng=lng, reliability=reliability,
                     load=load, channel="APP")


def ids(chosen):
    return [c.user_id for c in chosen]


def test_nearest_first_when_the_band_is_zero():
    people = [person(1, 800), person(2, 200), person(3, 500, 90), person(4, 50, 200)]
    assert ids(choose(people, TASK_POINT, 1000, 3, band_m=0)) == [4, 2, 3]


def test_inside_a_band_the_more_reliable_come_first_then_the_less_loaded():
    people = [
        person(1, 100, reliability=0.5), person(2, 250, reliability=0.9), person(3, 280, reliability=0.9, load=2),
        person(4, 320, reliability=1.0),  # next band (300-600 m): after everyone in the first
    ]
    assert ids(choose(people, TASK_POINT, 1000, 4, band_m=300)) == [2, 3, 1, 4]


def test_nobody_outside_the_radius_is_chosen():
    people = [person(1, 400), person(2, 1100), person(3, 1000.5)]
    assert ids(choose(people, TASK_POINT, 1000, 5, band_m=0)) == [1]


def test_distances_are_exact_geodesics():
    [c] = choose([person(1, 700, 45)], TASK_POINT, 1000, 1, band_m=0)
    assert c.distance_m == distance_m(TASK_POINT, c.point)


def brute_force(people, radius, wanted, band):
    measured = []
    for p in people:
        d = distance_m(TASK_POINT, p.point)
        if d <= radius:
            measured.append((p, d))
    for p, d in measured:
        p.distance_m = d
    return [p.user_id for p, _ in sorted(measured, key=lambda pd: rank_key(band)(pd[0]))[:wanted]]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), wanted=st.integers(1, 12), band=st.sampled_from([0, 50, 150, 300, 500]),
       radius=st.sampled_from([500, 1000, 3000]))
def test_choosing_lazily_equals_measuring_everyone(seed, wanted, band, radius):
    rng = random.Random(seed)
    people = [
        person(i, rng.uniform(0, radius * 1.2), rng.uniform(0, 360), reliability=rng.choice([0.5, 0.75, 0.8, 1.0]),
               load=rng.randint(0, 2))
        for i in range(rng.randint(0, 80))
    ]
    lazy = ids(choose([Candidate(**{**p.__dict__, "distance_m": math.inf}) for p in people], TASK_POINT, radius, wanted, band))
    assert lazy == brute_force(people, radius, wanted, band)


def test_wanting_nobody_chooses_nobody():
    assert choose([person(1, 10)], TASK_POINT, 1000, 0, band_m=0) == []


@pytest.mark.parametrize("band", [0, 150])
def test_ties_are_broken_by_person_for_a_stable_order(band):
    a, b = person(7, 100), person(3, 100)
    assert ids(choose([a, b], TASK_POINT, 1000, 2, band_m=band)) == [3, 7]
