"""Every URL pattern and API route, opened by every role: who gets in.

A new URL pattern fails this test until it is added to EXPECTED below, so that nobody adds a page
without deciding who may see it. Radiologists and adjudicators reach no clinical data.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts import roles
from assessments import services as imaging_services
from datamanagement import deviation_services
from datamanagement import services as datamanagement_services
from datamanagement.models import DeviationReview
from dosing import services as dosing_services
from dosing.fixtures import released_bag
from enrollment import course, medication_services, services
from enrollment.status import drugs_of_arm
from outcomes import services as outcomes_services
from outcomes.models import FollowUp
from randomization import services as randomization_services
from safety import services as safety_services
from safety import visits as safety_visits
from safety.models import CtcaeTerm

COORD, INV, RAD, ADJ, STAT, DM, MON = (
    roles.COORDINATOR,
    roles.INVESTIGATOR,
    roles.RADIOLOGIST,
    roles.ADJUDICATOR,
    roles.STATISTICIAN,
    roles.DATA_MANAGER,
    roles.MONITOR,
)
EVERYONE = {COORD, INV, RAD, ADJ, STAT, DM, MON}
CLINICAL_READERS = {COORD, INV, STAT, DM, MON}
# treatment records reveal the arm: not the masked statistician; the monitor sees them
CLINICAL_CARE = {COORD, INV, DM, MON}
ANALYSTS = {INV, STAT, DM}  # endpoint runs

# url name -> roles that get in (status 200, or 405 for a POST-only route they may use)
EXPECTED = {
    "dashboard": EVERYONE,
    "enrollment:screening_list": CLINICAL_READERS,
    "enrollment:screening_create": {COORD, DM},
    "enrollment:screening_detail": CLINICAL_READERS,
    "enrollment:screening_update": {COORD, DM},
    "enrollment:screening_confirm": {INV},
    "enrollment:screening_reopen": {INV, DM},
    "enrollment:screening_history": CLINICAL_READERS,
    "enrollment:patient_list": CLINICAL_READERS,
    "enrollment:patient_detail": CLINICAL_READERS,
    "enrollment:patient_history": CLINICAL_READERS,
    # deaths, withdrawals and ends of study reveal no arm; an end of iNKT treatment does
    "enrollment:status_change": {COORD, DM},
    "enrollment:status_change_edit": {COORD, DM},
    "enrollment:status_change_history": CLINICAL_READERS,
    "enrollment:treatment_end": {COORD, DM},
    "enrollment:treatment_end_edit": {COORD, DM},
    "enrollment:treatment_end_history": CLINICAL_CARE,
    # medical history and medications name no arm: the coordinator and the investigator enter
    # them, every clinical reader sees them (the statistician through the API)
    "enrollment:medication_create": {COORD, INV},
    "enrollment:medication_edit": {COORD, INV},
    "enrollment:medication_stop": {COORD, INV},
    "enrollment:medication_history": CLINICAL_READERS,
    "enrollment:medical_history_create": {COORD, INV},
    "enrollment:medical_history_edit": {COORD, INV},
    "enrollment:medical_history_history": CLINICAL_READERS,
    "concomitantmedication-list": CLINICAL_READERS,
    "concomitantmedication-detail": CLINICAL_READERS,
    "concomitantmedication-history": CLINICAL_READERS,
    "concomitantmedication-stop": {COORD, INV},
    "medicalhistory-list": CLINICAL_READERS,
    "medicalhistory-detail": CLINICAL_READERS,
    "medicalhistory-history": CLINICAL_READERS,
    "api-root": EVERYONE,
    "screening-list": CLINICAL_READERS,
    "screening-detail": CLINICAL_READERS,
    "screening-confirm": {INV},
    "screening-reopen": {INV, DM},
    "screening-history": CLINICAL_READERS,
    "screening-preview": {COORD, DM},
    "patient-list": CLINICAL_READERS,
    "patient-detail": CLINICAL_READERS,
    "patient-history": CLINICAL_READERS,
    "patient-course-status": CLINICAL_CARE,
    "statuschange-list": CLINICAL_READERS,
    "statuschange-detail": CLINICAL_READERS,
    "statuschange-history": CLINICAL_READERS,
    "treatmentend-list": CLINICAL_CARE,
    "treatmentend-detail": CLINICAL_CARE,
    "treatmentend-history": CLINICAL_CARE,
    # data queries: the data manager raises, the coordinator answers; never the blinded readers
    # nor the statistician (a query on an infusion reveals the arm)
    "datamanagement:queries": CLINICAL_CARE,
    "datamanagement:raise": {DM, MON},
    "datamanagement:sdv": {DM, MON},
    # the casebook matrix: its iNKT columns reveal the arm (never the statistician)
    "datamanagement:matrix": CLINICAL_CARE,
    "casebook-matrix": CLINICAL_CARE,
    "datamanagement:verify": {MON},
    "sdv-verify": {MON},
    "sdv-progress": {DM, MON},
    "datamanagement:query": CLINICAL_CARE,
    "datamanagement:query_history": CLINICAL_CARE,
    "dataquery-list": CLINICAL_CARE,
    "dataquery-detail": CLINICAL_CARE,
    "dataquery-answer": {COORD},
    "dataquery-close": {DM, MON},
    "dataquery-reopen": {DM, MON},
    "dataquery-cancel": {DM, MON},
    "dataquery-history": CLINICAL_CARE,
    # database locks name no arm: whoever reads clinical data sees them; the data manager locks
    "datamanagement:locks": CLINICAL_READERS,
    "datamanagement:unfreeze": {DM},
    "datalock-list": CLINICAL_READERS,
    "datalock-detail": CLINICAL_READERS,
    "datalock-unfreeze": {DM},
    "datalock-blockers": {DM},
    # the casebook PDF: the investigator's archive; it shows the arm and the treatment
    "datamanagement:casebook": CLINICAL_CARE,
    "patient-casebook": CLINICAL_CARE,
    # protocol deviations: an iNKT course's reveals the arm (not the statistician); the
    # coordinator and the data manager record and correct, the data manager and investigators
    # classify and review, the monitor reads
    "datamanagement:deviations": CLINICAL_CARE,
    "datamanagement:deviations_ec": CLINICAL_CARE,
    "datamanagement:deviation": CLINICAL_CARE,
    "datamanagement:deviation_create": {COORD, DM},
    "datamanagement:deviation_correct": {COORD, DM},
    "datamanagement:deviation_review": {INV, DM},
    "datamanagement:deviation_history": CLINICAL_CARE,
    "datamanagement:deviation_review_history": CLINICAL_CARE,
    "deviation-list": CLINICAL_CARE,
    "deviation-detail": CLINICAL_CARE,
    "deviation-review": {INV, DM},
    "deviation-history": CLINICAL_CARE,
    "api-schema": EVERYONE,
    "api-docs": EVERYONE,
    "randomization:allocation_list": CLINICAL_READERS,
    "randomization:sequence": {STAT, DM},
    "randomization:codes": {DM},
    "randomization:enrolment_limit": {DM},
    "randomization:reports": CLINICAL_READERS,
    "randomization:randomize": {COORD},
    "sequence-list": {STAT, DM},
    "sequence-detail": {STAT, DM},
    "sequence-upload": {STAT, DM},
    "sequence-csv": {STAT, DM},
    "sequence-codes": {DM},
    "allocation-list": CLINICAL_READERS,
    "allocation-csv": {STAT, DM},
    "randomization-report": CLINICAL_READERS,
    "randomization-enrolment-limit": CLINICAL_READERS,
    "dosing:calendar": CLINICAL_CARE,
    "dosing:schedule": {COORD, DM},
    "dosing:infusion": {COORD, DM},
    "dosing:drug": {COORD, DM},
    "dosing:infusion_history": CLINICAL_CARE,
    # the cell product exists only for the RPI arm: never the (maybe masked) statistician
    "dosing:apheresis": {COORD, DM},
    "dosing:apheresis_edit": {COORD, DM},
    "dosing:apheresis_history": CLINICAL_CARE,
    "dosing:batch": {COORD, DM},
    "dosing:batch_edit": {COORD, DM},
    "dosing:batch_history": CLINICAL_CARE,
    "dosing:batch_release": {INV},
    "dosing:release_test": {COORD, DM},
    "dosing:release_test_edit": {COORD, DM},
    "dosing:release_test_history": CLINICAL_CARE,
    "apheresis-list": CLINICAL_CARE,
    "apheresis-detail": CLINICAL_CARE,
    "apheresis-history": CLINICAL_CARE,
    "manufacturingbatch-list": CLINICAL_CARE,
    "manufacturingbatch-detail": CLINICAL_CARE,
    "manufacturingbatch-history": CLINICAL_CARE,
    "manufacturingbatch-release": {INV},
    "releasetest-list": CLINICAL_CARE,
    "releasetest-detail": CLINICAL_CARE,
    "releasetest-history": CLINICAL_CARE,
    "schedule-list": CLINICAL_CARE,
    "schedule-detail": CLINICAL_CARE,
    "schedule-history": CLINICAL_CARE,
    "infusion-list": CLINICAL_CARE,
    "infusion-detail": CLINICAL_CARE,
    "infusion-history": CLINICAL_CARE,
    "drugexposure-list": CLINICAL_CARE,
    "drugexposure-detail": CLINICAL_CARE,
    "drugexposure-history": CLINICAL_CARE,
    "dosing-calendar": CLINICAL_CARE,
    "dosing-preview": {COORD, DM},
    "dosing-exposure": CLINICAL_CARE,
    "assessments:worklist": {RAD},
    "assessments:read": {RAD},
    "assessments:adjudication_list": {ADJ},
    "assessments:adjudication": {ADJ},
    "assessments:agreement": {DM},
    "assessments:setup": {COORD, DM},
    "scan-list": CLINICAL_CARE,
    "scan-detail": CLINICAL_CARE,
    "readerassignment-list": {COORD, DM, MON},  # who reads which patient, as the coordinator
    "reading-worklist": {RAD},
    "reading-read": {RAD},
    "reading-lock": {RAD},
    "reading-exchange": {RAD},
    "adjudication-list": {ADJ},
    "adjudication-case": {ADJ},
    "imaging-responses": CLINICAL_READERS,
    "imaging-agreement": {DM},
    "adverseevent-list": CLINICAL_CARE,
    "adverseevent-detail": CLINICAL_CARE,
    "adverseevent-causality": {INV},
    "adverseevent-overdue": CLINICAL_CARE,
    "adverseevent-history": CLINICAL_CARE,
    "saereport-list": CLINICAL_CARE,
    "saereport-detail": CLINICAL_CARE,
    "saereport-history": CLINICAL_CARE,
    "safety-tables": CLINICAL_READERS,
    "safety-tables-csv": CLINICAL_READERS,
    # SUSARs and their report clocks: a masked statistician gets neither terms nor drugs
    "safety-susars": CLINICAL_READERS,
    "questionnaire-list": CLINICAL_READERS,
    "questionnaire-detail": CLINICAL_READERS,
    "questionnaire-history": CLINICAL_READERS,
    "questionnaire-score": CLINICAL_READERS,
    "safety:event_create": {COORD, INV, DM},
    "safety:event": CLINICAL_CARE,
    "safety:event_edit": {COORD, INV, DM},
    "safety:causality": {INV},
    "safety:report_create": {COORD, INV, DM},
    "safety:event_history": CLINICAL_CARE,
    "safety:tables": CLINICAL_READERS,
    # clinical visits and lab values: no arm (a course visit is masked), so the statistician
    # reads them; their audit trails name a course (not the statistician); the adverse events
    # they propose are decided by whoever records adverse events
    "clinicalvisit-list": CLINICAL_READERS,
    "clinicalvisit-detail": CLINICAL_READERS,
    "clinicalvisit-csv": CLINICAL_READERS,
    "clinicalvisit-history": CLINICAL_CARE,
    "labvalue-list": CLINICAL_READERS,
    "labvalue-detail": CLINICAL_READERS,
    "labvalue-history": CLINICAL_CARE,
    "proposedadverseevent-list": CLINICAL_CARE,
    "proposedadverseevent-detail": CLINICAL_CARE,
    "proposedadverseevent-history": CLINICAL_CARE,
    "proposedadverseevent-accept": {COORD, INV, DM},
    "proposedadverseevent-dismiss": {COORD, INV, DM},
    "safety:visit_create": {COORD, INV, DM},
    "safety:visit_edit": {COORD, INV, DM},
    "safety:visit_history": CLINICAL_CARE,
    "safety:lab_history": CLINICAL_CARE,
    "safety:proposal_accept": {COORD, INV, DM},
    "safety:proposal_dismiss": {COORD, INV, DM},
    "safety:proposal_history": CLINICAL_CARE,
    "assessments:questionnaire_create": {COORD, DM},
    "assessments:questionnaire": CLINICAL_READERS,
    "assessments:questionnaire_edit": {COORD, DM},
    "assessments:questionnaire_history": CLINICAL_READERS,
    "followup-list": CLINICAL_CARE,
    "followup-detail": CLINICAL_CARE,
    "followup-history": CLINICAL_CARE,
    "outcomes:followup_create": {COORD, DM},
    "outcomes:followup_edit": {COORD, DM},
    "outcomes:followup_history": CLINICAL_CARE,
    "endpointrun-list": ANALYSTS,
    "endpointrun-detail": ANALYSTS,
    "endpointrun-retry": ANALYSTS,
    "endpointrun-results": ANALYSTS,
    "endpointrun-export": ANALYSTS,
    "endpointrun-conventions": ANALYSTS,
    "endpointrun-cdisc": ANALYSTS,
    "endpointrun-compare": ANALYSTS,
    "endpointrun-dsmb": ANALYSTS,  # ?session=open by default
    "outcomes:runs": ANALYSTS,
    "outcomes:run": ANALYSTS,
    "outcomes:km_plot": ANALYSTS,
    # the DSMB report: the open session in arm codes; the closed one names the arms
    "outcomes:dsmb_open": ANALYSTS,
    "outcomes:dsmb_closed": ANALYSTS - {STAT},
    "outcomes:consort": CLINICAL_READERS,
    "ctcaeterm-list": CLINICAL_CARE,
    "ctcaeterm-detail": CLINICAL_CARE,
    "admin:index": {DM},
    "admin:enrollment_screening_changelist": {DM},
    "admin:enrollment_screening_change": {DM},
    "admin:enrollment_screening_history": {DM},
    "admin:enrollment_patient_changelist": {DM},
    "admin:enrollment_patient_change": {DM},
    "admin:enrollment_patient_history": {DM},
}

# Open without login: the login pages, the token exchange (POST only) and the health check.
PUBLIC = {"login", "logout", "api-token", "healthz", "admin:login", "admin:logout", "admin:jsi18n"}


def url_patterns(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from url_patterns(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", entry


def plain_patterns() -> dict:
    """Named patterns, less the API's `.json` suffix copies of the same views."""
    return {
        name: pattern
        for name, pattern in url_patterns()
        if "format" not in pattern.pattern.regex.groupindex
    }


def walked_names():
    # Django admin's own pages for users, groups and tokens are for staff only (checked in the
    # anonymous walk through admin:index); every other named pattern must be in the table.
    return {name for name in plain_patterns() if not name.startswith("admin:") or name in EXPECTED}


@pytest.fixture
def world(make_user, coordinator, investigator, values, enrol):
    users = {
        COORD: coordinator,
        INV: investigator,
        RAD: make_user(RAD),
        ADJ: make_user(ADJ),
        STAT: make_user(STAT),
        DM: make_user(DM, is_staff=True),
        MON: make_user(MON),
    }
    sequence = randomization_services.sequence_generate(
        by=users[STAT], length=84, block_sizes=[2, 4]
    )
    randomization_services.arm_codes_set(
        sequence=sequence, by=users[DM], code_a_arm="RPI", reason="Arm codes mapped"
    )
    rpi = None
    while rpi is None:
        allocation = randomization_services.patient_randomize(patient=enrol(), by=coordinator)
        rpi = allocation.patient if allocation.arm == "RPI" else None
    treatment = world_treatment(rpi, coordinator)
    patient = enrol()  # enrolled, not randomized
    imaging = world_imaging(rpi, coordinator, users[RAD], make_user(RAD, username="rad-2"))
    pending = services.screening_create(values=values(), by=coordinator)
    kwargs = {
        "pk": pending.pk,
        "study_id": patient.study_id,
        "object_id": pending.pk,
    }
    # Route names whose `pk` is another record's than the screening's
    sae_report = world_sae_report(rpi, coordinator)
    run = outcomes_services.run_start(cutoff=timezone.localdate(), by=users[STAT])
    questionnaire = world_questionnaire(rpi, coordinator)
    change = world_status_change(rpi, coordinator)
    event = world_adverse_event(rpi, coordinator)
    visit = world_visit(rpi, coordinator)
    lab = visit.labs.get()
    proposal = lab.proposals.get()
    query = datamanagement_services.query_raise(
        record=event, field="grade", question="Grade per the source?", by=users[DM]
    )
    lock = datamanagement_services.data_lock(
        by=users[DM],
        patient=patient,
        cutoff=timezone.localdate() - timedelta(days=1),
        reason="Nothing before enrolment",
    )
    recorded, review = world_deviations(rpi, coordinator, users[DM])
    medication, history = world_medications(rpi, coordinator)
    kwargs_by_prefix = {
        "datalock-": {"pk": lock.pk},
        "datamanagement:unfreeze": {"pk": lock.pk},
        "sequence-": {"pk": sequence.pk},
        "randomization:codes": {"pk": sequence.pk},
        **{f"{name}-": {"pk": record.pk} for name, record in treatment.items()},
        "dosing:infusion_history": {"pk": treatment["infusion"].pk},
        "dosing:apheresis_": {"pk": treatment["apheresis"].pk},
        "dosing:batch_": {"pk": treatment["manufacturingbatch"].pk},
        "dosing:release_test": {"pk": treatment["manufacturingbatch"].pk},
        "dosing:release_test_": {"pk": treatment["releasetest"].pk},
        "enrollment:treatment_end_": {"pk": treatment["treatmentend"].pk},
        "statuschange-": {"pk": change.pk},
        "concomitantmedication-": {"pk": medication.pk},
        "enrollment:medication_edit": {"pk": medication.pk},
        "enrollment:medication_history": {"pk": medication.pk},
        "enrollment:medication_stop": {"pk": medication.pk},
        "medicalhistory-": {"pk": history.pk},
        "enrollment:medical_history_edit": {"pk": history.pk},
        "enrollment:medical_history_history": {"pk": history.pk},
        "enrollment:status_change_": {"pk": change.pk},
        "scan-": {"pk": imaging["scan"].pk},
        "ctcaeterm-detail": {"pk": CtcaeTerm.objects.first().pk},
        "adverseevent-": {"pk": event.pk},
        "clinicalvisit-": {"pk": visit.pk},
        "safety:visit_": {"pk": visit.pk},
        "labvalue-": {"pk": lab.pk},
        "safety:lab_": {"pk": lab.pk},
        "proposedadverseevent-": {"pk": proposal.pk},
        "safety:proposal_": {"pk": proposal.pk},
        "dataquery-": {"pk": query.pk},
        "datamanagement:deviation": {"key": recorded.number},
        "datamanagement:deviation_history": {"pk": recorded.pk},
        "datamanagement:deviation_review_history": {"pk": review.pk},
        "deviation-": {"key": review.key},
        "datamanagement:query": {"pk": query.pk},
        "saereport-": {"pk": sae_report.pk},
        "safety:event": {"pk": sae_report.event_id},
        "safety:causality": {"pk": sae_report.event_id},
        "safety:report_create": {"pk": sae_report.event_id},
        "questionnaire-": {"pk": questionnaire.pk},
        "followup": {"pk": world_followup(rpi, coordinator).pk},
        "endpointrun-": {"pk": run.pk, "table": "summary", "kind": "csv"},
        "outcomes:run": {"pk": run.pk, "param": "PFS", "fmt": "png"},
        "outcomes:km_plot": {"pk": run.pk, "param": "OS", "fmt": "svg"},
        "outcomes:dsmb_": {"pk": run.pk},
        "outcomes:followup_": {"pk": FollowUp.objects.get(patient=rpi).pk},
        "assessments:questionnaire": {"pk": questionnaire.pk},
        "reading-": {"scan_id": imaging["scan"].pk},
        "assessments:read": {"scan_id": imaging["scan"].pk},
        "assessments:adjudication": {"label": imaging["label"]},
        "assessments:setup": {"study_id": rpi.study_id},
        "adjudication-case": {"case_label": imaging["label"]},
        "imaging-responses": {"study_id": rpi.study_id},
        "datamanagement:casebook": {"study_id": rpi.study_id},
        "patient-casebook": {"study_id": rpi.study_id},
    }
    return users, (kwargs, kwargs_by_prefix), pending, patient


def world_treatment(patient, coordinator) -> dict:
    """A schedule, a given course, a PD-1 administration and the end of treatment with each
    drug of the arm."""
    now = timezone.now()
    today = timezone.localdate()
    schedule = dosing_services.schedule_create(
        patient=patient, by=coordinator, first_planned_date=today, target_cells_per_m2=5 * 10**8
    )
    infusion = dosing_services.infusion_record(
        patient=patient,
        by=coordinator,
        infused_at=now,
        weight_kg=Decimal("64.0"),
        target_cells_per_m2=5 * 10**8,
        cells_infused=8 * 10**8,
        **released_bag(patient=patient, by=coordinator, infused_at=now),
    )
    drug = world_pd1(patient, coordinator, today)
    ends = [
        course.treatment_end_record(
            patient=patient, by=coordinator, drug=name, date=today, reason="toxicity"
        )
        for name in drugs_of_arm(True)
    ]
    return {
        "schedule": schedule,
        "infusion": infusion,
        "apheresis": infusion.batch.apheresis,
        "manufacturingbatch": infusion.batch,
        "releasetest": infusion.batch.release_tests.first(),
        "drugexposure": drug,
        "treatmentend": ends[0],
    }


def world_pd1(patient, coordinator, day):
    """A PD-1 antibody administration (sintilimab 200 mg) on `day`."""
    return dosing_services.drug_exposure_record(
        patient=patient,
        by=coordinator,
        drug="pd1",
        product="sintilimab",
        event="administration",
        dose=Decimal(200),
        unit="mg",
        route="iv",
        start_date=day,
    )


def world_imaging(patient, coordinator, reader_1, reader_2) -> dict:
    """Two readers and a baseline scan (the day of randomization)."""
    assignments = imaging_services.readers_assign(
        patient=patient, by=coordinator, reader_1=reader_1, reader_2=reader_2
    )
    scan = imaging_services.scan_register(
        patient=patient,
        by=coordinator,
        scan_date=timezone.localdate(),
        kind="baseline",
        modality="CT",
        regions=["chest", "abdomen"],
    )
    return {"scan": scan, "label": assignments[0].reading_label}


def world_adverse_event(patient, coordinator):
    return safety_services.ae_record(
        patient=patient,
        by=coordinator,
        term=CtcaeTerm.objects.get(term="Fatigue"),
        grade=1,
        onset=timezone.localdate(),
    )


def world_visit(patient, coordinator):
    """A visit today whose ALT (6 x ULN) proposes an adverse event."""
    return safety_visits.visit_record(
        patient=patient,
        by=coordinator,
        visit_date=timezone.localdate(),
        kind="unscheduled",
        ecog=1,
        values=[{"test": "alt", "value": "240", "unit": "U/L"}],
    )


def world_sae_report(patient, coordinator):
    now = timezone.now()
    event = safety_services.ae_record(
        patient=patient,
        by=coordinator,
        term=CtcaeTerm.objects.get(term="Anemia"),
        grade=3,
        onset=timezone.localdate(),
        serious_criteria=["hospitalization"],
        awareness_at=now,
        initial_report_at=now,
    )
    return safety_services.sae_report_record(
        event=event, by=coordinator, kind="follow_up", sent_at=now, information="Discharged."
    )


def world_deviations(patient, coordinator, data_manager):
    """A deviation recorded by hand, and the review of a derived one: an SAE reported 30
    hours after the site learnt of it."""
    now = timezone.now()
    safety_services.ae_record(
        patient=patient,
        by=coordinator,
        term=CtcaeTerm.objects.get(term="Sepsis"),
        grade=3,
        onset=timezone.localdate() - timedelta(days=3),
        serious_criteria=["hospitalization"],
        awareness_at=now - timedelta(hours=30),
        initial_report_at=now,
    )
    recorded = deviation_services.deviation_record(
        patient=patient,
        by=coordinator,
        occurred_on=timezone.localdate(),
        identified_on=timezone.localdate(),
        category="procedure",
        description="Blood sample taken out of window",
        classification="minor",
    )
    entry = deviation_services.deviation_review(
        key=f"sae-late:{patient.study_id}:ae-{patient.adverse_events.get(term__term='Sepsis').pk}",
        by=data_manager,
        classification="major",
        corrective_action="Site retrained on the 24-hour rule",
    )
    return recorded, DeviationReview.objects.get(key=entry.key)


def world_medications(patient, coordinator):
    medication = medication_services.medication_record(
        screening=patient.screening,
        by=coordinator,
        name="Clarithromycin",
        indication="Pneumonia",
        dose=Decimal(500),
        dose_unit="mg",
        route="oral",
        frequency="BID",
        start_date=timezone.localdate(),
        ongoing=True,
    )
    history = medication_services.history_record(
        screening=patient.screening, by=coordinator, condition="Chronic hepatitis B", start="2010"
    )
    return medication, history


def world_questionnaire(patient, coordinator):
    return imaging_services.questionnaire_record(
        patient=patient,
        by=coordinator,
        visit="baseline",
        completed_on=timezone.localdate() - timedelta(days=1),
        answers={"1": 2},
    )


def world_status_change(patient, coordinator):
    """Consent to treatment withdrawn today: follow-up continues."""
    return course.status_change_record(
        patient=patient, by=coordinator, kind="withdrawal_treatment", date=timezone.localdate()
    )


def world_followup(patient, coordinator):
    return outcomes_services.followup_record(
        patient=patient, by=coordinator, kind="contact", date=timezone.localdate()
    )


def url_for(name, pattern, kwargs, pending, patient):
    kwargs, by_prefix = kwargs
    for prefix, special in by_prefix.items():
        if name.startswith(prefix):
            kwargs = {**kwargs, **special}
    params = {}
    for key in pattern.pattern.regex.groupindex:
        if key == "object_id" and "patient" in name:  # the admin's patient pages
            params[key] = patient.pk
        else:
            params[key] = kwargs[key]
    return reverse(name, kwargs=params)


def test_every_url_pattern_is_in_the_table():
    assert walked_names() - PUBLIC == set(EXPECTED)


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(EVERYONE))
def test_each_role_gets_in_exactly_where_expected(world, client, role):
    users, kwargs, pending, patient = world
    client.force_login(users[role], backend="django.contrib.auth.backends.ModelBackend")
    patterns = plain_patterns()
    wrong = []
    for name in sorted(EXPECTED):
        url = url_for(name, patterns[name], kwargs, pending, patient)
        status = client.get(url).status_code
        # refused: sent to log in, 401 or 403; anything else got past the permission check
        got_in = status not in (302, 401, 403)
        if got_in != (role in EXPECTED[name]) or status >= 500:
            wrong.append(f"{name} {url}: {status}")
    assert wrong == []


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_login_everywhere(world, client):
    _, kwargs, pending, patient = world
    patterns = plain_patterns()
    for name in sorted(EXPECTED):
        response = client.get(url_for(name, patterns[name], kwargs, pending, patient))
        if name.startswith("admin:"):
            assert response.status_code == 302 and "/admin/login/" in response["Location"]
        elif ":" in name or name == "dashboard":  # the pages
            assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        else:
            assert response.status_code in (401, 403), name


@pytest.mark.django_db
@pytest.mark.parametrize("role", [RAD, ADJ])
def test_blinded_roles_see_no_clinical_data_in_navigation_or_dashboard(world, client, role):
    users, _, pending, patient = world
    client.force_login(users[role], backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(reverse("dashboard")).content.decode()
    for secret in (pending.screening_number, patient.study_id, "Screening log", "Patients"):
        assert secret not in page


@pytest.mark.django_db
def test_navigation_shows_each_role_only_what_it_may_use(world, client):
    users, *_ = world
    client.force_login(users[INV], backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(reverse("dashboard")).content.decode()
    assert "Screening log" in page
    assert "New screening" not in page
    client.force_login(users[COORD], backend="django.contrib.auth.backends.ModelBackend")
    assert "New screening" in client.get(reverse("dashboard")).content.decode()
    # the data pages in one menu, each entry for whoever may open it
    client.force_login(users[DM], backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(reverse("dashboard")).content.decode()
    menu = page[page.index('id="menu-data"') : page.index("</ul>", page.index('id="menu-data"'))]
    for entry in (
        "/casebook/",
        "/queries/",
        "/source-verification/",
        "/deviations/",
        "/data-lock/",
    ):
        assert entry in menu
    client.force_login(users[STAT], backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(reverse("dashboard")).content.decode()
    assert "/data-lock/" in page and "/queries/" not in page
    client.force_login(users[RAD], backend="django.contrib.auth.backends.ModelBackend")
    assert 'id="menu-data"' not in client.get(reverse("dashboard")).content.decode()


@pytest.mark.django_db
def test_the_api_schema_shows_each_role_its_own_routes_and_no_arm(api_as, make_user):
    """Blinded readers (and the masked statistician) get a schema of what they may call,
    naming no arm and no study treatment; the Swagger page works for them."""
    for role in (RAD, ADJ, STAT):
        api = api_as(make_user(role))
        schema = api.get("/api/schema/").content.decode()
        assert "RPI" not in schema and "iNKT" not in schema, role
        if role != STAT:
            assert "regorafenib" not in schema.lower() and "/api/randomization/" not in schema
        assert api.get("/api/docs/").status_code == 200
    reader = api_as(make_user(RAD, username="rad-x")).get("/api/schema/").content.decode()
    assert "/api/reading/worklist/" in reader and "/api/safety/" not in reader
