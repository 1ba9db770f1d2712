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
from dosing.models import (
    Apheresis,
    DrugExposure,
    Infusion,
    InfusionSchedule,
    ManufacturingBatch,
    ReleaseTest,
)
from enrollment import course, medication_services
from enrollment import services as enrollment
from enrollment.models import (
    ConcomitantMedication,
    MedicalHistory,
    Patient,
    Screening,
    StatusChange,
    TreatmentEnd,
)
from outcomes import services as outcomes
from outcomes.models import FollowUp
from safety import services as safety
from safety import visits
from safety.models import DRUGS, AdverseEvent, ClinicalVisit, LabValue, SaeReport


@dataclass(frozen=True)
class Target:
    model: type
    fields: tuple[str, ...]
    patient: Callable  # record -> the Patient, or None (a screening before enrolment)
    correct: Callable | None = None  # (record, by, reason, {field: value}) -> record
    history: str | None = None  # the URL name of the record's audit-trail page (pk)
    patient_path: str = "patient_id"  # the patient's id, as a query reads it
    # Fields a query may be raised on that are corrected on the record's own page only (the
    # investigator's own assessment), never through a query's answer.
    elsewhere: tuple[str, ...] = ()
    # (record, field) -> the field's value as the correction takes it, where it is not stored so
    value_of: Callable | None = None

    def accepts(self, field: str) -> bool:
        if field in self.fields or field in self.elsewhere:
            return True
        return self.model is Patient and PSEUDO_VISIT.match(field) is not None

    def corrects(self, field: str) -> bool:
        """Whether a query's answer may correct `field` (through the record's service)."""
        return self.correct is not None and field in self.fields


def _patient(record):
    return record.patient


def _screening_patient(record):
    """A record of the screening (medications, history): its patient, none before enrolment."""
    return getattr(record.screening, "patient", None)


# A laboratory value is corrected as the visit's form enters it (safety.visits.lab_correct):
# the value and its unit as entered, the local range in the unit the value was entered in (as
# a query shows it: value_of).
LAB_ARGUMENTS = {"value_entered": "value", "unit_entered": "unit", "lln": "lln", "uln": "uln"}


def _lab_value(record, field):
    """A local bound in the unit the value was entered in (stored in the canonical unit)."""
    if field in ("lln", "uln"):
        return visits.entered_bound(record, field)
    return getattr(record, field)


def _lab_correct(record, by, why, changes):
    return visits.lab_correct(
        lab=record, by=by, reason=why, **{LAB_ARGUMENTS[f]: v for f, v in changes.items()}
    )


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
    Target(  # its ASTCT inputs, narrative and expedited-report dates are among ENTERED
        AdverseEvent,
        tuple(f for f in safety.ENTERED if f != "infusion"),
        _patient,
        lambda r, by, why, ch: safety.ae_correct(event=r, by=by, reason=why, **ch),
        history="safety:event_history",
        # the investigator's expectedness (the SUSAR status follows): on the event's page
        elsewhere=tuple(f"expectedness_{drug}" for drug in DRUGS),
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
        ClinicalVisit,
        visits.VISIT_FIELDS,
        _patient,
        lambda r, by, why, ch: visits.visit_correct(visit=r, by=by, reason=why, **ch),
        history="safety:visit_history",
    ),
    Target(
        LabValue,
        tuple(LAB_ARGUMENTS),
        lambda r: r.visit.patient,
        _lab_correct,
        history="safety:lab_history",
        value_of=_lab_value,
        patient_path="visit__patient_id",
    ),
    Target(
        ConcomitantMedication,
        medication_services.MEDICATION_FIELDS,
        _screening_patient,
        lambda r, by, why, ch: medication_services.medication_correct(
            medication=r, by=by, reason=why, **ch
        ),
        history="enrollment:medication_history",
        patient_path="screening__patient__id",
    ),
    Target(
        MedicalHistory,
        medication_services.HISTORY_FIELDS,
        _screening_patient,
        lambda r, by, why, ch: medication_services.history_correct(
            entry=r, by=by, reason=why, **ch
        ),
        history="enrollment:medical_history_history",
        patient_path="screening__patient__id",
    ),
    # the cell product (the RPI arm only: roles that see arms alone see queries and SDV)
    Target(
        Apheresis,
        dosing.APHERESIS_FIELDS,
        _patient,
        lambda r, by, why, ch: dosing.apheresis_correct(apheresis=r, by=by, reason=why, **ch),
        history="dosing:apheresis_history",
    ),
    Target(
        ManufacturingBatch,
        dosing.BATCH_FIELDS,
        _patient,
        lambda r, by, why, ch: dosing.batch_correct(batch=r, by=by, reason=why, **ch),
        history="dosing:batch_history",
    ),
    Target(
        ReleaseTest,
        tuple(f for f in dosing.RELEASE_TEST_FIELDS if f != "assay"),  # the test is kept
        lambda r: r.batch.patient,
        lambda r, by, why, ch: dosing.release_test_correct(release_test=r, by=by, reason=why, **ch),
        history="dosing:release_test_history",
        patient_path="batch__patient_id",
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
