from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_save

from inkt_trial.signals import records_written_in_bulk


class DataManagementConfig(AppConfig):
    name = "datamanagement"
    verbose_name = "Data management (queries)"

    def ready(self):
        from datamanagement import selectors, views
        from datamanagement.checks import CHECKS
        from enrollment import columns
        from inkt_trial import freezing

        # the database lock, for every clinical record's save and every endpoint run
        freezing.register(refuse_frozen=selectors.refuse_frozen, state=selectors.lock_state)

        models = {model for check in CHECKS for model in check.on_save_of}
        for model in models:
            post_save.connect(run_checks_on_save, sender=model, dispatch_uid=f"checks-{model}")
        records_written_in_bulk.connect(run_checks_after_bulk, dispatch_uid="checks-bulk")
        columns.register(
            columns.Column(
                key="open_queries",
                label="Open queries",
                order=30,
                shown_to=lambda user: user.has_perm("datamanagement.view_dataquery"),
                values=selectors.open_query_counts,
                kind=int,
                help="Data queries awaiting an answer (null for a role that sees no query).",
                link=views.open_queries_link,
            )
        )


CHECKED_PER_BATCH = 500  # patients per edit-check run after a bulk write: memory bounded


def run_checks_after_bulk(sender, patient_ids, **kwargs):
    """The edit checks of patients whose records were written in bulk (inkt_trial.signals),
    once the writing transaction commits, a batch of patients at a time."""
    ids = list(patient_ids)

    def run():
        from datamanagement.services import checks_run

        for start in range(0, len(ids), CHECKED_PER_BATCH):
            checks_run(patient_ids=ids[start : start + CHECKED_PER_BATCH])

    transaction.on_commit(run, robust=True)


def run_checks_on_save(sender, instance, raw=False, **kwargs):
    """The edit checks the saved record concerns, for its patient, once the save commits."""
    if raw:
        return  # loading fixtures
    patient_id = getattr(instance, "patient_id", None)
    if patient_id is None:
        patient = getattr(instance, "patient", None) if hasattr(instance, "patient") else None
        patient_id = getattr(patient, "pk", None)
    if patient_id is None:
        return  # a screening of nobody enrolled yet

    def run():
        from datamanagement.services import checks_run

        checks_run(patient_ids=[patient_id], saved=sender)

    transaction.on_commit(run, robust=True)  # a failing check never fails the save
