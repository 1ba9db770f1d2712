"""The casebook PDF holds the clinical records of issue 15, read back with pypdf: the clinical
visits with their laboratory values (as entered and canonical, range, grade), the adverse events
they propose and the decisions, the medical history and the medications with their warnings,
the cell product (apheresis, batch, release tests, release, each course's bedside check), the
adverse event's ASTCT inputs and grade, narrative, expectedness and SUSAR status; each with its
audit-trail summary. The number of queries does not grow with these records."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from datamanagement import services as datamanagement
from datamanagement.pdf import casebook_html, casebook_pdf
from dosing.fixtures import released_bag
from enrollment import medication_services
from safety import crs, visits
from safety import services as safety
from safety.models import CtcaeTerm, ProposedAdverseEvent
from tests.test_casebook import pages_of
from tests.test_role_walk import world_medications, world_sae_report, world_treatment

pytestmark = pytest.mark.django_db

DISMISSED_BECAUSE = "Haemolysed sample, repeated the next day"
NARRATIVE = "Admitted for a transfusion of two units; discharged on day three."
ONE_VASOPRESSOR = {"max_temperature_c": 39.2, "hypotension": "one_vasopressor", "oxygen": "none"}


@pytest.fixture
def patient(randomized, coordinator, investigator, data_manager):
    patient = randomized("RPI")
    world_treatment(patient, coordinator)  # a course given from a released bag
    visit = visits.visit_record(
        patient=patient,
        by=coordinator,
        visit_date=timezone.localdate(),
        kind="unscheduled",
        ecog=1,
        values=[
            {"test": "alt", "value": "240", "unit": "U/L"},  # 6 x ULN: grade 3, proposed
            {"test": "bilirubin", "value": "1.5", "unit": "mg/dL"},
        ],
    )
    visits.proposal_dismiss(
        proposal=ProposedAdverseEvent.objects.get(patient=patient),
        by=coordinator,
        reason=DISMISSED_BECAUSE,
    )
    lab = visit.labs.get(test="bilirubin")
    query = datamanagement.query_raise(
        record=lab, field="value_entered", question="Bilirubin on the report?", by=data_manager
    )
    datamanagement.query_answer(
        query=query,
        by=coordinator,
        answer="1.6 mg/dL on the laboratory report",
        value=Decimal("1.6"),
        correct=True,
    )
    world_medications(patient, coordinator)  # clarithromycin (CYP3A4), hepatitis B
    safety.ae_record(
        patient=patient,
        by=coordinator,
        term=CtcaeTerm.objects.get(term=crs.CRS_TERM),
        onset=timezone.localdate(),
        astct_inputs=ONE_VASOPRESSOR,
    )
    sae = world_sae_report(patient, coordinator).event
    safety.ae_correct(event=sae, by=coordinator, reason="Narrative written", narrative=NARRATIVE)
    safety.ae_assess_causality(
        event=sae,
        by=investigator,
        relationship_inkt="unlikely",
        relationship_pd1="not_related",
        relationship_regorafenib="possible",
        expectedness_regorafenib="unexpected",
    )
    return patient


def test_the_casebook_holds_the_visits_labs_medications_cell_product_and_ae_details(
    patient, investigator
):
    pages = pages_of(casebook_pdf(patient.study_id, user=investigator))
    whole = " ".join(pages)
    assert all(f"Page {n} of {len(pages)}" in text for n, text in enumerate(pages, start=1))
    # clinical visits and their values: as entered, canonical, range, grade
    assert "Clinical visits and laboratory values" in whole
    assert "ECOG 1" in whole
    assert "240 U/L" in whole and "Alanine aminotransferase increased" in whole
    assert "1.6 mg/dL" in whole  # as entered, corrected through the query
    assert "27.36 umol/L" in whole  # 1.6 mg/dL in the canonical unit (x 17.1)
    assert "7 – 40 U/L" in whole  # the range graded by
    # the proposed adverse event and its decision
    assert "Adverse events proposed by laboratory values" in whole
    assert "Dismissed" in whole and DISMISSED_BECAUSE in whole
    # medical history and medications, with their warnings
    assert "Chronic hepatitis B" in whole and "Clarithromycin" in whole
    assert "CYP3A4" in whole and "Warning:" in whole
    # the cell product
    batch = patient.cell_batches.get()
    assert "The cell product" in whole and "Apheresis" in whole
    assert batch.batch_number in whole and "Sterility" in whole and "passed" in whole
    assert "Infused (course 1)" in whole and "released" in whole
    assert "Bedside check of each course" in whole and "Matched" in whole
    # the adverse events' ASTCT grade and inputs, narrative, expectedness, SUSAR status
    assert "ASTCT grade 3" in whole and "Requiring one vasopressor" in whole
    assert "Maximum temperature (°C): 39.2" in whole
    assert NARRATIVE in whole
    assert "regorafenib: Unexpected" in whole
    assert "Suspected unexpected serious adverse reaction" in whole
    assert "expedited report due" in whole
    # the audit-trail summaries, the query's answer as the lab value's reason, and SDV rows
    assert "Laboratory value: Total bilirubin 1.6 mg/dL" in whole
    assert "Query Q-0001: 1.6 mg/dL on the laboratory report" in whole
    for form in (
        "Clinical visit:",
        "Proposed adverse event:",
        "Concomitant medication: Clarithromycin",
        "Medical history: Chronic hepatitis B",
        "Apheresis: Apheresis of",
        f"Manufacturing batch: Batch {batch.batch_number}",
        "Release test: Sterility",
    ):
        assert form in whole, form
    assert "Narrative written" in whole  # the AE's correction


def test_the_casebook_of_an_rp_patient_shows_no_cell_product(randomized, coordinator, investigator):
    patient = randomized("RP")
    world_medications(patient, coordinator)
    whole = " ".join(pages_of(casebook_pdf(patient.study_id, user=investigator)))
    assert "The cell product" not in whole and "Bedside check" not in whole
    assert "Clarithromycin" in whole and "No visit entered." in whole


def test_the_number_of_queries_does_not_grow_with_the_new_records(
    randomized, coordinator, investigator, data_manager
):
    def queries_for(patient):
        with CaptureQueriesContext(connection) as captured:
            casebook_html(patient.study_id, user=investigator)
        return len(captured)

    few, many = randomized("RPI", days_ago=10), randomized("RPI", days_ago=10)
    for patient, times in ((few, 1), (many, 3)):
        for n in range(times):
            day = timezone.localdate() - timedelta(days=n)
            visit = visits.visit_record(
                patient=patient,
                by=coordinator,
                visit_date=day,
                kind="unscheduled",
                values=[
                    {"test": "alt", "value": "240", "unit": "U/L"},
                    {"test": "ast", "value": "30", "unit": "U/L"},
                ],
            )
            datamanagement.query_raise(
                record=visit.labs.get(test="ast"),
                field="value_entered",
                question="AST?",
                by=data_manager,
            )
            medication_services.medication_record(
                screening=patient.screening,
                by=coordinator,
                name=f"Paracetamol {n}",
                indication="Pain",
                dose=Decimal(500),
                dose_unit="mg",
                route="oral",
                frequency="as needed",
                start_date=day,
                ongoing=True,
            )
            medication_services.history_record(
                screening=patient.screening, by=coordinator, condition=f"Condition {n}"
            )
            released_bag(
                patient=patient,
                by=coordinator,
                infused_at=timezone.now() + timedelta(days=1),
                batch_number=f"{patient.study_id}-B{n}",
            )
    queries_for(few)  # content types are cached after the first
    assert queries_for(few) == queries_for(many)
