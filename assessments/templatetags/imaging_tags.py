from dataclasses import asdict

from django import template

from assessments import selectors

register = template.Library()


@register.inclusion_tag("assessments/_patient_panel.html", takes_context=True)
def imaging_panel(context, patient):
    """The imaging box of a patient page: schedule, scans, readers and the accepted responses.
    Nothing for a user who may not see them."""
    user = context["request"].user
    if not (user.has_perm("assessments.view_scan") or user.has_perm("assessments.view_response")):
        return {"visible": False}
    data = selectors.patient_imaging(patient, user)
    data["responses"] = {c: asdict(r) if r else None for c, r in data["responses"].items()}
    return {
        "visible": True,
        "patient": patient,
        "perms": context["perms"],
        "csrf_token": context.get("csrf_token"),
        **data,
    }
