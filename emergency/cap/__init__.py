"""OASIS Common Alerting Protocol 1.2: alerts as the XML public warning systems exchange.

    alert_to_cap(alert) -> bytes          # one <alert> document, UTF-8
    validate_cap(xml) -> list[str]        # problems found by the OASIS XSD (empty: valid)
    parse_xml(xml), schema_problems(doc)  # the same for documents that come in (emergency.warnings)

CAP-v1.2.xsd beside this file is the OASIS schema, vendored unchanged. Drills are exported
with status Exercise; updates and cancellations carry msgType Update/Cancel and `references`
naming every earlier message of the chain as "sender,identifier,sent". One <info> per
language the alert has (zh-CN always, en-US when English text was given). The area is the
Linli area (geocode LINLI_AREA = area code) and, when its centre is known, a circle whose
radius depends on the kind of area.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from lxml import etree

from community.models import AreaKind
from core.text import strip_unprintable

from ..models import Alert

NS = "urn:oasis:names:tc:emergency:cap:1.2"
XSD_PATH = Path(__file__).resolve().parent / "CAP-v1.2.xsd"
# Radius (km) of the circle describing an area around its centre, by kind.
AREA_RADIUS_KM: dict[str, float] = {AreaKind.GRID: 0.5, AreaKind.COMMUNITY: 1.5, AreaKind.SUBDISTRICT: 4.0,
                  AreaKind.DISTRICT: 12.0, AreaKind.CITY: 40.0}


def cap_time(moment: dt.datetime) -> str:
    """CAP's dateTime: local time with a numeric offset, no fractions, never "Z"."""
    local = timezone.localtime(moment).replace(microsecond=0)
    text = local.isoformat()
    return text[:-6] + "+00:00" if text.endswith("+00:00") else text


def _el(parent: etree._Element, name: str, text: object = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{NS}}}{name}")
    if text is not None:
        element.text = strip_unprintable(str(text))  # (rows written before input was cleaned)
    return element


def _pair(parent: etree._Element, name: str, value_name: str, value: str) -> None:
    holder = _el(parent, name)
    _el(holder, "valueName", value_name)
    _el(holder, "value", value)


def reference_of(alert: Alert) -> str:
    return f"{settings.CAP_SENDER},{alert.identifier},{cap_time(alert.sent_at)}"


def alert_to_cap(alert: Alert) -> bytes:
    root = etree.Element(f"{{{NS}}}alert", nsmap={None: NS})
    _el(root, "identifier", alert.identifier)
    _el(root, "sender", settings.CAP_SENDER)
    _el(root, "sent", cap_time(alert.sent_at))
    _el(root, "status", alert.cap_status)
    _el(root, "msgType", alert.msg_type)
    _el(root, "source", f"Linli {alert.area.code}")
    _el(root, "scope", "Public")
    if alert.is_drill:
        _el(root, "note", "Exercise / 演练")
    earlier = alert.chain()
    if earlier:
        _el(root, "references", " ".join(reference_of(a) for a in earlier))
    for language, texts in _languages(alert):
        _info(root, alert, language, texts)
    document: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return document


def _languages(alert: Alert) -> list[tuple[str, tuple[str, str, str]]]:
    out = [("zh-CN", (alert.headline, alert.description, alert.instruction))]
    if alert.headline_en:
        out.append(("en-US", (alert.headline_en, alert.description_en, alert.instruction_en)))
    return out


def _info(root: etree._Element, alert: Alert, language: str, texts: tuple[str, str, str]) -> None:
    headline, description, instruction = texts
    info = _el(root, "info")
    _el(info, "language", language)
    for category in alert.categories:
        _el(info, "category", category)
    _el(info, "event", alert.event)
    for response in alert.response_types:
        _el(info, "responseType", response)
    _el(info, "urgency", alert.urgency)
    _el(info, "severity", alert.severity)
    _el(info, "certainty", alert.certainty)
    _el(info, "effective", cap_time(alert.sent_at))
    if alert.onset:
        _el(info, "onset", cap_time(alert.onset))
    if alert.expires:
        _el(info, "expires", cap_time(alert.expires))
    _el(info, "senderName", settings.CAP_SENDER_NAME)
    _el(info, "headline", headline)
    if description:
        _el(info, "description", description)
    if instruction:
        _el(info, "instruction", instruction)
    _area(info, alert)


def _area(info: etree._Element, alert: Alert) -> None:
    area = alert.area
    block = _el(info, "area")
    _el(block, "areaDesc", area.name)
    if area.center_lat is not None and area.center_lng is not None:
        _el(block, "circle", f"{area.center_lat:.6f},{area.center_lng:.6f} {AREA_RADIUS_KM[area.kind]}")
    _pair(block, "geocode", "LINLI_AREA", area.code)


@lru_cache(maxsize=1)
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_PATH)))


def parse_xml(xml: bytes) -> etree._Element:
    """A document from outside, parsed without entities, DTDs or network access (no XXE,
    no billion laughs); raises etree.XMLSyntaxError."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    document: etree._Element = etree.fromstring(xml, parser=parser)
    return document


def schema_problems(document: etree._Element) -> list[str]:
    """What the OASIS CAP 1.2 schema finds wrong with a parsed document (empty: valid)."""
    schema = _schema()
    try:
        if schema.validate(document):
            return []
    except etree.XMLSchemaValidateError as exc:  # e.g. an entity reference left unexpanded
        return [f"The schema could not validate the document: {exc}"]
    return [str(error) for error in schema.error_log]


def validate_cap(xml: bytes) -> list[str]:
    try:
        document = parse_xml(xml)
    except etree.XMLSyntaxError as exc:
        return [str(exc)]
    return schema_problems(document)
