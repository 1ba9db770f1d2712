from django.apps import AppConfig


class DosingConfig(AppConfig):
    name = "dosing"
    verbose_name = "Dosing"

    def ready(self):
        from dosing.checks import courses_completed, doses
        from enrollment import evidence

        evidence.register_evidence(doses)
        evidence.register_stops(courses_completed)
