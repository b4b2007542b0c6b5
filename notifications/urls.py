from django.urls import path

from . import webhooks

urlpatterns = [
    path("inbound/", webhooks.inbound_sms, name="sms-inbound"),
    path("status/<int:message_id>/", webhooks.status_callback, name="sms-status-callback"),
    path("status/", webhooks.status_callback, name="sms-status-callback-any"),
]
