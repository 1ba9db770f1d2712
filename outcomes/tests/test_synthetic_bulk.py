"""The synthetic trial's bulk path (outcomes/synthetic_bulk.py) makes the trial the services
make: every row and every historical row the same, and a sample of its records accepted again
by the services' own checks."""

import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from assessments import services as imaging
from assessments.models import EvaluatedSeries, Questionnaire, Read, Scan
from dosing import services as dosing
from dosing.models import Infusion, ReleaseTest
from enrollment import services as enrollment
from enrollment.models import CourseState, Patient, Screening
from inkt_trial import bulk as copy_rows
from inkt_trial.errors import DomainError
from outcomes import synthetic, synthetic_bulk
from outcomes.models import EndpointRun
from outcomes.services import run_compute
from randomization.models import Allocation, AllocationSequence, Slot
from safety import services as safety
from safety.models import AdverseEvent, CtcaeTerm

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 2)
RANKED = (*synthetic_bulk.ORDER, Slot)  # references compared by rank, not by id


LABEL = re.compile(r"\bR-[A-Z0-9]{6}\b")


class Rollback(Exception):
    pass


def fingerprint() -> dict:
    """Every record of the trial and its historical rows, ids replaced by their rank in their
    table (the two paths number rows differently; they make them in the same order). Reading
    labels are random: left out."""
    ranks = {
        m: {pk: i for i, pk in enumerate(m.objects.order_by("pk").values_list("pk", flat=True))}
        for m in RANKED
    }

    def values(model, row) -> tuple:
        out = []
        for f in model._meta.concrete_fields:
            value = getattr(row, f.attname)
            if f.name == "reading_label":
                continue
            if isinstance(value, str):
                value = LABEL.sub("R-(label)", value)  # a signature names the reading label
            if f.primary_key or f.name == "id":
                value = ranks[model].get(value)
            elif f.is_relation and f.related_model in ranks:
                value = None if value is None else ranks[f.related_model][value]
            out.append((f.name, value))
        return tuple(out)

    found = {}
    for model in synthetic_bulk.ORDER:
        found[model.__name__] = [values(model, r) for r in model.objects.order_by("pk")]
        rows = [
            (values(model, h), h.history_date, h.history_type, h.history_user_id)
            + (h.history_change_reason,)
            for h in model.history.model.objects.all()
        ]
        found[f"history of {model.__name__}"] = sorted(rows, key=repr)
    found["EvaluatedSeries"] = sorted(
        (
            (e.key, ranks[Patient][e.patient_id], e.engine, e.criterion, e.result, e.computed_at)
            for e in EvaluatedSeries.objects.all()
        ),
        key=repr,
    )
    found["CourseState"] = sorted(  # outdated by each save, or by the bulk write, alike
        (ranks[Patient][s.patient_id], s.state, s.rules) for s in CourseState.objects.all()
    )
    return found


def made_both_ways(patients: int, seed: int) -> tuple[dict, dict]:
    made = {}
    for bulk in (False, True):
        try:
            with transaction.atomic():
                synthetic.generate(seed=seed, patients=patients, today=TODAY, bulk=bulk)
                made[bulk] = fingerprint()
                raise Rollback
        except Rollback:
            pass
    return made[False], made[True]


def test_the_bulk_path_makes_every_row_and_history_row_the_services_make(trial_users):
    services, bulk = made_both_ways(40, seed=7)
    assert len(services["Patient"]) == 40
    assert services["Infusion"] and services["Read"] and services["AdverseEvent"]
    assert services["Adjudication"] and services["EvaluatedSeries"]
    for table in services:
        assert bulk[table] == services[table], table


def test_records_of_a_bulk_trial_pass_the_services_checks_again(trial_users, monkeypatch):
    monkeypatch.setattr(synthetic_bulk, "PATIENTS_PER_BATCH", 7)  # several batches
    synthetic.generate(seed=11, patients=30, today=TODAY, bulk=True)
    assert Patient.objects.count() == 30
    # a sample of each kind through the services' own validation (unchanged: accepted)
    for screening in Screening.objects.order_by("pk")[:5]:
        values = enrollment._values({f: getattr(screening, f) for f in enrollment.ENTERED_FIELDS})
        assessment = enrollment._validated_assessment(values)
        assert assessment.child_pugh.points == screening.child_pugh_points
        assert assessment.failed_codes == screening.failed_criteria
    for questionnaire in Questionnaire.objects.order_by("pk")[:10]:
        scores = dict(questionnaire.scores)
        imaging._questionnaire_check(questionnaire)
        assert questionnaire.scores == scores
    # no event resolves after the patient's death (one ongoing at death does not resolve)
    assert not AdverseEvent.objects.filter(patient__status_changes__date__lt=F("resolution"))
    ongoing_at_death = AdverseEvent.objects.filter(
        outcome="not_recovered", patient__status_changes__kind="death"
    )
    assert ongoing_at_death.exists()
    events = AdverseEvent.objects.select_related(
        "patient__screening", "patient__allocation", "term", "infusion"
    ).order_by("pk")
    assert events.count() >= 10
    for event in events[:10]:
        derived = (event.serious, event.relationship_inkt, event.susar_status)
        safety._check(event, event.patient, grade_given=True)
        assert (event.serious, event.relationship_inkt, event.susar_status) == derived
    # each scan as the services would have registered it, on the day it was registered, after
    # the baseline (a sample of every kind, baselines included)
    scans = Scan.objects.select_related("patient__screening", "patient__allocation")
    sample = [s for kind in (Scan.BASELINE, Scan.SCHEDULED) for s in scans.filter(kind=kind)[:8]]
    assert len(sample) == 16
    for scan in sample:
        registered = scan.history.earliest("history_date").history_date
        errors = imaging.scan_errors(
            scan.patient,
            scan_date=scan.scan_date,
            kind=scan.kind,
            modality=scan.modality,
            regions=scan.regions,
            baseline=scans.filter(patient=scan.patient, kind=Scan.BASELINE)
            .exclude(pk=scan.pk)
            .first(),
            today=timezone.localdate(registered),
        )
        assert errors == {}, (scan.patient.study_id, scan.scan_date, errors)
    for read in Read.objects.select_related("scan__patient", "assignment")[:10]:
        assert imaging._validate(read.assignment, read.scan, read.data) == read.data
    for test in ReleaseTest.objects.select_related("batch__apheresis", "batch__patient__screening")[
        :10
    ]:
        passed = test.passed
        dosing._judge_release_test(test)
        assert test.passed is passed is True
    infusions = Infusion.objects.select_related("patient__screening", "batch")
    assert infusions.exists()
    for infusion in infusions[:10]:
        assert infusion.batch is not None  # the bedside check linked the bag
    # every read is signed, the series of both readers judged by the services
    assert not Read.objects.filter(locked_at=None).exists()


def test_an_endpoint_run_on_a_bulk_trial_works(trial_users):
    synthetic.generate(seed=5, patients=25, today=TODAY, bulk=True)
    run = EndpointRun.objects.create(cutoff=TODAY, requested_by=trial_users["statistician"])
    run_compute(run.pk)
    run.refresh_from_db()
    assert run.status == EndpointRun.DONE, run.error


def test_the_clinical_side_is_made_through_the_services_only(trial_users):
    with pytest.raises(ValueError):
        synthetic.generate(seed=1, patients=3, today=TODAY, clinical=True, bulk=True)


@pytest.mark.parametrize("seed", [2, 1])  # 1: the next version's seed derived past 2^63
def test_a_trial_longer_than_a_sequence_takes_the_next_version_in_force(
    trial_users, monkeypatch, seed
):
    monkeypatch.setattr(synthetic, "MAX_SEQUENCE_LENGTH", 100)
    monkeypatch.setattr(synthetic_bulk, "MAX_SEQUENCE_LENGTH", 100)
    synthetic.generate(seed=seed, patients=130, today=TODAY, bulk=True)
    versions = list(AllocationSequence.objects.order_by("version"))
    assert [(s.version, s.is_active) for s in versions] == [(1, False), (2, True)]
    assert versions[1].reason and versions[1].code_a_arm == versions[0].code_a_arm
    first = Slot.objects.filter(sequence=versions[0]).count()  # 100, or a block more
    assert 100 <= first < 130
    assert Allocation.objects.filter(slot__sequence=versions[0]).count() == first  # all used
    assert Allocation.objects.filter(slot__sequence=versions[1]).count() == 130 - first
    with pytest.raises(ValueError):
        synthetic.generate(seed=seed, patients=101, today=TODAY, bulk=False)


def test_the_bulk_path_refuses_what_the_services_refuse(trial_users):
    synthetic.generate(seed=3, patients=2, today=TODAY, bulk=True)
    bulk = synthetic_bulk.Bulk(users=trial_users)
    patient = Patient.objects.select_related("screening").first()
    bulk.courses[id(patient)] = synthetic_bulk.Course(patient, patient.screening, arm="RP")
    by = trial_users["coordinator"]
    with pytest.raises(DomainError):
        bulk.questionnaire_record(
            patient=patient,
            by=by,
            visit="visit-9",
            completed_on=TODAY,
            answers={str(item): None for item in range(1, 31)},  # all blank
        )
    with pytest.raises(DomainError):  # an adverse event before consent
        bulk.ae_record(
            patient=patient,
            by=by,
            term=CtcaeTerm.objects.get(term="Fatigue"),
            grade=1,
            onset=patient.screening.consent_date - timedelta(days=3),
            outcome="recovered",
            resolution=patient.screening.consent_date,
        )
    assert not bulk.rows  # nothing kept


def test_a_bulk_trial_s_edit_checks_run_when_it_commits(
    trial_users, monkeypatch, django_capture_on_commit_callbacks
):
    """The bulk path writes without post_save: the data management app (above outcomes) runs
    the edit checks for every patient written, once the transaction commits, through
    inkt_trial.signals.records_written_in_bulk."""
    from datamanagement import apps as dm_apps
    from datamanagement import services as dm

    bulk_runs = []
    monkeypatch.setattr(
        dm, "checks_run", lambda **k: [] if "saved" in k else bulk_runs.append(k["patient_ids"])
    )
    monkeypatch.setattr(dm_apps, "CHECKED_PER_BATCH", 4)
    with django_capture_on_commit_callbacks(execute=True):
        synthetic.generate(seed=5, patients=10, today=TODAY, bulk=True)
    patients = sorted(Patient.objects.values_list("pk", flat=True))
    assert sorted(pk for batch in bulk_runs for pk in batch) == patients
    assert max(len(batch) for batch in bulk_runs) <= 4


def test_copy_spells_every_kind_of_value_as_the_database_reads_it():
    """outcomes/synthetic_bulk.py writes with COPY (inkt_trial/bulk.py): texts with a tab,
    a line break, a backslash (or the NULL marker's spelling), empty and absent values,
    numbers, booleans, dates, times and JSON come back from the database as they were."""
    values = [
        "a\ttab",
        "two\nlines\r",
        "back\\slash \\N",
        "",
        None,
        7,
        True,
        Decimal("180.50"),
        date(2026, 3, 2),
        datetime(2026, 3, 2, 10, 30, 0, 5, tzinfo=UTC),
        {"note": 'caf\u00e9 \\ "quoted"', "n": [1, None]},
        None,
    ]
    json_columns = [(10, None), (11, None)]
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE spelled (a text, b text, c text, d text, e text, f int, g bool,"
            " h numeric, i date, j timestamptz, k jsonb, l jsonb)"
        )
        for row in (values, [*values[:10], ["plain"], {"n": 1}]):
            cursor.copy_expert(
                "COPY spelled FROM STDIN", io.StringIO(copy_rows.line(row, json_columns))
            )
        cursor.execute("SELECT * FROM spelled")
        read = [(*row[:10], *(json.loads(v) if v else v for v in row[10:])) for row in cursor]
    assert read == [tuple(values), (*values[:10], ["plain"], {"n": 1})]


def test_records_are_made_as_django_makes_them(trial_users):
    """synthetic_bulk._new(model, **values) gives what model(**values) gives: every field's
    default (a fresh list for each), a related record's id and the record cached."""
    synthetic.generate(seed=3, patients=1, today=TODAY, bulk=True)
    patient = Patient.objects.get()
    by = trial_users["coordinator"]
    for model, values in (
        (Questionnaire, {"patient": patient, "visit": "baseline", "answers": {"1": 2}}),
        (Infusion, {"patient": patient, "course_number": 1, "recorded_by": by}),
        (Screening, {"created_by": by, "rescreen_of": None}),
        (Allocation, {"patient": patient, "arm": "RP", "randomized_by_id": by.pk}),
    ):
        made, expected = synthetic_bulk._new(model, **values), model(**values)
        assert {k: v for k, v in made.__dict__.items() if k != "_state"} == {
            k: v for k, v in expected.__dict__.items() if k != "_state"
        }
        assert made._state.fields_cache == expected._state.fields_cache
        assert made._state.db == expected._state.db
        assert made._state.adding and made.pk is None
    assert synthetic_bulk._new(Infusion).deviations is not synthetic_bulk._new(Infusion).deviations
    # a one-to-one's record knows its other side, as Django links it
    screening = Screening.objects.get()
    made = synthetic_bulk._new(Patient, screening=screening)
    assert screening.patient is made
    with pytest.raises(TypeError):
        synthetic_bulk._new(Questionnaire, patient=patient, visits="baseline")
