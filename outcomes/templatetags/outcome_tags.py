from django import template

from outcomes.exports import months_shown
from outcomes.models import FollowUp

register = template.Library()


@register.inclusion_tag("outcomes/_followup_panel.html", takes_context=True)
def followup_panel(context, patient):
    """The follow-up box of a patient page. Nothing for a user who may not see it."""
    if not context["request"].user.has_perm("outcomes.view_followup"):
        return {"visible": False}
    return {
        "visible": True,
        "patient": patient,
        "perms": context["perms"],
        # one patient's, in the model's order without joining the patients to sort by study ID
        "records": FollowUp.objects.filter(patient=patient).order_by("date", "id"),
    }


@register.simple_tag
def duration(days):
    """A KM time as the run page shows it: months with the days in brackets; NR (not reached)
    when there is none."""
    if days is None:
        return "NR"
    return f"{months_shown(days)} [{days:.0f}]"
