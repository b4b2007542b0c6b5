"""Importing boundaries from a GeoJSON FeatureCollection (manage.py import_boundaries).

Each feature names its area by code (properties.code, or another property, or the
feature's id); its geometry is a Polygon or MultiPolygon in the file's datum. The whole file
is checked as one batch — grids against the communities in the same file, overlaps between
features and with what is stored — and written all or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from shapely.geometry import MultiPolygon

from .boundaries import boundary_problems, read_geojson, write_boundaries
from .geo import Datum
from .models import Area


@dataclass
class BoundaryImport:
    features: int = 0
    matched: dict[Area, MultiPolygon] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # "<code or #n>: message"
    written: int = 0


def import_boundaries(collection: object, *, datum: str = Datum.WGS84, code_property: str = "code",
                      dry_run: bool = False) -> BoundaryImport:
    """Read, match and check every feature; write them all unless a problem or dry_run."""
    result = BoundaryImport()
    features = _features(collection, result)
    codes = [_code(f, code_property) for f in features]
    areas = {a.code: a for a in Area.objects.filter(code__in=[c for c in codes if c])}
    for n, (feature, code) in enumerate(zip(features, codes, strict=True), start=1):
        label = code or f"#{n}"
        if not code or code not in areas:
            result.problems.append(f"{label}: no area with this code (properties.{code_property}).")
            continue
        if areas[code] in result.matched:
            result.problems.append(f"{label}: appears twice in the file.")
            continue
        try:
            result.matched[areas[code]] = read_geojson(feature.get("geometry"), datum)
        except ValidationError as exc:
            result.problems.append(f"{label}: {' '.join(exc.messages)}")
    if result.matched:
        batch: dict[Area, MultiPolygon | None] = dict(result.matched)
        result.problems += [f"{area.code}: {' '.join(exc.messages)}" for area, exc in boundary_problems(batch)]
        if not result.problems and not dry_run:
            result.written = write_boundaries(batch)
    return result


def _features(collection: object, result: BoundaryImport) -> list[dict[str, Any]]:
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection" \
            or not isinstance(collection.get("features"), list):
        result.problems.append("file: not a GeoJSON FeatureCollection.")
        return []
    features = [f for f in collection["features"] if isinstance(f, dict)]
    result.features = len(collection["features"])
    if len(features) != result.features:
        result.problems.append("file: every feature must be an object.")
    return features


def _code(feature: dict[str, Any], code_property: str) -> str:
    properties = feature.get("properties") if isinstance(feature.get("properties"), dict) else {}
    value = (properties or {}).get(code_property, feature.get("id"))
    return str(value).strip() if value not in (None, "") else ""
