from django.urls import path

from . import voice_webhooks

urlpatterns = [
    path("twilio/status/<int:call_id>/", voice_webhooks.twilio_status, name="voice-twilio-status"),
    path("twilio/gather/<int:call_id>/", voice_webhooks.twilio_gather, name="voice-twilio-gather"),
    path("aliyun/report/", voice_webhooks.aliyun_report, name="voice-aliyun-report"),
]
