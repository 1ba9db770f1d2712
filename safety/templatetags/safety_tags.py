from django import template

from safety import selectors

register = template.Library()


@register.inclusion_tag("safety/_patient_panel.html", takes_context=True)
def safety_panel(context, patient):
    """The adverse events of a patient page. Nothing for a user who may not see them."""
    user = context["request"].user
    if not user.has_perm("safety.view_adverseevent"):
        return {"visible": False}
    return {
        "visible": True,
        "patient": patient,
        "perms": context["perms"],
        "events": selectors.patient_events(patient),
    }
