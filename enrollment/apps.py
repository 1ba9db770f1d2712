from django.apps import AppConfig
from django.db.models.signals import post_save

from inkt_trial.signals import records_written_in_bulk


class EnrollmentConfig(AppConfig):
    name = "enrollment"
    verbose_name = "Eligibility screening and enrolment"

    def ready(self):
        # The patient's stored state (models.CourseState): outdated by every clinical record
        # saved, in the record's transaction (any app's record may change it), and derived
        # again once that commits.
        post_save.connect(outdate_state_on_save, dispatch_uid="course-state-on-save")
        records_written_in_bulk.connect(outdate_states_after_bulk, dispatch_uid="course-state-bulk")


def outdate_state_on_save(sender, instance, raw=False, **kwargs):
    from enrollment import course
    from inkt_trial.audit import ClinicalRecord

    if raw or not isinstance(instance, ClinicalRecord):
        return  # loading fixtures; not a clinical record
    patient_id = getattr(instance, "patient_id", None)
    if patient_id is None:  # the patient itself, a read (through its assignment), a screening
        key = instance.freeze_key()
        patient_id = key[0] if key else None
    if patient_id is not None:
        course.states_outdated([patient_id])


def outdate_states_after_bulk(sender, patient_ids, **kwargs):
    """The states of patients whose records were written in bulk (inkt_trial.signals):
    outdated in the writing transaction, derived again once it commits."""
    from enrollment import course

    course.states_outdated(patient_ids)
