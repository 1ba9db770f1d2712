from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "safety"
    verbose_name = "Safety (CTCAE v5.0 adverse events)"

    def ready(self):
        from enrollment import evidence
        from safety import checks

        evidence.register_evidence(checks.onsets_and_resolutions)
        evidence.register_fatal_dates(checks.fatal_dates)
        evidence.register_stops(checks.withdrawn_for_toxicity)
