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
