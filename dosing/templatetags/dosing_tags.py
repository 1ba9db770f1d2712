from django import template

from dosing import rules, selectors
from randomization.protocol import RPI

register = template.Library()


@register.filter
def cells(value):
    """8.641 × 10⁸, not 8.641e+08 (dosing.rules.cell_count)."""
    return "" if value in (None, "") else rules.cell_count(value)


@register.inclusion_tag("dosing/_patient_panel.html", takes_context=True)
def dosing_panel(context, patient):
    """The treatment box of a patient page: iNKT schedule (RPI), PD-1 and regorafenib, end of
    treatment and the exposure summary. Nothing for a user who may not see dosing."""
    user = context["request"].user
    if not user.has_perm("dosing.view_infusion"):
        return {"visible": False}
    allocation = getattr(patient, "allocation", None)
    dosing = selectors.patient_dosing(patient)
    drugs = [d for d in dosing["stops"] if d != "inkt" or (allocation and allocation.arm == RPI)]
    rpi = allocation is not None and allocation.arm == RPI
    # the cell product exists only for the RPI arm: shown to those who may see the arm's records
    show_chain = rpi and user.has_perm("dosing.view_manufacturingbatch")
    return {
        "visible": True,
        "all_stopped": all(dosing["stops"][d] for d in drugs),
        "backbone_stops": [
            (dosing["drug_labels"][d], dosing["stops"][d])
            for d in ("pd1", "regorafenib")
            if dosing["stops"][d]
        ],
        "patient": patient,
        "randomized": allocation is not None,
        "rpi": rpi,
        "chain": selectors.patient_chain(patient) if show_chain else None,
        "show_chain": show_chain,
        "perms": context["perms"],
        **dosing,
    }
