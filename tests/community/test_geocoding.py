"""Geocoding runs in a task against the configured provider (here geopy's real Nominatim
geocoder against a fake server on loopback); failures never lose the record."""

import datetime as dt

import pytest
from django.utils import timezone
from graphql_relay import to_global_id

from community import tasks
from community.geocoding import GeocodeResult, geocode_address, normalise_address
from community.models import GeocodeCacheEntry, GeocodeStatus, LocationSource, Resident
from community.residents import mark_geocode_pending
from core.enqueue import enqueue_now
from tests.community.fake_nominatim import FakeNominatim
from tests.operations import operation

pytestmark = pytest.mark.django_db

ADDRESS = "杭州市上城区甲社区9幢901"


@pytest.fixture
def nominatim(settings):
    fake = FakeNominatim().start()
    settings.GEOCODER = "nominatim"
    settings.GEOCODER_DOMAIN = fake.domain
    settings.GEOCODER_SCHEME = "http"
    settings.GEOCODER_MIN_DELAY_SECONDS = 0
    settings.GEOCODER_TIMEOUT = 0.5
    settings.GEOCODER_USER_AGENT = "linli-tests/1.0 (tests@linli.example)"
    yield fake
    fake.stop()


@pytest.fixture
def pending(world, make_resident):
    resident = make_resident(world.grid_a1, "孙大爷", at=(None, None), address=ADDRESS)
    mark_geocode_pending(resident)
    resident.save()
    return resident


def test_a_pending_address_is_geocoded_and_the_grid_derived(world, nominatim, people):
    nominatim.places[ADDRESS] = (world.grid_a2.center_lat, world.grid_a2.center_lng)
    me = people["me"]
    me.address = ADDRESS
    mark_geocode_pending(me)
    me.save()
    assert tasks.geocode_resident_now(me.pk) == "done"
    me.refresh_from_db()
    assert me.geocode_status == GeocodeStatus.DONE and me.location_source == LocationSource.GEOCODER
    assert me.grid == world.grid_a2 and me.h3_cell  # not overridden: derived from the new place
    assert nominatim.requests[0]["user_agent"] == "linli-tests/1.0 (tests@linli.example)"
    assert nominatim.requests[0]["query"]["countrycodes"] == "cn"


def test_a_grid_staff_chose_is_kept_when_the_address_is_geocoded(world, nominatim, pending):
    pending.grid_overridden = True
    pending.save()
    nominatim.places[ADDRESS] = (world.grid_a2.center_lat, world.grid_a2.center_lng)
    tasks.geocode_resident_now(pending.pk)
    pending.refresh_from_db()
    assert pending.grid == world.grid_a1 and pending.lat is not None


def test_answers_are_cached_by_normalised_address(world, nominatim, pending, make_resident):
    nominatim.places[ADDRESS] = (30.271, 120.151)
    tasks.geocode_resident_now(pending.pk)
    twin = make_resident(world.grid_a1, "孙大娘", at=(None, None), address=" 杭州市上城区甲社区９幢９０１ ")
    mark_geocode_pending(twin)
    twin.save()
    assert tasks.geocode_resident_now(twin.pk) == "done"
    assert len(nominatim.requests) == 1 and GeocodeCacheEntry.objects.count() == 1
    assert normalise_address(twin.address) == normalise_address(ADDRESS)


@pytest.mark.parametrize("mode", ["error", "slow"])
def test_provider_failure_or_timeout_keeps_the_record_pending_with_a_backoff(nominatim, pending, mode):
    nominatim.mode = mode
    assert tasks.geocode_resident_now(pending.pk) == "retry"
    pending.refresh_from_db()
    assert pending.geocode_status == GeocodeStatus.PENDING and pending.geocode_attempts == 1
    assert pending.geocode_next_attempt_at > timezone.now() and pending.geocode_error
    assert pending.display_name == "孙大爷" and pending.lat is None
    assert tasks.geocode_resident_now(pending.pk) == "not_due"  # no hot loop


def test_the_sweep_retries_what_is_due_and_gives_up_after_the_last_attempt(settings, nominatim, pending, monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.geocode_resident, "apply_async", lambda args=(), **options: sent.append(args[0]))
    nominatim.mode = "error"
    tasks.geocode_resident_now(pending.pk)
    assert tasks.sweep_geocoding() == 0  # backing off
    Resident.objects.filter(pk=pending.pk).update(geocode_next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    assert tasks.sweep_geocoding() == 1 and sent == [pending.pk]
    settings.GEOCODER_MAX_ATTEMPTS = 2
    assert tasks.geocode_resident_now(pending.pk) == "failed"
    pending.refresh_from_db()
    assert pending.geocode_status == GeocodeStatus.FAILED


def test_an_unknown_address_is_marked_failed_for_manual_placement(nominatim, pending):
    assert tasks.geocode_resident_now(pending.pk) == "not_found"
    pending.refresh_from_db()
    assert pending.geocode_status == GeocodeStatus.FAILED and pending.geocode_error == "address not found"


def test_an_edit_made_meanwhile_wins_over_a_late_answer(world, nominatim, pending, monkeypatch):
    import community.tasks as module

    def answer_after_an_edit(address):
        Resident.objects.filter(pk=pending.pk).update(address="别处")
        return GeocodeResult(found=True, lat=30.271, lng=120.151)

    monkeypatch.setattr(module, "geocode_address", answer_after_an_edit)
    assert tasks.geocode_resident_now(pending.pk) == "superseded"
    pending.refresh_from_db()
    assert pending.lat is None


def test_saving_never_waits_for_the_geocoder_and_enqueues_after_commit(world, gql, nominatim, monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(tasks.geocode_resident, "apply_async", lambda args=(), **options: sent.append(args[0]))
    nominatim.mode = "error"  # even a broken provider cannot fail the save
    variables = {"input": {"displayName": "孙大爷", "address": ADDRESS}, "gridId": to_global_id("Area", world.grid_a1.pk)}
    with django_capture_on_commit_callbacks(execute=True):
        payload = gql.data(operation("community/RegisterResident"), variables, user=world.worker_a1)["registerResident"]
    assert payload["errors"] == [] and payload["resident"]["geocodeStatus"] == "PENDING"
    assert nominatim.requests == []
    assert sent == [Resident.objects.get().pk]


def test_a_broker_outage_does_not_fail_the_save(world, monkeypatch, pending):
    def broken(*args, **options):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.geocode_resident, "apply_async", broken)
    assert enqueue_now(tasks.geocode_resident, pending.pk) is False  # logged; the sweep will pick it up
    assert tasks.due_for_geocoding() == [pending.pk]


def test_no_geocoder_configured_leaves_records_pending(settings, pending):
    settings.GEOCODER = "none"
    assert tasks.geocode_resident_now(pending.pk) == "disabled"
    pending.refresh_from_db()
    assert pending.geocode_status == GeocodeStatus.PENDING


def test_requests_are_paced_to_the_configured_rate(settings, nominatim):
    from django.core.cache import cache

    cache.clear()
    settings.GEOCODER_MIN_DELAY_SECONDS = 1.0
    geocode_address("地址一")
    geocode_address("地址二")
    first, second = nominatim.requests
    assert second["at"] - first["at"] >= 0.9


def test_baidu_answers_in_bd09_are_converted_to_wgs84(settings, monkeypatch):
    import community.geocoding as module

    settings.GEOCODER = "baidu"
    settings.GEOCODER_API_KEY = "test-key"
    settings.GEOCODER_MIN_DELAY_SECONDS = 0

    class Answer:
        latitude, longitude = 29.57908089974, 114.23074871003  # Baidu's own example, BD-09

    monkeypatch.setattr(module, "_query", lambda geocoder, provider, address: Answer())
    result = geocode_address("某地")
    from community.geo import distance_m

    assert distance_m((result.lat, result.lng), (29.575429778924, 114.21892734521)) < 1.0
