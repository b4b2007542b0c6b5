from django.urls import path

from . import domestic_webhooks, webhooks

urlpatterns = [
    path("inbound/", webhooks.inbound_sms, name="sms-inbound"),
    path("status/<int:message_id>/", webhooks.status_callback, name="sms-status-callback"),
    path("status/", webhooks.status_callback, name="sms-status-callback-any"),
    path("aliyun/report/", domestic_webhooks.aliyun_report, name="sms-aliyun-report"),
    path("aliyun/reply/", domestic_webhooks.aliyun_reply, name="sms-aliyun-reply"),
    path("tencent/report/", domestic_webhooks.tencent_report, name="sms-tencent-report"),
    path("tencent/reply/", domestic_webhooks.tencent_reply, name="sms-tencent-reply"),
]
