from django.apps import AppConfig


class VolunteersConfig(AppConfig):
    name = "volunteers"
    verbose_name = "志愿者 Volunteers"

    def ready(self) -> None:
        # Imported here because they import models, which load after the app registry.
        from community.permissions import register_home_area_provider
        from notifications.inbound import register_reply_handler
        from notifications.outcomes import register_delivery_handler

        from . import my_data
        from .access import home_area_paths
        from .dispatch.texts import register_task_templates
        from .dispatch.undelivered import offers_undeliverable
        from .services.offers import handle_offer_reply, offer_still_waiting

        # A volunteer sees the areas they serve; a Party member sees their community.
        register_home_area_provider(home_area_paths)
        my_data.register_all()  # what it holds about a person (privacy.my_data)
        # Offers go out by push and SMS; SMS answers come back through the reply router.
        register_task_templates()
        register_reply_handler("task_offer", handle_offer_reply, still_waiting=offer_still_waiting, wants_cancel=True)
        # An offer SMS that cannot reach an SMS-only volunteer moves dispatch on at once.
        register_delivery_handler("task_offer", failed=offers_undeliverable)
