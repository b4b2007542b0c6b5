from django.contrib import admin
from django.urls import include, path

from community.review_download import download_after_action_report
from schema.core.views import LinliGraphQLView

from .health import healthz, livez

urlpatterns = [
    path("admin/", admin.site.urls),
    path("graphql/", LinliGraphQLView.as_view(), name="graphql"),
    path("healthz", healthz, name="healthz"),
    path("livez", livez, name="livez"),
    path("reports/after-action/", download_after_action_report, name="after-action-report"),
    path("sms/", include("notifications.urls")),  # Twilio webhooks (notifications)
]
