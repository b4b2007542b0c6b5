"""Voice webhooks: what the providers tell us about calls, recorded in the call outbox.

    POST /voice/twilio/status/<call_id>/   Twilio call progress (signed, X-Twilio-Signature)
    POST /voice/twilio/gather/<call_id>/   Twilio <Gather> action: the key pressed (signed);
                                           answered with the TwiML the caller hears next
    POST /voice/aliyun/report/             Aliyun VoiceReport / VoiceCallReport (token in the URL)

Each request is parsed and checked by its transport (parse_event: a forged, malformed or
oversize request gets 403/400/413 and changes nothing), then recorded by
notifications.voice_outbox.record_events; a key 1 or 2 enters the app's answer path.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .voice import DOMESTIC, INTERNATIONAL, CallbackError, get_voice_transport
from .voice.twilio import gather_reply
from .voice_outbox import record_events


def _take(route: str, request: HttpRequest) -> HttpResponse | None:
    try:
        events = get_voice_transport(route).parse_event(request)
    except CallbackError as exc:
        return HttpResponse(exc.message, status=exc.http_status, content_type="text/plain")
    record_events(events)
    return None


def _ack(route: str) -> HttpResponse:
    ack = get_voice_transport(route).acknowledgement()
    return HttpResponse(ack.body, status=ack.status, content_type=ack.content_type)


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest, call_id: int) -> HttpResponse:
    return _take(INTERNATIONAL, request) or _ack(INTERNATIONAL)


@csrf_exempt
@require_POST
def twilio_gather(request: HttpRequest, call_id: int) -> HttpResponse:
    return _take(INTERNATIONAL, request) or HttpResponse(gather_reply(request), content_type="text/xml")


@csrf_exempt
@require_POST
def aliyun_report(request: HttpRequest) -> HttpResponse:
    return _take(DOMESTIC, request) or _ack(DOMESTIC)
