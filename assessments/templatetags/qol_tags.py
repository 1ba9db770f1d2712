from django import template

from assessments import selectors

register = template.Library()


@register.inclusion_tag("assessments/_qol_panel.html", takes_context=True)
def qol_panel(context, patient):
    """The QLQ-C30 box of a patient page: each scale per visit, with the change from baseline.
    Nothing for a user who may not see questionnaires."""
    if not context["request"].user.has_perm("assessments.view_questionnaire"):
        return {"visible": False}
    return {
        "visible": True,
        "patient": patient,
        "perms": context["perms"],
        **selectors.patient_quality_of_life(patient),
    }
