"""The data migrations that moved the patient's course out of follow-up and dosing: deaths,
withdrawals and losses to follow-up became status changes (outcomes 0007), each end of
treatment one end per drug of the arm (dosing 0004), with their audit trail."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

OUTCOMES_BEFORE = ("outcomes", "0006_history_reason_as_text")
DOSING_BEFORE = ("dosing", "0003_history_reason_as_text")
CREATED, CORRECTED = (
    datetime(2026, 5, 2, 9, 0, tzinfo=UTC),
    datetime(2026, 5, 4, 15, 30, tzinfo=UTC),
)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor


def latest():
    return list(MigrationExecutor(connection).loader.graph.leaf_nodes())


def before():
    """Every app at its latest migration but outcomes and dosing, just before the two."""
    nodes = [n for n in latest() if n[0] not in ("outcomes", "dosing")]
    return [*nodes, OUTCOMES_BEFORE, DOSING_BEFORE]


SCREENING = {
    "date_of_birth": date(1960, 3, 1),
    "sex": "M",
    "consent_date": date(2026, 1, 5),
    "screening_date": date(2026, 1, 6),
    "height_cm": 170,
    "weight_kg": 70,
    "bilirubin": 15,
    "bilirubin_unit": "umol/L",
    "bilirubin_uln": 21,
    "albumin": 40,
    "albumin_unit": "g/L",
    "inr": 1,
    "ascites": "none",
    "encephalopathy": "none",
    "bclc_stage": "C",
    "prior_regimen": "lenvatinib + sintilimab",
    "prior_regimen_start": date(2025, 6, 1),
    "prior_progression": True,
    "life_expectancy_12_weeks": True,
    **dict.fromkeys(
        [
            "hypertension_cardiac",
            "cns_or_other_malignancy",
            "uncontrolled_immune_infectious",
            "hiv_syphilis",
            "transplant",
            "immunotherapy_allergy",
            "serious_complications",
            "pregnancy_lactation",
            "antibody_antiangiogenic_allergy",
            "unsuitable_for_cell_therapy",
        ],
        False,
    ),
    "age_years": 65,
    "bilirubin_umol_l": 15,
    "albumin_g_l": 40,
    "bilirubin_x_uln": "0.71",
    "child_pugh_points": 5,
    "child_pugh_class": "A",
    "outcome": "eligible",
}


def make_patients(apps, user):
    """Two randomized patients, one per arm, with the fewest rows the models allow."""
    Screening = apps.get_model("enrollment", "Screening")
    Patient = apps.get_model("enrollment", "Patient")
    Sequence = apps.get_model("randomization", "AllocationSequence")
    Slot = apps.get_model("randomization", "Slot")
    Allocation = apps.get_model("randomization", "Allocation")
    sequence = Sequence.objects.create(version=1, method="generated", length=84, created_by=user)
    patients = {}
    for position, arm in enumerate(("RPI", "RP"), start=1):
        screening = Screening.objects.create(
            screening_number=f"S-{position:03}", created_by=user, **SCREENING
        )
        patient = Patient.objects.create(
            study_id=f"P-{position:03}",
            enrolled_at=datetime(2026, 1, 8, 3, 0, tzinfo=UTC),
            enrolled_by=user,
            screening=screening,
        )
        slot = Slot.objects.create(
            sequence=sequence, position=position, block=1, block_size=2, arm=arm
        )
        Allocation.objects.create(
            patient=patient,
            arm=arm,
            slot=slot,
            randomized_at=datetime(2026, 1, 9, 3, 0, tzinfo=UTC),
            randomized_by=user,
        )
        patients[arm] = patient
    return patients


def record(apps, label, *, versions, **values):
    """A record of `label` ("app.Model") whose audit trail is `versions`: (moment, user, reason,
    changed fields) oldest first; the record is left as the last version has it."""
    Model = apps.get_model(*label.split("."))
    History = apps.get_model(label.split(".")[0], f"Historical{label.split('.')[1]}")
    row = Model.objects.create(**values)
    for index, (moment, user, reason, changes) in enumerate(versions):
        values.update(changes)
        History.objects.create(
            id=row.pk,
            history_date=moment,
            history_user=user,
            history_type="~" if index else "+",
            history_change_reason=reason,
            **values,
        )
    Model.objects.filter(pk=row.pk).update(**values)
    return row.pk


def versions_of(History, pk):
    return [
        (v.date, v.history_date, v.history_user_id, v.history_type, v.history_change_reason)
        for v in History.objects.filter(id=pk).order_by("history_date", "history_id")
    ]


def test_status_records_and_ends_of_treatment_move_with_their_history():
    try:
        executor = migrate(before())
        old = executor.loader.project_state(before()).apps
        User = old.get_model("auth", "User")
        coordinator = User.objects.create(username="coordinator", password="!")
        manager = User.objects.create(username="datamanager", password="!")
        patients = make_patients(old, coordinator)
        rpi, rp = patients["RPI"], patients["RP"]
        first = [(CREATED, coordinator, None, {})]

        def followup(patient, kind, day, versions=first, **values):
            return record(
                old,
                "outcomes.FollowUp",
                versions=versions,
                patient_id=patient.pk,
                kind=kind,
                date=day,
                recorded_by_id=coordinator.pk,
                **values,
            )

        contact = followup(rpi, "contact", date(2026, 3, 1), notes="By phone")
        lost = followup(rpi, "lost", date(2026, 3, 20), notes="No answer since March")
        died = followup(
            rpi,
            "death",
            date(2026, 5, 2),
            versions=[
                (CREATED, coordinator, None, {}),
                (CORRECTED, manager, "Date from the death certificate", {"date": date(2026, 5, 1)}),
            ],
            cause="Liver failure",
            notes="Told by the family",
        )
        withdrawn = followup(rp, "withdrawal", date(2026, 4, 1))
        # recorded as a contact, then corrected to the death it was (the old correction allowed
        # changing the kind): its contact version cannot be a status change
        corrected = followup(
            rp,
            "contact",
            date(2026, 3, 30),
            versions=[
                (CREATED, coordinator, None, {}),
                (CORRECTED, manager, "It was the death", {"kind": "death", "cause": "Sepsis"}),
            ],
        )

        def end_of_treatment(patient, versions, **values):
            return record(
                old,
                "dosing.EndOfTreatment",
                versions=versions,
                patient_id=patient.pk,
                recorded_by_id=coordinator.pk,
                **values,
            )

        rpi_end = end_of_treatment(
            rpi,
            [
                (CREATED, coordinator, None, {}),
                (CORRECTED, manager, "Progression confirmed earlier", {"date": date(2026, 3, 10)}),
            ],
            date=date(2026, 3, 15),
            reason="progression",
            details="Liver lesions",
        )
        rp_end = end_of_treatment(rp, first, date=date(2026, 4, 1), reason="withdrawal")

        executor = migrate(latest())
        new = executor.loader.project_state(latest()).apps
        StatusChange = new.get_model("enrollment", "StatusChange")
        StatusHistory = new.get_model("enrollment", "HistoricalStatusChange")
        FollowUp = new.get_model("outcomes", "FollowUp")
        FollowUpHistory = new.get_model("outcomes", "HistoricalFollowUp")
        TreatmentEnd = new.get_model("enrollment", "TreatmentEnd")
        EndHistory = new.get_model("enrollment", "HistoricalTreatmentEnd")

        changes = {(c.patient_id, c.kind): c for c in StatusChange.objects.all()}
        assert set(changes) == {
            (rpi.pk, "death"),
            (rpi.pk, "lost"),
            (rp.pk, "withdrawal_all"),
            (rp.pk, "death"),
        }
        note = (
            "Moved from follow-up record {} to the patient's status (migration; {} earlier "
            "versions of another kind stay in the follow-up record's history)."
        )
        death = changes[rpi.pk, "death"]
        assert (death.date, death.cause, death.details, death.recorded_by_id) == (
            date(2026, 5, 1),
            "Liver failure",
            "Told by the family",
            coordinator.pk,
        )
        assert changes[rpi.pk, "lost"].details == "No answer since March"
        assert changes[rp.pk, "withdrawal_all"].date == date(2026, 4, 1)
        assert not changes[rp.pk, "withdrawal_all"].public_records_allowed

        moved = StatusHistory.objects.filter(id=death.pk).order_by("-history_id").first()
        assert versions_of(StatusHistory, death.pk) == [
            (date(2026, 5, 2), CREATED, coordinator.pk, "+", None),
            (date(2026, 5, 1), CORRECTED, manager.pk, "~", "Date from the death certificate"),
            (
                date(2026, 5, 1),
                moved.history_date,
                None,
                "~",
                note.format(died, 0),
            ),
        ]
        assert moved.history_date > CORRECTED
        assert [v.cause for v in StatusHistory.objects.filter(id=death.pk)] == ["Liver failure"] * 3
        lost_versions = versions_of(StatusHistory, changes[rpi.pk, "lost"].pk)
        assert [v[4] for v in lost_versions] == [
            None,
            note.format(lost, 0),
        ]
        withdrawal_versions = versions_of(StatusHistory, changes[rp.pk, "withdrawal_all"].pk)
        assert len(withdrawal_versions) == 2 and str(withdrawn) in withdrawal_versions[1][4]

        from_contact = changes[rp.pk, "death"]
        assert (from_contact.date, from_contact.cause) == (date(2026, 3, 30), "Sepsis")
        assert [v[3:] for v in versions_of(StatusHistory, from_contact.pk)] == [
            ("+", "It was the death"),
            ("~", note.format(corrected, 1)),
        ]
        assert list(FollowUp.objects.values_list("pk", "kind", "notes")) == [
            (contact, "contact", "By phone")
        ]
        # the moved records' own history stays, closed by a version saying where they went
        kept = versions_of(FollowUpHistory, died)
        assert [v[3:] for v in kept] == [
            ("+", None),
            ("~", "Date from the death certificate"),
            ("-", "Moved to StatusChange (migration)."),
        ]
        assert [
            v.kind
            for v in FollowUpHistory.objects.filter(id=corrected).order_by(
                "history_date", "history_id"
            )
        ] == [
            "contact",
            "death",
            "death",
        ]

        ends = {(e.patient_id, e.drug): e for e in TreatmentEnd.objects.all()}
        assert set(ends) == {
            (rpi.pk, "inkt"),
            (rpi.pk, "pd1"),
            (rpi.pk, "regorafenib"),
            (rp.pk, "pd1"),
            (rp.pk, "regorafenib"),
        }
        for drug in ("inkt", "pd1", "regorafenib"):
            end = ends[rpi.pk, drug]
            assert (end.date, end.reason, end.details) == (
                date(2026, 3, 10),
                "progression",
                "Liver lesions",
            )
            trail = versions_of(EndHistory, end.pk)
            assert [v[:4] for v in trail[:2]] == [
                (date(2026, 3, 15), CREATED, coordinator.pk, "+"),
                (date(2026, 3, 10), CORRECTED, manager.pk, "~"),
            ]
            assert [v[4] for v in trail] == [
                None,
                "Progression confirmed earlier",
                f"Moved from the end of treatment {rpi_end} (one per drug since; migration).",
            ]
            assert EndHistory.objects.filter(id=end.pk, drug=drug).count() == 3
        for drug in ("pd1", "regorafenib"):
            end = ends[rp.pk, drug]
            assert (end.date, end.reason) == (date(2026, 4, 1), "withdrawal")
            assert [v[4] for v in versions_of(EndHistory, end.pk)] == [
                None,
                f"Moved from the end of treatment {rp_end} (one per drug since; migration).",
            ]

        tables = connection.introspection.table_names()
        assert "dosing_endoftreatment" not in tables
        assert "dosing_historicalendoftreatment" not in tables
    finally:
        migrate(latest())
