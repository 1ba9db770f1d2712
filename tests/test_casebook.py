"""The casebook PDF of a patient, for the investigator's archive: every form, the eligibility
signatures (21 CFR 11.50), the data queries, the source-data verification and the audit trail
summary, with the trial, the patient and "page X of Y" on every page. Read back with an
independent reader (pypdf). Downloaded by the investigator, the data manager, the coordinator
and the monitor; never by the statistician nor the blinded readers."""

import io
import re
import socket
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts import roles
from conftest import PASSWORD
from datamanagement import services as datamanagement
from datamanagement.pdf import casebook_html, casebook_pdf
from enrollment import services as enrollment
from safety import services as safety
from tests.test_role_walk import (
    world_adverse_event,
    world_followup,
    world_imaging,
    world_pd1,
    world_questionnaire,
    world_sae_report,
    world_status_change,
    world_treatment,
)

pytestmark = pytest.mark.django_db

REOPENED_BECAUSE = "Weight copied from the wrong visit"
CORRECTED_BECAUSE = "Weight on the screening visit's nursing chart is 66.0 kg"
ANSWER = "Grade 2 per the clinic note of the day"


@pytest.fixture
def people(make_user, coordinator, investigator, data_manager, statistician):
    return {
        "coordinator": coordinator,
        "investigator": investigator,
        "data_manager": data_manager,
        "monitor": make_user(roles.MONITOR),
        "statistician": statistician,
        "radiologist": make_user(roles.RADIOLOGIST),
        "radiologist_2": make_user(roles.RADIOLOGIST, username="radiologist-2"),
        "adjudicator": make_user(roles.ADJUDICATOR),
    }


@pytest.fixture
def patient(randomized, people):
    """An RPI patient with a record of each kind: a signed screening reopened, corrected and
    signed again; an infusion schedule and a course; PD-1; ends of treatment; a baseline scan;
    a serious adverse event with a report and the investigator's causality; a QLQ-C30; a
    withdrawal of consent to treatment; a follow-up contact; a query answered with a
    correction and closed; a source-data verification."""
    coordinator, investigator = people["coordinator"], people["investigator"]
    patient = randomized("RPI")
    screening = enrollment.screening_reopen(
        screening=patient.screening, by=investigator, reason=REOPENED_BECAUSE
    )
    screening = enrollment.screening_update(
        screening=screening,
        values={"weight_kg": Decimal("66.0")},
        by=coordinator,
        reason=CORRECTED_BECAUSE,
    )
    enrollment.screening_confirm(
        screening=screening, by=investigator, password=PASSWORD, version=screening.version
    )
    world_treatment(patient, coordinator)
    world_imaging(patient, coordinator, people["radiologist"], people["radiologist_2"])
    sae = world_sae_report(patient, coordinator)
    safety.ae_assess_causality(
        event=sae.event,
        by=investigator,
        relationship_inkt="possible",
        relationship_pd1="unlikely",
        relationship_regorafenib="not_related",
    )
    questionnaire = world_questionnaire(patient, coordinator)
    world_status_change(patient, coordinator)
    fatigue = world_adverse_event(patient, coordinator)
    world_followup(patient, coordinator)
    query = datamanagement.query_raise(
        record=fatigue, field="grade", question="Grade per the source?", by=people["data_manager"]
    )
    query = datamanagement.query_answer(
        query=query, by=coordinator, answer=ANSWER, value=2, correct=True
    )
    datamanagement.query_close(query=query, by=people["data_manager"])
    datamanagement.source_verify(record=questionnaire, by=people["monitor"])
    return patient


def pages_of(pdf: bytes) -> list[str]:
    """Each page's text, its white space made single spaces."""
    reader = PdfReader(io.BytesIO(pdf))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def test_the_investigators_casebook_holds_every_form_signature_and_change(patient, people, api_as):
    from datamanagement import deviation_services

    today = timezone.localdate()
    deviation_services.deviation_record(
        patient=patient,
        by=people["coordinator"],
        occurred_on=today - timedelta(days=2),
        identified_on=today - timedelta(days=1),
        category="procedure",
        description="Blood drawn at the wrong visit",
        classification="minor",
        corrective_action="Laboratory told",
    )
    response = api_as(people["investigator"]).get(
        f"/api/patients/{patient.study_id}/casebook/", HTTP_ACCEPT="application/pdf"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"NCT05962450-{patient.study_id}-casebook-" in response["Content-Disposition"]
    pdf = response.content
    assert pdf.startswith(b"%PDF-")
    pages = pages_of(pdf)
    assert len(pages) > 3
    for number, text in enumerate(pages, start=1):
        assert "NCT05962450" in text and patient.study_id in text, number
        assert f"Page {number} of {len(pages)}" in text, number
        assert re.search(r"Generated \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d", text), number
    whole = " ".join(pages)
    screening = patient.screening
    screening.refresh_from_db()
    investigator = people["investigator"].get_full_name()
    # both signatures: the printed name, the date and time and the meaning; the first one
    # removed by the reopening, with its reason
    assert whole.count(investigator) >= 2
    assert " ".join(screening.signature_meaning.split()) in whole
    assert REOPENED_BECAUSE in whole
    # the audit trail: the correction's reason, and the query's answer as the AE's reason
    assert CORRECTED_BECAUSE in whole
    assert f"Query Q-0001: {ANSWER}" in whole
    assert "Fatigue" in whole and "Anemia" in whole  # the adverse events
    assert "Blood drawn at the wrong visit" in whole and "DV-0001" in whole  # the deviation log
    assert "iNKT cells: Possible" in whole  # the investigator's causality
    assert "Randomized to RPI" in whole
    assert "Withdrawal of consent to treatment" in whole  # the patient's course
    assert re.search(r"QLQ-C30 baseline \(\S+\) Verified monitor, \d", whole)  # SDV
    # never the blinded readers: neither who they are nor their reading labels
    assert "Radiologist Tester" not in whole and "R-" not in whole


def test_every_role_that_may_download_gets_it_the_others_are_refused(patient, people, client):
    page = reverse("datamanagement:casebook", args=[patient.study_id])
    api = f"/api/patients/{patient.study_id}/casebook/"
    refused = {"statistician", "radiologist", "radiologist_2", "adjudicator"}
    for name, user in people.items():
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        expected = 403 if name in refused else 200
        assert client.get(page).status_code == expected, name
        assert client.get(api).status_code == expected, name


def test_an_unknown_patient_is_404_and_the_statistician_gets_403_whatever_the_patient(
    people, client
):
    client.force_login(people["investigator"], backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(reverse("datamanagement:casebook", args=["INKT-999"])).status_code == 404
    response = client.get("/api/patients/INKT-999/casebook/", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 404 and response.json()["detail"]  # the Error shape
    client.force_login(people["statistician"], backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(reverse("datamanagement:casebook", args=["INKT-999"])).status_code == 403
    assert client.get("/api/patients/INKT-999/casebook/").status_code == 403


def test_an_enrolled_patient_not_yet_randomized_has_a_casebook_too(enrol, people):
    patient = enrol()
    pages = pages_of(casebook_pdf(patient.study_id, user=people["coordinator"]))
    whole = " ".join(pages)
    assert "Not randomized" in whole and "iNKT cell infusions" not in whole
    assert "Not locked" in whole
    lock = datamanagement.data_lock(
        by=people["data_manager"], patient=patient, cutoff=timezone.localdate(), reason="Archived"
    )
    cover = pages_of(casebook_pdf(patient.study_id, user=people["coordinator"]))[0]
    assert f"frozen (database lock {lock.number})" in cover
    assert all(f"Page {n} of {len(pages)}" in text for n, text in enumerate(pages, start=1))


def test_the_patient_page_links_the_casebook_for_those_who_may_download_it(patient, people, client):
    link = reverse("datamanagement:casebook", args=[patient.study_id])
    page = reverse("enrollment:patient_detail", args=[patient.study_id])
    client.force_login(people["monitor"], backend="django.contrib.auth.backends.ModelBackend")
    assert link in client.get(page).content.decode()
    client.force_login(people["statistician"], backend="django.contrib.auth.backends.ModelBackend")
    assert link not in client.get(page).content.decode()


def test_nothing_is_fetched_while_the_pdf_is_made(patient, people, monkeypatch):
    html = casebook_html(patient.study_id, user=people["investigator"])
    for external in ("src=", "<link", "url(", "@import", "http://", "https://"):
        assert external not in html
    connections = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: connections.append(address))
    pdf = casebook_pdf(patient.study_id, user=people["investigator"])
    assert pdf.startswith(b"%PDF-") and connections == []


def test_the_number_of_queries_does_not_grow_with_the_records(randomized, people):
    coordinator = people["coordinator"]

    def queries_for(patient):
        with CaptureQueriesContext(connection) as captured:
            casebook_html(patient.study_id, user=people["investigator"])
        return len(captured)

    few, many = randomized("RP", days_ago=10), randomized("RP", days_ago=10)
    for patient, times in ((few, 1), (many, 4)):
        for n in range(times):
            world_pd1(patient, coordinator, timezone.localdate() - timedelta(days=n))
            event = world_sae_report(patient, coordinator).event
            datamanagement.query_raise(
                record=event, field="grade", question="Grade?", by=people["data_manager"]
            )
            world_followup(patient, coordinator)
    queries_for(few)  # content types are cached after the first
    assert queries_for(few) == queries_for(many)
