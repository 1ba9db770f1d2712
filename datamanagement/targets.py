"""The records a data query may be raised on, with the fields that may be queried, the patient
they belong to, and the service that corrects them (each app's own, with the reason). Blinded
readers' measurements are not among them: no role that raises queries may see them."""

from collections.abc import Callable
from dataclasses import dataclass

from assessments import services as imaging
from assessments.models import Questionnaire, Scan
from datamanagement import deviation_services
from datamanagement.models import PSEUDO_VISIT, ProtocolDeviation
from dosing import services as dosing
from dosing.models import DrugExposure, Infusion, InfusionSchedule
from enrollment import course
from enrollment import services as enrollment
from enrollment.models import Patient, Screening, StatusChange, TreatmentEnd
from outcomes import services as outcomes
from outcomes.models import FollowUp
from safety import services as safety
from safety.models import AdverseEvent, SaeReport


@dataclass(frozen=True)
class Target:
    model: type
    fields: tuple[str, ...]
    patient: Callable  # record -> the Patient, or None (a screening before enrolment)
    correct: Callable | None = None  # (record, by, reason, {field: value}) -> record
    history: str | None = None  # the URL name of the record's audit-trail page (pk)
    patient_path: str = "patient_id"  # the patient's id, as a query reads it

    def accepts(self, field: str) -> bool:
        if field in self.fields:
            return True
        return self.model is Patient and PSEUDO_VISIT.match(field) is not None


def _patient(record):
    return record.patient


TARGETS = [
    # the patient as a whole: what the edit checks find missing (no field of its own)
    Target(Patient, ("scans", "questionnaires"), lambda p: p, patient_path="id"),
    Target(
        Screening,
        enrollment.ENTERED_FIELDS,
        lambda s: getattr(s, "patient", None),
        lambda r, by, why, ch: enrollment.screening_update(
            screening=r, values=ch, by=by, reason=why
        ),
        history="enrollment:screening_history",
        patient_path="patient__id",
    ),
    Target(
        InfusionSchedule,
        ("first_planned_date", "window_days", "bsa_formula", "target_cells_per_m2"),
        _patient,
        lambda r, by, why, ch: dosing.schedule_update(schedule=r, by=by, reason=why, **ch),
    ),
    Target(
        Infusion,
        (*dosing._GIVEN_FIELDS, "deviation_reason"),
        _patient,
        lambda r, by, why, ch: dosing.infusion_correct(infusion=r, by=by, reason=why, **ch),
        history="dosing:infusion_history",
    ),
    Target(
        DrugExposure,
        ("drug", "product", "event", "dose", "unit", "route", "start_date", "end_date", "reason"),
        _patient,
    ),
    Target(Scan, ("scan_date", "kind", "modality", "regions"), _patient),
    Target(
        Questionnaire,
        ("visit", "completed_on"),
        _patient,
        lambda r, by, why, ch: imaging.questionnaire_correct(
            questionnaire=r, by=by, reason=why, **ch
        ),
        history="assessments:questionnaire_history",
    ),
    Target(
        AdverseEvent,
        tuple(f for f in safety.ENTERED if f != "infusion"),
        _patient,
        lambda r, by, why, ch: safety.ae_correct(event=r, by=by, reason=why, **ch),
        history="safety:event_history",
    ),
    Target(  # raised through the API (the report has no page of its own)
        SaeReport,
        ("kind", "sent_at", "information"),
        lambda r: r.event.patient,
        patient_path="event__patient_id",
    ),
    Target(
        FollowUp,
        outcomes.ENTERED,
        _patient,
        lambda r, by, why, ch: outcomes.followup_correct(record=r, by=by, reason=why, **ch),
        history="outcomes:followup_history",
    ),
    Target(
        StatusChange,
        course.CHANGE_FIELDS,
        _patient,
        lambda r, by, why, ch: course.status_change_correct(record=r, by=by, reason=why, **ch),
        history="enrollment:status_change_history",
    ),
    Target(
        TreatmentEnd,
        course.END_FIELDS,
        _patient,
        lambda r, by, why, ch: course.treatment_end_correct(
            record=r, by=by, correction_reason=why, **ch
        ),
        history="enrollment:treatment_end_history",
    ),
    Target(
        ProtocolDeviation,
        deviation_services.ENTERED,
        _patient,
        lambda r, by, why, ch: deviation_services.deviation_correct(
            deviation=r, by=by, reason=why, **ch
        ),
        history="datamanagement:deviation_history",
    ),
]
BY_MODEL = {t.model._meta.label_lower: t for t in TARGETS}


def target_of(record) -> Target | None:
    return BY_MODEL.get(type(record)._meta.label_lower)
