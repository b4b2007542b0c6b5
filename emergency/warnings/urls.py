from django.urls import path

from . import webhooks

urlpatterns = [
    path("cap/<slug:code>/", webhooks.cap_webhook, name="warning-cap-webhook"),
    path("sensors/<slug:code>/", webhooks.sensor_webhook, name="warning-sensor-webhook"),
]
