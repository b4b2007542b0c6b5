from django.apps import AppConfig


class EmergencyConfig(AppConfig):
    name = "emergency"
    verbose_name = "应急 Emergency"

    def ready(self) -> None:
        # Texts are registered and reply handlers plugged into the SMS reply router once the
        # app registry is ready (they import models).
        from . import my_data
        from .escalation import register_handlers as register_escalation_handlers
        from .safety_answers import register_delivery_handlers, register_reply_handlers
        from .texts import register_emergency_templates

        register_emergency_templates()
        register_reply_handlers()
        register_delivery_handlers()
        register_escalation_handlers()
        my_data.register_all()  # what it holds about a person (privacy.my_data)
