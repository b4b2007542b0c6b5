"""ASGI entry point: HTTP to Django, WebSocket /graphql/ to the graphql-transport-ws consumer."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from schema.core.consumers import GraphQLTransportWSConsumer  # noqa: E402

websocket_urlpatterns = [path("graphql/", GraphQLTransportWSConsumer.as_asgi())]

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Mobile clients authenticate with a token in connection_init, never with cookies,
        # so the route needs no Origin check (research R2.1 option b); see consumers.py.
        "websocket": URLRouter(websocket_urlpatterns),
    }
)
