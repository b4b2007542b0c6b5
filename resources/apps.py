from django.apps import AppConfig


class ResourcesConfig(AppConfig):
    name = "resources"
    verbose_name = "物资与设施 Resources"

    def ready(self) -> None:
        # Imported here because they import models, which load after the app registry.
        from volunteers.services import register_task_closed_handler

        from .deliveries import settle_task_supplies
        from .texts import register_resources_templates

        register_resources_templates()
        # A task that carries supplies records their distribution when it is done and frees
        # the reservation when it is cancelled (volunteers may not import resources).
        register_task_closed_handler("resources.deliveries", settle_task_supplies)
