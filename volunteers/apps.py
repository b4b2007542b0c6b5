from django.apps import AppConfig


class VolunteersConfig(AppConfig):
    name = "volunteers"
    verbose_name = "志愿者 Volunteers"

    def ready(self) -> None:
        from community.permissions import register_home_area_provider

        from .access import home_area_paths

        # A volunteer sees the areas they serve; a Party member sees their community.
        register_home_area_provider(home_area_paths)
