"""Reading a CAP 1.2 document that came in: parsed safely, validated against the OASIS
schema, then checked where the schema cannot (coordinates, radii) and turned into plain data.

    message = read_cap(xml)     # CapMessage, or InvalidCap naming every problem

The schema checks structure, enumerations (status, msgType, urgency, severity, ...) and the
shape of times; it takes polygons and circles as any text, so their numbers are checked here:
a polygon is at least four "lat,lon" pairs, first equal to last, each within range; a circle
is "lat,lon radius" in kilometres.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from lxml import etree

from ..cap import NS, parse_xml, schema_problems

MAX_DOCUMENT_BYTES = 1024 * 1024
MAX_POINTS = 5000  # per polygon
MAX_RADIUS_KM = 1000.0

LatLng = tuple[float, float]


class InvalidCap(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems)[:1000])
        self.problems = problems


@dataclass
class CapArea:
    desc: str
    polygons: list[list[LatLng]] = field(default_factory=list)
    circles: list[tuple[float, float, float]] = field(default_factory=list)  # lat, lng, radius km
    geocodes: list[tuple[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {"desc": self.desc, "polygons": [[list(p) for p in ring] for ring in self.polygons],
                "circles": [list(c) for c in self.circles], "geocodes": [list(g) for g in self.geocodes]}


@dataclass
class CapInfo:
    language: str
    categories: list[str]
    event: str
    urgency: str
    severity: str
    certainty: str
    headline: str = ""
    description: str = ""
    instruction: str = ""
    sender_name: str = ""
    onset: dt.datetime | None = None
    expires: dt.datetime | None = None
    areas: list[CapArea] = field(default_factory=list)


@dataclass
class CapMessage:
    identifier: str
    sender: str
    sent: dt.datetime
    status: str
    msg_type: str
    references: list[tuple[str, str]]  # (sender, identifier) of earlier messages
    references_text: str
    infos: list[CapInfo]
    xml: str

    @property
    def info(self) -> CapInfo | None:
        """The info block to act on: Chinese when there is one, else the first."""
        for info in self.infos:
            if info.language.lower().startswith("zh"):
                return info
        return self.infos[0] if self.infos else None

    @property
    def areas(self) -> list[CapArea]:
        return [area for info in self.infos for area in info.areas]


def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


def _text(element: etree._Element, name: str) -> str:
    child = element.find(_q(name))
    return (child.text or "").strip() if child is not None and child.text else ""


def _all(element: etree._Element, name: str) -> list[str]:
    return [(child.text or "").strip() for child in element.findall(_q(name))]


def cap_datetime(text: str) -> dt.datetime:
    """CAP's dateTime (always with an offset; "-00:00" means UTC)."""
    return dt.datetime.fromisoformat(text.replace("-00:00", "+00:00") if text.endswith("-00:00") else text)


def _point(text: str, problems: list[str], where: str) -> LatLng | None:
    try:
        lat_text, lng_text = text.split(",")
        lat, lng = float(lat_text), float(lng_text)
    except ValueError:
        problems.append(f"{where}: {text!r} is not a \"lat,lon\" pair")
        return None
    if not (math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180):
        problems.append(f"{where}: {text!r} is out of range")
        return None
    return lat, lng


def _polygon(text: str, problems: list[str]) -> list[LatLng] | None:
    pairs = text.split()
    if len(pairs) < 4 or len(pairs) > MAX_POINTS:
        problems.append(f"polygon: {len(pairs)} points; CAP wants at least 4 (the first repeated last)")
        return None
    points = [_point(pair, problems, "polygon") for pair in pairs]
    ring = [p for p in points if p is not None]
    if len(ring) != len(points):
        return None
    if ring[0] != ring[-1]:
        problems.append("polygon: the first and last points differ (CAP polygons are closed)")
        return None
    return ring


def _circle(text: str, problems: list[str]) -> tuple[float, float, float] | None:
    try:
        centre_text, radius_text = text.split()
        radius = float(radius_text)
    except ValueError:
        problems.append(f"circle: {text!r} is not \"lat,lon radius\"")
        return None
    centre = _point(centre_text, problems, "circle")
    if centre is None:
        return None
    if not (math.isfinite(radius) and 0 <= radius <= MAX_RADIUS_KM):
        problems.append(f"circle: radius {radius_text} km is out of range")
        return None
    return centre[0], centre[1], radius


def _area(element: etree._Element, problems: list[str]) -> CapArea:
    area = CapArea(desc=_text(element, "areaDesc"))
    for text in _all(element, "polygon"):
        ring = _polygon(text, problems)
        if ring is not None:
            area.polygons.append(ring)
    for text in _all(element, "circle"):
        circle = _circle(text, problems)
        if circle is not None:
            area.circles.append(circle)
    for code in element.findall(_q("geocode")):
        area.geocodes.append((_text(code, "valueName"), _text(code, "value")))
    return area


def _info(element: etree._Element, problems: list[str]) -> CapInfo:
    def moment(name: str) -> dt.datetime | None:
        text = _text(element, name)
        return cap_datetime(text) if text else None

    return CapInfo(
        language=_text(element, "language") or "en-US", categories=_all(element, "category"), event=_text(element, "event"),
        urgency=_text(element, "urgency"), severity=_text(element, "severity"), certainty=_text(element, "certainty"),
        headline=_text(element, "headline"), description=_text(element, "description"),
        instruction=_text(element, "instruction"), sender_name=_text(element, "senderName"),
        onset=moment("onset"), expires=moment("expires"),
        areas=[_area(a, problems) for a in element.findall(_q("area"))],
    )


def _references(text: str, problems: list[str]) -> list[tuple[str, str]]:
    out = []
    for triple in text.split():
        parts = triple.split(",")
        if len(parts) != 3 or not parts[0] or not parts[1]:
            problems.append(f"references: {triple!r} is not \"sender,identifier,sent\"")
            continue
        out.append((parts[0], parts[1]))
    return out


def read_cap(xml: bytes) -> CapMessage:
    if len(xml) > MAX_DOCUMENT_BYTES:
        raise InvalidCap([f"The document is larger than {MAX_DOCUMENT_BYTES // 1024} KB."])
    try:
        document = parse_xml(xml)
    except etree.XMLSyntaxError as exc:
        raise InvalidCap([f"Not well-formed XML: {exc}"])
    if document.getroottree().docinfo.doctype:
        raise InvalidCap(["A CAP document has no DOCTYPE (entities are never expanded)."])
    problems = schema_problems(document)
    if problems:
        raise InvalidCap(problems)
    references_text = _text(document, "references")
    message = CapMessage(
        identifier=_text(document, "identifier"), sender=_text(document, "sender"), sent=cap_datetime(_text(document, "sent")),
        status=_text(document, "status"), msg_type=_text(document, "msgType"),
        references=_references(references_text, problems), references_text=references_text,
        infos=[_info(info, problems) for info in document.findall(_q("info"))], xml=etree.tostring(document, encoding="unicode"),
    )
    if message.msg_type in ("Update", "Cancel") and not message.references:
        problems.append(f"{message.msg_type}: CAP requires <references> naming the message it follows")
    if problems:
        raise InvalidCap(problems)
    return message
