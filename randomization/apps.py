from django.apps import AppConfig


class RandomizationConfig(AppConfig):
    name = "randomization"
    verbose_name = "Randomization"

    def ready(self):
        from enrollment import evidence
        from randomization.selectors import treatment_plan

        evidence.register_plan(treatment_plan)
