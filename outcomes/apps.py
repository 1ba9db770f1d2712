from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "outcomes"
    verbose_name = "Outcomes (follow-up and efficacy endpoints)"

    def ready(self):
        from enrollment import evidence
        from outcomes.checks import survival

        evidence.register_evidence(survival)
