from django import template

from randomization import selectors

register = template.Library()


@register.inclusion_tag("randomization/_patient_panel.html", takes_context=True)
def allocation_panel(context, patient):
    """The randomization box of a patient page: arm, date and who, or the Randomize button.
    Shows nothing to a user who may not see allocations."""
    user = context["request"].user
    if not user.has_perm("randomization.view_allocation"):
        return {"visible": False}
    allocation = getattr(patient, "allocation", None)
    return {
        "visible": True,
        "patient": patient,
        "allocation": allocation,
        "arm": selectors.arm_shown(user, allocation) if allocation else None,
        "may_randomize": allocation is None and user.has_perm("randomization.add_allocation"),
    }
