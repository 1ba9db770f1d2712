"""No page whose number of SQL queries grows with the number of patients: the patient list, a
patient's page, the casebook matrix and every role's dashboard cost the same for 5 and for 50
patients."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enrollment.models import Patient
from outcomes import synthetic

pytestmark = pytest.mark.django_db


def queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def test_query_counts_do_not_grow_with_patients(client_as, trial_users, data_manager):
    today = timezone.localdate()
    synthetic.generate(seed=21, patients=5, today=today)
    first = Patient.objects.order_by("pk").first()
    pages = {
        "coordinator": [
            "/",
            "/patients/",
            f"/patients/{first.study_id}/",
            "/safety/tables/",
            "/casebook/",
            "/casebook/?status=overdue&status=entered&group=imaging",
            "/api/casebook/",
            "/api/patients/",
        ],
        "investigator": ["/", "/outcomes/consort/", "/randomization/reports/"],
        "datamanager": ["/", "/patients/", "/casebook/"],
        "statistician": ["/patients/", "/api/patients/"],
    }
    users = {
        "coordinator": trial_users["coordinator"],
        "investigator": trial_users["investigator"],
        "datamanager": data_manager,
        "statistician": trial_users["statistician"],
    }

    def measure():
        found = {}
        for who, urls in pages.items():
            client = client_as(users[who])
            for url in urls:
                queries(client, url)  # warm caches (sessions, permissions)
                found[(who, url)] = queries(client, url)
        return found

    with_5 = measure()
    synthetic.generate(seed=22, patients=45, today=today)
    assert Patient.objects.count() == 50
    with_50 = measure()
    assert with_50 == with_5


def test_a_patient_page_reads_each_kind_of_record_once(client_as, trial_users):
    """The boxes and the deviations share the adverse events, scans and drug records (the
    safety box, the course's stops, the imaging schedule and box, the dosing box, the dose
    span, the deviations), the patient with its infusion schedule, the eligibility violations,
    the status changes and the ends of treatment (the page, the course box, the imaging cases
    and schedule, the dosing box, the deviations): one query each."""
    import re

    synthetic.generate(seed=23, patients=6, today=timezone.localdate())
    client = client_as(trial_users["coordinator"])
    for patient in Patient.objects.order_by("pk"):
        url = f"/patients/{patient.study_id}/"
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        found = [re.search(r'FROM "(\w+)"', q["sql"]) for q in captured]
        tables = [m.group(1) for m in found if m]
        for table in (
            "safety_adverseevent",
            "assessments_scan",
            "dosing_drugexposure",
            "enrollment_patient",
            "dosing_infusionschedule",
            "enrollment_eligibilityviolation",
            "enrollment_statuschange",
            "enrollment_treatmentend",
        ):
            assert tables.count(table) <= 1, (patient.study_id, table, tables.count(table))
        # 36 for an RPI patient, 32 for RP here (were 45 and 38 before the shared reads)
        assert len(captured) <= 36, (patient.study_id, len(captured))


def test_permissions_and_roles_cost_one_query_a_page(client_as, trial_users):
    synthetic.generate(seed=24, patients=3, today=timezone.localdate())
    for who in ("coordinator", "statistician"):
        client = client_as(trial_users[who])
        for url in ("/", "/patients/"):
            client.get(url)
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200
            sql = [q["sql"] for q in captured]
            assert sum('"auth_permission"' in q for q in sql) == 1, (who, url)
            assert sum('"auth_group"' in q for q in sql) == 1, (who, url)
