"""The console's page and files, without a browser: served by the same Django under a strict
Content-Security-Policy, scripts only from this origin, every word and every API error code
in both languages."""

from __future__ import annotations

import json
import re
from pathlib import Path

from django.conf import settings

from console.views import content_security_policy, tile_sources

STATIC = Path(settings.BASE_DIR) / "console" / "static" / "console"
SCHEMA = Path(settings.BASE_DIR) / "schema" / "schema.graphql"


def js_object(source: str, name: str) -> dict[str, dict[str, str]]:
    """The two language tables of a dictionary module, read as text (keys and strings only)."""
    block = source[source.index(f"const {name} = {{") if f"const {name} = {{" in source else source.index(f"export const {name} = {{"):]
    tables: dict[str, dict[str, str]] = {}
    for lang in ("zh", "en"):
        start = block.index(f"  {lang}: {{")
        end = block.index("\n  },", start)
        pairs = re.findall(r"^\s+'?([\w.]+)'?: '((?:[^'\\]|\\.)*)',", block[start:end], re.M)
        tables[lang] = dict(pairs)
    return tables


def test_the_console_page_is_served_with_a_strict_content_security_policy(client):
    response = client.get("/console/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    html = response.content.decode()
    # No inline script: the only <script> elements load a file or carry JSON data.
    for tag in re.findall(r"<script[^>]*>", html):
        assert 'src="/static/console/' in tag or 'type="application/json"' in tag, tag
    config = json.loads(re.search(r'<script id="console-config" type="application/json">(.*?)</script>', html).group(1))
    assert config["graphqlPath"] == "/graphql/" and config["tiles"]["datum"] in ("WGS84", "GCJ02")


def test_the_tile_server_is_the_only_other_origin_images_come_from(rf, settings):
    settings.CONSOLE_TILE_URL = "https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}&style=8"
    policy = content_security_policy(rf.get("/console/"))
    assert "img-src 'self' data: https://webrd0*.is.autonavi.com" in policy
    assert "connect-src 'self' ws://testserver" in policy
    assert tile_sources("") == [] and tile_sources("javascript:alert(1)") == []


def test_the_console_needs_no_file_from_elsewhere():
    for path in STATIC.rglob("*"):
        if path.suffix in (".js", ".css", ".html") and "vendor" not in path.parts:
            text = path.read_text()
            assert not re.search(r"""(?:src|href|import|from|url)\s*\(?\s*['"]https?://""", text), path
            assert "innerHTML" not in text and "eval(" not in text, path


def test_every_word_the_console_uses_is_in_both_languages():
    tables = js_object((STATIC / "i18n.js").read_text(), "STRINGS")
    assert tables["zh"].keys() == tables["en"].keys()
    used: set[str] = set()
    for path in STATIC.rglob("*.js"):
        if "vendor" in path.parts or path.name == "i18n.js":
            continue
        used |= set(re.findall(r"\bt\('([\w.]+)'", path.read_text()))
    assert used - tables["zh"].keys() == set()
    # Keys built from API enums: every value of those enums has its words.
    sdl = SCHEMA.read_text()
    for prefix, enum in [("mode", "Mode"), ("taskStatus", "TaskStatus"), ("priority", "TaskPriority"), ("event", "TaskEventKind"),
                         ("assignment", "TaskAssignmentStatus"), ("offer", "OfferStatus"), ("reportStatus", "ReportStatus"),
                         ("reportKind", "ReportKind"), ("action", "PlanAction"), ("flag", "VulnerabilityFlag"),
                         ("hazardKind", "HazardKind"), ("severity", "Severity"), ("inspection", "InspectionResult"),
                         ("regStatus", "PartyRegistrationStatus"), ("hoursKind", "ServiceHoursKind"),
                         ("taskSource", "TaskSource"), ("windCause", "WindDownCause"), ("fanout", "FanoutStatus"),
                         ("facilityKind", "FacilityKind"), ("facilityStatus", "FacilityStatus"), ("proposal", "ProposalStatus"),
                         ("capSeverity", "CapSeverity")]:
        values = re.search(rf"^enum {enum} {{\n(.*?)^}}", sdl, re.M | re.S).group(1).split()
        missing = {f"{prefix}.{v}" for v in values if not v.startswith('"')} - tables["zh"].keys()
        assert not missing, missing


def test_every_error_code_of_the_api_has_plain_words_in_both_languages():
    tables = js_object((STATIC / "errors.js").read_text(), "ERRORS")
    sdl = SCHEMA.read_text()
    codes = set(re.search(r"^enum ErrorCode {\n(.*?)^}", sdl, re.M | re.S).group(1).split())
    top_level = {"UNAUTHENTICATED", "TOKEN_EXPIRED", "FORBIDDEN", "NOT_FOUND", "RATE_LIMITED", "QUERY_TOO_COMPLEX",
                 "GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT", "BAD_REQUEST", "SERVICE_UNAVAILABLE", "INTERNAL"}
    for lang in ("zh", "en"):
        assert (codes | top_level) - tables[lang].keys() == set(), lang
