from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "通知 Notifications"

    def ready(self) -> None:
        # Imported here because the texts module loads the templates registry with the app.
        from privacy.erasure import register_eraser

        from . import erasure, my_data, retention
        from .sms_texts import register_builtin_templates

        register_builtin_templates()
        retention.register_all()  # what it keeps and for how long (privacy.retention)
        my_data.register_all()  # what it holds about a person (privacy.my_data)
        register_eraser("notifications", erasure.erase_reach)  # what it erases with a person (privacy.erasure)
        # A request's realtime events go once its response has been sent (realtime.publish_soon).
        from django.core.signals import request_finished

        from .realtime import release_held

        request_finished.connect(release_held, dispatch_uid="linli.realtime.release_held")
