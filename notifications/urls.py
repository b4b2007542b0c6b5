from django.urls import path

from . import domestic_webhooks, webhooks

_ROUTES = [
    ("inbound/", webhooks.inbound_sms, "sms-inbound"),
    ("status/<int:message_id>/", webhooks.status_callback, "sms-status-callback"),
    ("status/", webhooks.status_callback, "sms-status-callback-any"),
    ("aliyun/report/", domestic_webhooks.aliyun_report, "sms-aliyun-report"),
    ("aliyun/reply/", domestic_webhooks.aliyun_reply, "sms-aliyun-reply"),
    ("tencent/report/", domestic_webhooks.tencent_report, "sms-tencent-report"),
    ("tencent/reply/", domestic_webhooks.tencent_reply, "sms-tencent-reply"),
]

# Providers do not repeat a POST after a redirect (APPEND_SLASH's 301): every webhook answers
# without its trailing slash too (the signature covers the URL as the provider called it).
urlpatterns = [path(route, view, name=name) for route, view, name in _ROUTES] + [
    path(route.rstrip("/"), view) for route, view, _name in _ROUTES
]
