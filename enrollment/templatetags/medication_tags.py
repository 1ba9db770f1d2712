from django import template

from enrollment import selectors

register = template.Library()


@register.inclusion_tag("enrollment/_medication_panel.html", takes_context=True)
def medication_panel(context, screening):
    """The medical history and the concomitant medications (ongoing first), the warnings
    highlighted (enrollment.medications). Nothing for a user who may not see them (radiologists
    and adjudicators)."""
    user = context["request"].user
    if not user.has_perm("enrollment.view_concomitantmedication"):
        return {"visible": False}
    return {
        "visible": True,
        "screening": screening,
        "perms": context["perms"],
        **selectors.medication_panel(screening),
    }
