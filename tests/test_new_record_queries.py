"""Data queries and source-data verification on the clinical records of issue 15: the clinical
visit and its laboratory values, the concomitant medications and the medical history, the cell
product (apheresis, batch, release test) and the adverse event's new fields. Each is raised on
a field, answered with a correction through the record's own service (the query its reason),
closed; verified by the monitor and un-verified by the next change. Pending proposed adverse
events block a lock. Never seen by the statistician nor the blinded readers."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts import roles
from conftest import PASSWORD
from datamanagement import matrix, selectors, services
from datamanagement.models import DataQuery
from datamanagement.targets import target_of
from dosing import services as dosing
from enrollment import medication_services
from enrollment import services as enrollment
from inkt_trial.audit import history_of
from inkt_trial.errors import DomainError
from safety import services as safety
from safety import visits
from safety.models import CtcaeTerm, ProposedAdverseEvent

pytestmark = pytest.mark.django_db


def days_ago(n):
    return timezone.localdate() - timedelta(days=n)


def medication(screening, by, **changes):
    return medication_services.medication_record(
        screening=screening,
        by=by,
        **{
            "name": "Entecavir",
            "indication": "Chronic hepatitis B",
            "dose": Decimal("0.5"),
            "dose_unit": "mg",
            "route": "oral",
            "frequency": "once daily",
            "start_date": days_ago(5),
            "ongoing": True,
            **changes,
        },
    )


@pytest.fixture
def records(randomized, coordinator):
    """An RPI patient with one record of each new kind."""
    patient = randomized("RPI", days_ago=20, consent_date=days_ago(30), screening_date=days_ago(29))
    visit = visits.visit_record(
        patient=patient,
        by=coordinator,
        visit_date=days_ago(10),
        kind="unscheduled",
        ecog=1,
        values=[{"test": "alt", "value": "30", "unit": "U/L"}],
    )
    apheresis = dosing.apheresis_record(
        patient=patient, by=coordinator, date=days_ago(18), volume_ml=Decimal("180.0")
    )
    batch = dosing.batch_record(
        apheresis=apheresis,
        by=coordinator,
        batch_number="INKT-B-0101",
        manufactured_on=days_ago(14),
        expires_at=timezone.now() + timedelta(days=20),
        cells_total=2 * 10**9,
        volume_ml=Decimal("100.0"),
    )
    event = safety.ae_record(
        patient=patient,
        by=coordinator,
        term=CtcaeTerm.objects.get(term="Anemia"),
        grade=3,
        onset=days_ago(4),
        serious_criteria=["hospitalization"],
        awareness_at=timezone.now() - timedelta(days=3),
        initial_report_at=timezone.now() - timedelta(days=3),
    )
    return {
        "visit": visit,
        "lab": visit.labs.get(),
        "medication": medication(patient.screening, coordinator),
        "history": medication_services.history_record(
            screening=patient.screening, by=coordinator, condition="Chronic hepatitis B"
        ),
        "apheresis": apheresis,
        "batch": batch,
        "release_test": dosing.release_test_record(
            batch=batch,
            by=coordinator,
            assay="viability",
            value=Decimal("92"),
            tested_on=days_ago(13),
        ),
        "event": event,
    }


# (record, field, corrected value, form in the SDV progress)
CORRECTIONS = [
    ("visit", "ecog", 2, "clinical visit"),
    ("visit", "weight_kg", Decimal("63.5"), "clinical visit"),
    ("lab", "value_entered", Decimal("45"), "lab value"),
    ("lab", "uln", Decimal("35"), "lab value"),
    ("medication", "dose", Decimal("1.0"), "concomitant medication"),
    ("history", "start", "2009-05", "medical history entry"),
    ("apheresis", "volume_ml", Decimal("170.0"), "apheresis"),
    ("batch", "cells_total", 3 * 10**9, "manufacturing batch"),
    ("release_test", "value", Decimal("88.00"), "release test"),
    ("event", "narrative", "Admitted for transfusion; discharged on day 3.", "adverse event"),
]


@pytest.mark.parametrize(("name", "field", "value", "form"), CORRECTIONS)
def test_raise_answer_with_a_correction_close_then_verify_and_unverify(
    records, name, field, value, form, coordinator, data_manager, monitor
):
    record = records[name]
    target = target_of(record)
    patient = target.patient(record)
    query = services.query_raise(
        record=record, field=field, question="What does the source say?", by=data_manager
    )
    assert (query.state, query.patient) == ("open", patient)
    services.query_answer(
        query=query, by=coordinator, answer="As in the source", value=value, correct=True
    )
    record = type(record).objects.get(pk=record.pk)
    if name == "lab" and field == "uln":
        assert visits.entered_bound(record, "uln") == value  # in the unit entered
    else:
        assert getattr(record, field) == value
    assert history_of(record)[0]["reason"] == f"Query {query.number}: As in the source"
    closed = services.query_close(query=DataQuery.objects.get(pk=query.pk), by=data_manager)
    assert closed.state == "closed"

    services.source_verify(record=record, by=monitor)
    assert selectors.verification_of(record)["state"] == "verified"
    cell = selectors.sdv_progress([patient.pk])["patients"][patient.pk][form]
    assert cell["verified"] >= 1
    target.correct(record, coordinator, "Typed again from the source", {field: value})
    record = type(record).objects.get(pk=record.pk)  # nothing changed: still verified
    assert selectors.verification_of(record)["state"] == "verified"
    other = {
        "ecog": 1,
        "weight_kg": Decimal("64.0"),
        "value_entered": Decimal("50"),
        "uln": Decimal("40"),
        "dose": Decimal("0.5"),
        "start": "2010",
        "volume_ml": Decimal("160.0"),
        "cells_total": 4 * 10**9,
        "value": Decimal("90"),
        "narrative": "Transfused twice.",
    }[field]
    target.correct(record, coordinator, "The source was misread", {field: other})
    assert selectors.verification_of(record)["state"] == "changed since verified"
    cell = selectors.sdv_progress([patient.pk])["patients"][patient.pk][form]
    assert cell["verified"] == 0


def test_a_lab_value_is_corrected_through_the_api_and_graded_again(
    records, coordinator, data_manager, api_as
):
    lab = records["lab"]
    made = api_as(data_manager).post(
        "/api/queries/",
        {
            "record": "safety.labvalue",
            "record_id": lab.pk,
            "field": "value_entered",
            "question": "ALT on the laboratory report?",
        },
        format="json",
    )
    assert made.status_code == 201, made.json()
    assert made.json()["study_id"] == lab.visit.patient.study_id
    answer = api_as(coordinator).post(
        f"/api/queries/{made.json()['id']}/answer/",
        {"answer": "240 U/L on the report", "correct": True, "value": "240"},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    lab.refresh_from_db()
    assert (lab.value_entered, lab.value, lab.grade) == (Decimal("240"), Decimal("240"), 3)
    proposal = ProposedAdverseEvent.objects.get(lab=lab)  # the correction proposes the event
    assert proposal.state == ProposedAdverseEvent.PROPOSED
    refused = api_as(coordinator).post(
        f"/api/queries/{made.json()['id']}/answer/",
        {"answer": "again", "correct": True, "value": "x"},
        format="json",
    )
    assert refused.status_code == 400  # answered already: never a 500


def test_a_local_range_is_shown_and_corrected_in_the_unit_entered(
    records, coordinator, data_manager, client_as
):
    visit = records["visit"]
    visits.visit_correct(
        visit=visit,
        by=coordinator,
        reason="Bilirubin added from the report",
        values=[{"test": "bilirubin", "value": "1.5", "unit": "mg/dL", "uln": "1.2"}],
    )
    lab = visit.labs.get(test="bilirubin")
    assert lab.uln == Decimal("20.52")  # stored in umol/L
    query = services.query_raise(record=lab, field="uln", question="ULN?", by=data_manager)
    page = client_as(coordinator).get(f"/queries/{query.pk}/").content.decode()
    assert 'value="1.2000"' in page or 'value="1.2"' in page  # as entered: mg/dL
    answered = client_as(coordinator).post(
        f"/queries/{query.pk}/",
        {"answer": "The site's ULN is 1.3 mg/dL", "correct": "on", "value": "1.3"},
    )
    assert answered.status_code == 302, answered.content.decode()[-3000:]
    lab.refresh_from_db()
    assert (lab.uln, lab.unit_entered) == (Decimal("22.23"), "mg/dL")


def test_a_refused_lab_correction_names_the_value_and_leaves_the_query_open(
    records, coordinator, data_manager
):
    query = services.query_raise(
        record=records["lab"], field="unit_entered", question="Unit?", by=data_manager
    )
    with pytest.raises(DomainError) as refused:
        services.query_answer(
            query=query, by=coordinator, answer="Other unit", value="furlongs", correct=True
        )
    assert refused.value.field_errors
    assert DataQuery.objects.get().state == "open"


def test_expectedness_is_queried_but_corrected_by_the_investigator_on_its_page(
    records, coordinator, data_manager, client_as
):
    event = records["event"]
    query = services.query_raise(
        record=event, field="expectedness_pd1", question="Expected per the IB?", by=data_manager
    )
    with pytest.raises(DomainError, match="not corrected here"):
        services.query_answer(
            query=query, by=coordinator, answer="Expected", value="expected", correct=True
        )
    answered = services.query_answer(
        query=query, by=coordinator, answer="The investigator assesses it on the event's page"
    )
    assert answered.state == "answered" and not answered.corrected
    raise_page = client_as(data_manager).get(
        f"/queries/new/?record=safety.adverseevent&id={event.pk}"
    )
    assert raise_page.status_code == 200
    assert 'value="expectedness_pd1"' in raise_page.content.decode()


def test_a_medication_queried_before_enrolment_flags_the_patient_and_blocks_their_lock(
    eligible_screening, coordinator, investigator, data_manager
):
    entry = medication(eligible_screening, coordinator, start_date=days_ago(3))
    query = services.query_raise(
        record=entry, field="dose", question="Dose per the prescription?", by=data_manager
    )
    assert query.patient is None
    patient = enrollment.screening_confirm(
        screening=eligible_screening,
        by=investigator,
        password=PASSWORD,
        version=eligible_screening.version,
    )
    blockers = selectors.lock_blockers(cutoff=timezone.localdate(), patient_ids=[patient.pk])
    assert any(query.number in b for b in blockers), blockers
    page = selectors.matrix_page(states=[matrix.QUERIED])  # flagged in the casebook matrix
    cells = {p.pk: {c.column: c.state for c in row} for p, row in page["rows"]}
    assert cells[patient.pk]["medications"] == matrix.QUERIED
    with pytest.raises(DomainError, match=query.number):
        services.data_lock(
            by=data_manager, patient=patient, cutoff=timezone.localdate(), reason="Interim"
        )


def test_a_pending_proposed_adverse_event_blocks_the_lock(randomized, coordinator, data_manager):
    patient = randomized("RP", days_ago=20, consent_date=days_ago(30), screening_date=days_ago(29))
    visits.visit_record(
        patient=patient,
        by=coordinator,
        visit_date=days_ago(2),
        kind="unscheduled",
        values=[{"test": "alt", "value": "240", "unit": "U/L"}],  # 6 x ULN: grade 3
    )
    proposal = ProposedAdverseEvent.objects.get(patient=patient)
    today = timezone.localdate()
    blockers = selectors.lock_blockers(cutoff=today, patient_ids=[patient.pk])
    assert any("proposed adverse event" in b and patient.study_id in b for b in blockers)
    assert not any(
        "proposed adverse event" in b
        for b in selectors.lock_blockers(cutoff=days_ago(3), patient_ids=[patient.pk])
    )  # a visit after the cut-off: not frozen by it
    with pytest.raises(DomainError, match="awaits the coordinator's decision"):
        services.data_lock(by=data_manager, cutoff=today, reason="Interim analysis")
    visits.proposal_dismiss(proposal=proposal, by=coordinator, reason="Haemolysed sample")
    assert not any(
        "proposed adverse event" in b
        for b in selectors.lock_blockers(cutoff=today, patient_ids=[patient.pk])
    )
    assert services.data_lock(by=data_manager, cutoff=today, reason="Interim analysis")


def test_neither_the_statistician_nor_a_blinded_reader_sees_the_queries_of_the_cell_product(
    records, data_manager, statistician, make_user, api_as
):
    services.query_raise(
        record=records["batch"], field="cells_total", question="Cells?", by=data_manager
    )
    for user in (statistician, make_user(roles.RADIOLOGIST), make_user(roles.ADJUDICATOR)):
        api = api_as(user)
        assert api.get("/api/queries/").status_code == 403
        assert api.get("/api/sdv/progress/").status_code == 403
        assert api.post("/api/sdv/", {}, format="json").status_code == 403
