"""The console's one page: an HTML shell whose scripts are static ES modules from this origin.

It imports nothing of the domain apps: everything the console shows comes from /graphql/ with
the signed-in person's token, so it sees exactly what a mobile app would.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control


def console_page(request: HttpRequest) -> HttpResponse:
    response = render(request, "console/index.html", {"config": console_config()})
    response["Content-Security-Policy"] = content_security_policy(request)
    # The shell is tiny and carries settings: always revalidate, never keep a stale copy.
    patch_cache_control(response, no_cache=True)
    return response


def console_config() -> dict[str, Any]:
    """What the scripts need before their first API call (read from a JSON data block)."""
    return {
        "graphqlPath": "/graphql/",
        "tiles": {
            "url": settings.CONSOLE_TILE_URL,
            "attribution": settings.CONSOLE_TILE_ATTRIBUTION,
            "subdomains": settings.CONSOLE_TILE_SUBDOMAINS,
            "datum": settings.CONSOLE_TILE_DATUM,
            "maxZoom": settings.CONSOLE_TILE_MAX_ZOOM,
        },
        "center": list(settings.CONSOLE_MAP_CENTER),
        "zoom": settings.CONSOLE_MAP_ZOOM,
    }


def tile_sources(url: str) -> list[str]:
    """The origins a tile URL template loads from ({s} becomes a wildcard subdomain)."""
    if not url:
        return []
    parts = urlsplit(url.replace("{s}", "subdomain"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return []
    host = parts.netloc.replace("subdomain", "*")
    return [f"{parts.scheme}://{host}"]


def content_security_policy(request: HttpRequest) -> str:
    """Scripts, styles and connections from this origin only (no inline script, no eval);
    images also from the tile server. The WebSocket origin is named because browsers differ
    on whether 'self' covers ws:/wss:."""
    scheme = "wss" if request.is_secure() else "ws"
    ws_origin = f"{scheme}://{request.get_host()}"
    images = " ".join(["'self'", "data:", *tile_sources(settings.CONSOLE_TILE_URL)])
    return "; ".join([
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src {images}",
        f"connect-src 'self' {ws_origin}",
        "font-src 'self'",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])
