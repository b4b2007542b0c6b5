"""Content-Security-Policy on every HTML page the server serves: the admin, GraphiQL,
after-action reports and error pages say where their scripts, styles and connections may
come from; a page that set its own policy keeps it. Inline styles stay allowed (the admin
and the reports write a few; they run no code); inline scripts do not, except GraphiQL's own
(allowed by hash, see graphiql_policy).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

_BASE_POLICY: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def content_security_policy(extra: dict[str, list[str]] | None = None) -> str:
    directives = {name: list(sources) for name, sources in _BASE_POLICY.items()}
    for name, sources in (extra or {}).items():
        directives[name] = [*directives.get(name, []), *sources]
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def graphiql_policy(request: HttpRequest, body: bytes) -> str:
    """GraphiQL: its assets from the server (backend/static/graphiql/vendor; plus
    GRAPHIQL_ASSET_ORIGINS if a deployment lists any), any inline script allowed by hash only
    (the page is a fixed template: no visitor's text is in it; ours has none), and the
    WebSocket for subscriptions."""
    origins = list(settings.GRAPHIQL_ASSET_ORIGINS)
    hashes = [f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
              for script in _INLINE_SCRIPT.findall(body)]
    host = request.get_host()
    return content_security_policy({
        "script-src": [*origins, *hashes], "style-src": origins, "font-src": origins,
        "connect-src": [f"ws://{host}", f"wss://{host}"],
    })


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if "Content-Security-Policy" in response or not response.get("Content-Type", "").startswith("text/html"):
            return response
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name == "graphql" and isinstance(response, HttpResponse):
            response["Content-Security-Policy"] = graphiql_policy(request, response.content)
        else:
            response["Content-Security-Policy"] = content_security_policy()
        return response
