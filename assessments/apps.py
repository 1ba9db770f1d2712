from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = "Imaging and questionnaires"

    def ready(self):
        from assessments import checks
        from enrollment import evidence
        from randomization import prerequisites

        prerequisites.register(checks.baseline_recent_enough)
        evidence.register_evidence(checks.records)
        evidence.register_stops(checks.progression)
