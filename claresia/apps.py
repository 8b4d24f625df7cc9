from django.apps import AppConfig


class ClaresiaConfig(AppConfig):
    name = "claresia"
    verbose_name = "Claresia"
