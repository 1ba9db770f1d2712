from django import template

from datamanagement import deviation_selectors

register = template.Library()


@register.inclusion_tag("datamanagement/_patient_deviations.html", takes_context=True)
def patient_deviations(context, patient):
    """The patient page's protocol deviations, derived and recorded, and the button to record
    one. Nothing for a user who may not see them (an iNKT course's deviation reveals the arm)."""
    user = context["request"].user
    if not user.has_perm("datamanagement.view_protocoldeviation"):
        return {"visible": False}
    return {
        "visible": True,
        "patient": patient,
        "perms": context["perms"],
        # the page's patient, read with its screening, allocation and infusion schedule
        "entries": deviation_selectors.log([patient]),
    }
