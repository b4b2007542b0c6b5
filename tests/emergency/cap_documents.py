"""CAP 1.2 documents as warning systems send them, for the tests of warnings that come in,
and the signed POST a webhook sender makes."""

from __future__ import annotations

import datetime as dt
import secrets

from django.utils import timezone

from emergency.cap import cap_time
from emergency.warnings.signing import signed_headers

SENDER = "cma@weather.example.cn"


def cap(identifier: str, *, msg_type: str = "Alert", status: str = "Actual", severity: str = "Severe",
        urgency: str = "Expected", event: str = "暴雨", headline: str = "暴雨红色预警", circle: str | None = None,
        polygon: str | None = None, geocode: tuple[str, str] | None = None, references: str | None = None,
        sent: dt.datetime | None = None, expires: dt.datetime | None = None, sender: str = SENDER) -> bytes:
    sent = sent or timezone.now()
    area = "".join([
        "<areaDesc>受影响区域</areaDesc>",
        f"<polygon>{polygon}</polygon>" if polygon else "",
        f"<circle>{circle}</circle>" if circle else "",
        f"<geocode><valueName>{geocode[0]}</valueName><value>{geocode[1]}</value></geocode>" if geocode else "",
    ])
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier>
  <sender>{sender}</sender>
  <sent>{cap_time(sent)}</sent>
  <status>{status}</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>
  {f"<references>{references}</references>" if references else ""}
  <info>
    <language>zh-CN</language>
    <category>Met</category>
    <event>{event}</event>
    <urgency>{urgency}</urgency>
    <severity>{severity}</severity>
    <certainty>Likely</certainty>
    {f"<expires>{cap_time(expires)}</expires>" if expires else ""}
    <senderName>市气象台</senderName>
    <headline>{headline}</headline>
    <instruction>请减少外出</instruction>
    <area>{area}</area>
  </info>
</alert>""".encode()


def reference(identifier: str, sent: dt.datetime, sender: str = SENDER) -> str:
    return f"{sender},{identifier},{cap_time(sent)}"


def post_signed(client, path: str, body: bytes, key: str, *, nonce: str | None = None, timestamp: int | None = None,
                content_type: str = "application/cap+xml", headers: dict | None = None):
    signed = headers if headers is not None else signed_headers(key, body, nonce=nonce or secrets.token_hex(12),
                                                                timestamp=timestamp)
    meta = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in signed.items()}
    return client.post(path, data=body, content_type=content_type, **meta)
