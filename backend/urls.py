from django.contrib import admin
from django.urls import include, path

from community.admin_login import throttled_admin_login
from community.data_download import download_my_data
from emergency.cap.feed import cap_alert, cap_feed
from emergency.review_download import download_after_action_report
from schema.core.views import LinliGraphQLView

from .health import healthz, livez

urlpatterns = [
    path("admin/login/", throttled_admin_login, name="admin-login"),  # before the admin's own
    path("admin/", admin.site.urls),
    path("console/", include("console.urls")),  # the web console (static ES modules + one shell)
    path("graphql/", LinliGraphQLView.as_view(), name="graphql"),
    path("healthz", healthz, name="healthz"),
    path("livez", livez, name="livez"),
    path("cap/feed.atom", cap_feed, name="cap-feed"),
    path("cap/alerts/<str:identifier>.xml", cap_alert, name="cap-alert"),
    path("reports/after-action/", download_after_action_report, name="after-action-report"),
    path("me/data/", download_my_data, name="my-data"),  # a person's own data (privacy.my_data)
    path("sms/", include("notifications.urls")),  # Twilio webhooks (notifications)
    path("voice/", include("notifications.voice_urls")),  # voice-call webhooks (notifications)
    path("warnings/", include("emergency.warnings.urls")),  # signed CAP and sensor webhooks
]
