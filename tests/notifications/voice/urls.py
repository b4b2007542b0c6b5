"""Reference webhook views for the voice transports, mounted at the transports' own paths for
the tests (settings.ROOT_URLCONF): the shape the integrator's real views take, minus the
recording - here every accepted event lands in `received`."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from notifications.voice import (
    DOMESTIC,
    INTERNATIONAL,
    CallbackError,
    CallEvent,
    get_voice_transport,
)
from notifications.voice.twilio import gather_reply

received: list[CallEvent] = []


def _take(name: str, request: HttpRequest) -> HttpResponse | None:
    try:
        received.extend(get_voice_transport(name).parse_event(request))
    except CallbackError as exc:
        return HttpResponse(exc.message, status=exc.http_status, content_type="text/plain")
    return None


@csrf_exempt
def twilio_status(request: HttpRequest, call_id: int) -> HttpResponse:
    refused = _take(INTERNATIONAL, request)
    if refused is not None:
        return refused
    ack = get_voice_transport(INTERNATIONAL).acknowledgement()
    return HttpResponse(ack.body, status=ack.status, content_type=ack.content_type)


@csrf_exempt
def twilio_gather(request: HttpRequest, call_id: int) -> HttpResponse:
    return _take(INTERNATIONAL, request) or HttpResponse(gather_reply(request), content_type="text/xml")


@csrf_exempt
def aliyun_report(request: HttpRequest) -> HttpResponse:
    refused = _take(DOMESTIC, request)
    if refused is not None:
        return refused
    ack = get_voice_transport(DOMESTIC).acknowledgement()
    return HttpResponse(ack.body, status=ack.status, content_type=ack.content_type)


urlpatterns = [
    path("voice/twilio/status/<int:call_id>/", twilio_status),
    path("voice/twilio/gather/<int:call_id>/", twilio_gather),
    path("voice/aliyun/report/", aliyun_report),
]
