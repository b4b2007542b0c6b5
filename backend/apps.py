from django.apps import AppConfig

from . import checks  # noqa: F401 - registers the system checks


class BackendConfig(AppConfig):
    name = "backend"
    verbose_name = "Linli wiring"
