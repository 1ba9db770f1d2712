"""The automatic edit checks (datamanagement/checks.py), one test each: run when a record they
concern is saved and nightly for everyone, each raising its query once and never again."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from assessments import services as imaging
from datamanagement import services, tasks
from datamanagement.models import DataQuery
from dosing import services as dosing
from dosing.fixtures import released_bag
from enrollment import services as enrollment
from safety import services as safety
from safety.models import CtcaeTerm

pytestmark = pytest.mark.django_db


def days_ago(n):
    return timezone.localdate() - timedelta(days=n)


def at(day, hour=10):
    return timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time())) + (
        timedelta(hours=hour)
    )


@pytest.fixture
def patient_of(randomized):
    def make(arm, days=40):
        return randomized(
            arm,
            days_ago=days,
            consent_date=days_ago(days + 10),
            screening_date=days_ago(days + 9),
            prior_progression_date=days_ago(days + 20),
        )

    return make


def scan(patient, by, day, kind="scheduled"):
    return imaging.scan_register(
        patient=patient, by=by, scan_date=day, kind=kind, modality="CT", regions=["abdomen"]
    )


def queries(check):
    return list(DataQuery.objects.filter(edit_check=check))


def test_an_adverse_event_before_a_corrected_consent(
    patient_of, coordinator, investigator, django_capture_on_commit_callbacks
):
    patient = patient_of("RP")
    event = safety.ae_record(
        patient=patient,
        by=coordinator,
        term=CtcaeTerm.objects.get(term="Fatigue"),
        grade=1,
        onset=days_ago(50),  # the day of consent
    )
    assert queries("ae-before-consent") == []
    screening = enrollment.screening_reopen(
        screening=patient.screening, by=investigator, reason="Consent signed later"
    )
    with django_capture_on_commit_callbacks(execute=True):
        enrollment.screening_update(
            screening=screening,
            values={"consent_date": days_ago(49)},  # the screening day
            by=coordinator,
            reason="Date on the consent form",
        )
    [query] = queries("ae-before-consent")
    assert (query.record, query.field, query.state) == (event, "onset", "open")
    assert "before the informed consent" in query.question
    assert query.raised_by.username == services.CHECKER and not query.raised_by.is_active


def test_a_weight_change_of_more_than_ten_percent(
    patient_of, coordinator, django_capture_on_commit_callbacks
):
    patient = patient_of("RPI")
    first = days_ago(39)
    dosing.schedule_create(
        patient=patient, by=coordinator, first_planned_date=first, target_cells_per_m2=5 * 10**8
    )
    courses = []
    with django_capture_on_commit_callbacks(execute=True):
        for k, weight in enumerate(("70.0", "79.0")):
            courses.append(
                dosing.infusion_record(
                    patient=patient,
                    by=coordinator,
                    infused_at=at(first + timedelta(days=14 * k)),
                    weight_kg=Decimal(weight),
                    target_cells_per_m2=5 * 10**8,
                    cells_infused=9 * 10**8,
                    **released_bag(
                        patient=patient,
                        by=coordinator,
                        infused_at=at(first + timedelta(days=14 * k)),
                    ),
                )
            )
    [query] = queries("weight-change")
    assert (query.record, query.field) == (courses[1], "weight_kg")
    assert "70.0 kg → 79.0 kg" in query.question


def test_a_course_deviation_without_its_reason(patient_of, coordinator):
    patient = patient_of("RPI")
    first = days_ago(39)
    dosing.schedule_create(
        patient=patient, by=coordinator, first_planned_date=first, target_cells_per_m2=5 * 10**8
    )
    late = dosing.infusion_record(
        patient=patient,
        by=coordinator,
        infused_at=at(first + timedelta(days=6)),
        weight_kg=Decimal(70),
        target_cells_per_m2=5 * 10**8,
        cells_infused=9 * 10**8,
        **released_bag(patient=patient, by=coordinator, infused_at=at(first + timedelta(days=6))),
        deviation_reason="Bed availability",
    )
    assert late.deviations  # outside its window: recorded with the reason
    assert services.checks_run() == []
    with connection.cursor() as cursor:  # as data migrated from elsewhere would be
        cursor.execute("UPDATE dosing_infusion SET deviation_reason = '' WHERE id = %s", [late.pk])
    [query] = services.checks_run()
    assert (query.edit_check, query.field) == (
        "course-deviation-without-reason",
        "deviation_reason",
    )


def test_a_scan_missing_14_days_after_its_window_nightly(patient_of, coordinator):
    patient = patient_of("RP", days=80)  # visit 1 planned day 56, window closed day 63
    scan(patient, coordinator, days_ago(81), kind="baseline")
    assert tasks.run_edit_checks() == 1  # day 80 is 17 days after the window: missing
    [query] = queries("scan-missing")
    assert (query.record, query.field, query.field_label) == (
        patient,
        "scan-visit-1",
        "scan of visit 1",
    )
    assert "visit 1" in query.question
    assert tasks.run_edit_checks() == 0  # never raised twice


def test_a_questionnaire_missing_at_a_visit_held(
    patient_of, coordinator, django_capture_on_commit_callbacks
):
    patient = patient_of("RP", days=70)
    scan(patient, coordinator, days_ago(71), kind="baseline")
    with django_capture_on_commit_callbacks(execute=True):
        scan(patient, coordinator, days_ago(14))  # visit 1 (day 56), its window now closed
    [query] = queries("qlq-missing")
    assert (query.record, query.field) == (patient, "qlq-visit-1")
    assert "visit 1" in query.question
    assert services.checks_run(patient_ids=[patient.pk]) == []


def test_never_the_same_query_twice(patient_of, coordinator, data_manager):
    patient = patient_of("RP", days=80)
    scan(patient, coordinator, days_ago(81), kind="baseline")
    [query] = services.checks_run()
    services.query_cancel(query=query, by=data_manager, reason="The scan was done elsewhere")
    assert services.checks_run() == []
    assert DataQuery.objects.count() == 1


def test_each_missing_visit_is_its_own_query_and_the_pages_show_them(
    patient_of, coordinator, data_manager, client_as
):
    patient = patient_of("RP", days=140)  # visits 1 (day 56) and 2 (day 112) both missed
    scan(patient, coordinator, days_ago(141), kind="baseline")
    found = services.checks_run()
    assert sorted(q.field for q in found) == ["scan-visit-1", "scan-visit-2"]
    for user in (coordinator, data_manager):
        browser = client_as(user)
        for url in ("/", "/queries/", f"/queries/{found[0].pk}/", f"/patients/{patient.study_id}/"):
            page = browser.get(url)
            assert page.status_code == 200, url
            assert "scan of visit" in page.content.decode()
    raise_page = client_as(data_manager).get(
        f"/queries/new/?record=enrollment.patient&id={patient.pk}"
    )
    assert raise_page.status_code == 200


def test_a_failing_check_never_fails_the_save(patient_of, coordinator, monkeypatch):
    from datamanagement import checks

    def broken(ids, today):
        raise RuntimeError("a bug in a check")

    monkeypatch.setattr(checks, "CHECKS", (checks.Check("broken", "", (), broken), *checks.CHECKS))
    patient = patient_of("RP", days=80)
    scan(patient, coordinator, days_ago(81), kind="baseline")
    assert [q.edit_check for q in services.checks_run()] == ["scan-missing"]


def test_the_checks_read_the_imaging_schedules_once_per_run(patient_of, coordinator, monkeypatch):
    """Missing scans and missing questionnaires both look at the visits: one reading of the
    schedules serves both (inkt_trial/memo.py, open while the checks read)."""
    from assessments import selectors

    computed = []
    schedules = selectors._schedules
    monkeypatch.setattr(
        selectors, "_schedules", lambda *a, **k: computed.append(1) or schedules(*a, **k)
    )
    patient = patient_of("RP", days=80)
    scan(patient, coordinator, days_ago(81), kind="baseline")
    assert [q.field for q in services.checks_run()] == ["scan-visit-1"]
    assert len(computed) == 1
    services.checks_run()
    assert len(computed) == 2  # a run remembers nothing for the next
