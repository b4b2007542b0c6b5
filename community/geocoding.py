"""Addresses to WGS-84 points with geopy, off the request path (research R6.7).

- The provider is chosen by setting: GEOCODER = "nominatim" (OSM; GEOCODER_DOMAIN and
  GEOCODER_SCHEME point it at a self-hosted server, which PIPL's cross-border rules favour),
  "baidu" (GEOCODER_API_KEY; Baidu answers in BD-09, converted here) or "none".
- Answers are cached by normalised address in the database (GeocodeCacheEntry), including
  "not found", as Nominatim's usage policy requires; all workers share the cache.
- Requests are paced to one per GEOCODER_MIN_DELAY_SECONDS across every worker (a slot in
  the shared Django cache: Redis when configured), with a real user agent and a timeout.
- Only community.tasks calls this. A failure or time-out never fails a save: the record stays
  PENDING with a back-off and the periodic sweep retries it; "not found" marks it FAILED for
  a grid worker to place by hand.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
import time
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from geopy.exc import GeopyError
from geopy.geocoders import BaiduV3, Nominatim
from geopy.geocoders.base import Geocoder
from geopy.location import Location

from .geo import Datum, to_wgs84
from .models import GeocodeCacheEntry

logger = logging.getLogger(__name__)

SLOT_KEY = "linli:geocoder:slot"
MAX_SLOT_WAIT_SECONDS = 30.0
_local_lock = threading.Lock()
_local_last_call = [0.0]


class GeocoderUnavailable(Exception):
    """Transient: time-out, network error, rate limit, provider error. Retry later."""


class GeocoderDisabled(Exception):
    """GEOCODER = "none": addresses wait for a configured geocoder or a grid worker."""


@dataclass(frozen=True)
class GeocodeResult:
    found: bool
    lat: float | None = None
    lng: float | None = None
    cached: bool = False


def normalise_address(address: str) -> str:
    """Full-width to half-width, case and whitespace folded: the cache key of an address."""
    text = unicodedata.normalize("NFKC", address or "").lower().strip()
    return re.sub(r"\s+", " ", text)


def cache_key(provider: str, normalised: str) -> str:
    return hashlib.sha256(f"{provider}\n{normalised}".encode()).hexdigest()


def build_geocoder() -> tuple[str, Geocoder, Datum]:
    """(provider name, geopy geocoder, datum of its answers) from settings."""
    provider = settings.GEOCODER.lower()
    timeout = settings.GEOCODER_TIMEOUT
    if provider == "nominatim":
        geocoder = Nominatim(
            user_agent=settings.GEOCODER_USER_AGENT,
            domain=settings.GEOCODER_DOMAIN,
            scheme=settings.GEOCODER_SCHEME,
            timeout=timeout,
        )
        return provider, geocoder, Datum.WGS84
    if provider == "baidu":
        geocoder = BaiduV3(
            api_key=settings.GEOCODER_API_KEY,
            scheme=settings.GEOCODER_SCHEME,
            timeout=timeout,
            user_agent=settings.GEOCODER_USER_AGENT,
        )
        return provider, geocoder, Datum.BD09
    if provider == "none":
        raise GeocoderDisabled("no geocoder configured")
    raise GeocoderDisabled(f"unknown GEOCODER {settings.GEOCODER!r}")


def wait_for_slot() -> None:
    """Pace requests to one per GEOCODER_MIN_DELAY_SECONDS across processes and threads."""
    delay = settings.GEOCODER_MIN_DELAY_SECONDS
    if delay <= 0:
        return
    deadline = time.monotonic() + MAX_SLOT_WAIT_SECONDS
    with _local_lock:  # precise pacing inside one process
        pause = _local_last_call[0] + delay - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        # The shared slot lives whole seconds (cache timeouts are integral).
        while not cache.add(SLOT_KEY, 1, timeout=max(1, math.ceil(delay))):
            if time.monotonic() > deadline:
                raise GeocoderUnavailable("geocoder rate-limit slot not available")
            time.sleep(0.1)
        _local_last_call[0] = time.monotonic()


def _query(geocoder: Geocoder, provider: str, address: str) -> Location | None:
    if provider == "nominatim":
        return geocoder.geocode(address, exactly_one=True, country_codes=settings.GEOCODER_COUNTRY_CODES or None)
    return geocoder.geocode(address, exactly_one=True)


def geocode_address(address: str) -> GeocodeResult:
    """Geocode one address (cached). Raises GeocoderUnavailable or GeocoderDisabled."""
    normalised = normalise_address(address)
    if not normalised:
        return GeocodeResult(found=False)
    provider, geocoder, datum = build_geocoder()
    key = cache_key(provider, normalised)
    hit = GeocodeCacheEntry.objects.filter(key=key).first()
    if hit is not None:
        return GeocodeResult(found=hit.found, lat=hit.lat, lng=hit.lng, cached=True)
    wait_for_slot()
    try:
        location = _query(geocoder, provider, address)
    except GeopyError as exc:
        raise GeocoderUnavailable(f"{type(exc).__name__}: {exc}"[:250]) from exc
    except OSError as exc:  # network errors that geopy did not wrap
        raise GeocoderUnavailable(f"{type(exc).__name__}: {exc}"[:250]) from exc
    if location is None:
        result = GeocodeResult(found=False)
    else:
        lat, lng = to_wgs84(location.latitude, location.longitude, datum)
        result = GeocodeResult(found=True, lat=lat, lng=lng)
    GeocodeCacheEntry.objects.get_or_create(
        key=key,
        defaults=dict(provider=provider, address=normalised[:255], found=result.found, lat=result.lat, lng=result.lng),
    )
    return result
