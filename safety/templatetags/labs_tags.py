from django import template

from safety import visits

register = template.Library()


@register.inclusion_tag("safety/_labs_panel.html", takes_context=True)
def labs_panel(context, patient):
    """The visits of a patient page: ECOG, vital signs, graded lab values, Child-Pugh, ALBI, the
    AFP response and the adverse events the values propose. Nothing for a user who may not see
    visits; the proposals only for those who see adverse events."""
    user = context["request"].user
    if not user.has_perm("safety.view_clinicalvisit"):
        return {"visible": False}
    return {
        "visible": True,
        "patient": patient,
        "perms": context["perms"],
        "csrf_token": context.get("csrf_token"),
        "visits": visits.patient_visits(patient, user),
        "proposals": visits.patient_proposals(patient, decisions=False)
        if user.has_perm("safety.view_proposedadverseevent")
        else None,
        "arms_visible": user.has_perm("randomization.view_arm"),
    }
