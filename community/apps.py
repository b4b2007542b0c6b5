from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "community"
    verbose_name = "社区 Community"

    def ready(self) -> None:
        # A resident sees their own grid and its ancestors (community.permissions); the
        # provider imports models, so it is registered once the app registry is ready.
        from . import my_data, privacy, retention

        privacy.register()
        retention.register_all()  # what it keeps and for how long (privacy.retention)
        my_data.register_all()  # what it holds about a person (privacy.my_data)
