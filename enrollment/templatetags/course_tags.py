from django import template

from enrollment import course

register = template.Library()


@register.inclusion_tag("enrollment/_course_panel.html", takes_context=True)
def course_panel(context, patient):
    """The patient's status box: where the patient stands, how they got there, each drug's end
    of treatment, the status changes. Nothing for a user who may not see it (the drugs reveal
    the arm: it needs the end-of-treatment view permission)."""
    user = context["request"].user
    if not user.has_perm("enrollment.view_treatmentend"):
        return {"visible": False}
    return {
        "visible": True,
        "patient": patient,
        "perms": context["perms"],
        **course.state(patient),
    }
