from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "community"
    verbose_name = "社区 Community"

    def ready(self) -> None:
        # A resident sees their own grid and its ancestors (community.permissions).
        from . import privacy

        privacy.register()
        # Emergency texts and the SMS reply handlers of safety checks and mobilisation.
        from .emergency_texts import register_emergency_templates
        from .safety_answers import register_reply_handlers

        register_emergency_templates()
        register_reply_handlers()
