from django.apps import AppConfig


class DataManagementConfig(AppConfig):
    name = "datamanagement"
    verbose_name = "Data management (queries)"
