from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "community"
    verbose_name = "社区 Community"

    def ready(self) -> None:
        # A resident sees their own grid and its ancestors (community.permissions).
        from . import privacy

        privacy.register()
