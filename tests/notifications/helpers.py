"""Small helpers shared by the notifications tests."""

from __future__ import annotations

from twilio.request_validator import RequestValidator

from tests.fake_twilio import AUTH_TOKEN

PUBLIC = "https://linli.example"


def signed_post(client, path: str, params: dict, *, token: str = AUTH_TOKEN, url: str | None = None, **extra):
    """POST form params to `path` signed the way Twilio signs (the library's own validator)."""
    signature = RequestValidator(token).compute_signature(url or f"{PUBLIC}{path}", params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature, **extra)


def inbound_params(phone: str, body: str, sid: str = "SM" + "1" * 32) -> dict:
    return {
        "MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "f" * 32, "From": phone,
        "To": "+8610690000000", "Body": body, "NumMedia": "0",
    }


def send_queued() -> int:
    """What the SMS workers would do: hand every queued outbox message to the transport (a
    prompt still in the queue takes no reply). Returns how many were attempted."""
    from notifications import delivery
    from notifications.models import SmsMessage, SmsStatus

    ids = list(SmsMessage.objects.filter(status=SmsStatus.QUEUED).order_by("id").values_list("pk", flat=True))
    for pk in ids:
        delivery.deliver(pk, pace=False)
    return len(ids)


def send_pushes() -> int:
    """What the push drainers would do: hand every due push to its (in-memory) provider."""
    from notifications import push_outbox
    from notifications.push import PROVIDERS

    return sum(push_outbox.drain(provider, max_seconds=30).attempted for provider in PROVIDERS)


_device_numbers = iter(range(1, 10**9))


def give_device(user, provider: str = "apns", platform: str | None = None):
    """Register a device for `user` through the service the registerDevice mutation calls."""
    from notifications.devices import register_device

    n = next(_device_numbers)
    token = f"{n:064x}" if provider == "apns" else f"dev{n:08d}tokenabcdefghijkl"
    platform = platform or ("ios" if provider == "apns" else "android")
    return register_device(user, platform=platform, provider=provider, token=token, app_version="2.0.0")
