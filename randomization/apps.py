from django.apps import AppConfig


class RandomizationConfig(AppConfig):
    name = "randomization"
    verbose_name = "Randomization"

    def ready(self):
        from enrollment import columns, evidence
        from randomization import selectors

        evidence.register_plan(selectors.treatment_plans)
        columns.register(
            columns.Column(
                key="arm",
                label="Arm",
                order=10,
                shown_to=lambda user: user.has_perm("randomization.view_allocation"),
                values=selectors.arms_shown,
                help="The arm as your role may see it (a masked role: its code); null before "
                "randomization or for a role that sees no allocation.",
                choices=selectors.arm_choices,
                narrow=selectors.with_arm,
            )
        )
