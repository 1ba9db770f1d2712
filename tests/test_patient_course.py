"""The patient's course across the apps: status changes and ends of treatment per drug, read by
every domain from enrollment; withdrawal of consent stopping every kind of record; treatment
stopped by progression, toxicity and the 6th course without a manual record."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from assessments import services as imaging
from dosing import services as dosing
from dosing.fixtures import released_bag
from enrollment import course, status
from enrollment.dates import shown
from enrollment.models import StatusChange, TreatmentEnd
from inkt_trial.audit import history_of
from inkt_trial.errors import DomainError
from outcomes import services as outcomes
from outcomes.tests.test_runs import hand_built
from safety import services as safety
from safety.models import CtcaeTerm

pytestmark = pytest.mark.django_db


def days_ago(n):
    return timezone.localdate() - timedelta(days=n)


def at(day, hour=10):
    return timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time())) + (
        timedelta(hours=hour)
    )


def pd1(patient, by, day):
    return dosing.drug_exposure_record(
        patient=patient,
        by=by,
        drug="pd1",
        event="administration",
        dose=Decimal(200),
        unit="mg",
        route="iv",
        start_date=day,
    )


def scan(patient, by, day, kind="scheduled"):
    return imaging.scan_register(
        patient=patient, by=by, scan_date=day, kind=kind, modality="CT", regions=["abdomen"]
    )


@pytest.fixture
def patient_of(randomized, coordinator):
    """patient_of(arm): randomized 40 days ago, consented 50 days ago, baseline scan done."""

    def make(arm):
        patient = randomized(
            arm,
            days_ago=40,
            consent_date=days_ago(50),
            screening_date=days_ago(49),
            prior_progression_date=days_ago(60),
        )
        scan(patient, coordinator, days_ago(41), kind="baseline")
        return patient

    return make


def event(patient, by, onset, term="Fatigue", grade=1, **more):
    return safety.ae_record(
        patient=patient,
        by=by,
        term=CtcaeTerm.objects.get(term=term),
        grade=grade,
        onset=onset,
        **more,
    )


def refused(call) -> dict:
    with pytest.raises(DomainError) as error:
        call()
    return {field: " ".join(msgs) for field, msgs in error.value.field_errors.items()} or {
        "": error.value.message
    }


def test_withdrawal_of_all_further_data_stops_every_kind_of_record(patient_of, coordinator):
    patient = patient_of("RP")
    withdrawn = days_ago(10)
    course.status_change_record(
        patient=patient, by=coordinator, kind=status.WITHDRAWAL_ALL, date=withdrawn
    )
    after = days_ago(5)
    named = f"Consent to all further data was withdrawn on {shown(withdrawn)}"
    stopped = f"after {shown(withdrawn)}: withdrawal of consent to all further data"
    assert named in refused(lambda: scan(patient, coordinator, after))["scan_date"]
    assert stopped in refused(lambda: pd1(patient, coordinator, after))["start_date"]
    assert named in refused(lambda: event(patient, coordinator, after))["onset"]
    answers = {str(i): 1 for i in range(1, 31)}
    assert (
        named
        in refused(
            lambda: imaging.questionnaire_record(
                patient=patient,
                by=coordinator,
                visit="visit-1",
                completed_on=after,
                answers=answers,
            )
        )["completed_on"]
    )
    contact = dict(patient=patient, by=coordinator, kind="contact", date=after)
    assert named in refused(lambda: outcomes.followup_record(**contact))["date"]
    # the consent did not allow public records: not even from them
    assert (
        named
        in refused(lambda: outcomes.followup_record(**contact, from_public_records=True))["date"]
    )
    death = dict(patient=patient, by=coordinator, kind=status.DEATH, date=after, cause="HCC")
    assert (
        "does not allow public records"
        in refused(lambda: course.status_change_record(**death, from_public_records=True))["date"]
    )
    # records dated up to the withdrawal are still accepted
    scan(patient, coordinator, withdrawn)
    assert course.state(patient)["state"] == status.OFF_STUDY_STATE


def test_survival_status_from_public_records_when_the_consent_allows_it(patient_of, coordinator):
    patient = patient_of("RP")
    withdrawn = days_ago(20)
    change = course.status_change_record(
        patient=patient,
        by=coordinator,
        kind=status.WITHDRAWAL_ALL,
        date=withdrawn,
        public_records_allowed=True,
    )
    contact = dict(patient=patient, by=coordinator, kind="contact", date=days_ago(10))
    message = refused(lambda: outcomes.followup_record(**contact))["date"]
    assert "may still come from public records" in message
    outcomes.followup_record(**contact, from_public_records=True)
    death = dict(patient=patient, by=coordinator, kind=status.DEATH, date=days_ago(5), cause="HCC")
    assert (
        "public records only"
        in refused(lambda: course.status_change_record(**death))["from_public_records"]
    )
    course.status_change_record(**death, from_public_records=True)
    assert course.death_date(patient.pk) == days_ago(5)
    # still no clinical record after the withdrawal
    assert "withdrawn" in refused(lambda: scan(patient, coordinator, days_ago(8)))["scan_date"]
    assert change.public_records_allowed


def test_withdrawal_of_consent_to_treatment_stops_the_drugs_not_the_follow_up(
    patient_of, coordinator
):
    patient = patient_of("RPI")
    pd1(patient, coordinator, days_ago(30))
    stop = days_ago(20)
    course.status_change_record(
        patient=patient, by=coordinator, kind=status.WITHDRAWAL_TREATMENT, date=stop
    )
    message = refused(lambda: pd1(patient, coordinator, days_ago(10)))["start_date"]
    assert f"PD-1 antibody may not be given after {shown(stop)}" in message
    assert "withdrawal of consent to treatment" in message
    assert (
        f"is over since {shown(stop)}"
        in refused(
            lambda: dosing.schedule_create(
                patient=patient,
                by=coordinator,
                first_planned_date=days_ago(39),
                target_cells_per_m2=5 * 10**8,
            )
        )[""]
    )
    scan(patient, coordinator, days_ago(10))  # follow-up continues
    event(patient, coordinator, days_ago(9))
    outcomes.followup_record(patient=patient, by=coordinator, kind="contact", date=days_ago(2))
    found = course.state(patient)
    assert found["state"] == status.IN_FOLLOW_UP
    assert [t["state"] for t in found["transitions"]] == [
        status.ON_STUDY,
        status.ON_TREATMENT,
        status.IN_FOLLOW_UP,
    ]
    assert found["transitions"][-1]["date"] == stop


def test_each_drug_ends_separately(patient_of, coordinator):
    patient = patient_of("RPI")
    pd1(patient, coordinator, days_ago(35))
    end = course.treatment_end_record(
        patient=patient, by=coordinator, drug="pd1", date=days_ago(30), reason="toxicity"
    )
    assert (
        "may not be given after"
        in refused(lambda: pd1(patient, coordinator, days_ago(20)))["start_date"]
    )
    dosing.drug_exposure_record(  # regorafenib goes on
        patient=patient,
        by=coordinator,
        drug="regorafenib",
        event="administration",
        dose=Decimal(160),
        unit="mg",
        route="oral",
        start_date=days_ago(20),
    )
    assert (
        "already recorded"
        in refused(
            lambda: course.treatment_end_record(
                patient=patient, by=coordinator, drug="pd1", date=days_ago(25), reason="patient"
            )
        )["drug"]
    )
    assert (
        "Only the iNKT cells"
        in refused(
            lambda: course.treatment_end_record(
                patient=patient,
                by=coordinator,
                drug="regorafenib",
                date=days_ago(5),
                reason="completed",
            )
        )["reason"]
    )
    assert (
        "given after it"
        in refused(
            lambda: course.treatment_end_record(
                patient=patient,
                by=coordinator,
                drug="regorafenib",
                date=days_ago(25),
                reason="patient",
            )
        )["date"]
    )
    assert course.state(patient)["state"] == status.ON_TREATMENT
    fixed = course.treatment_end_correct(
        record=end,
        by=coordinator,
        correction_reason="Date from the infusion log",
        date=days_ago(31),
    )
    assert history_of(fixed)[0]["reason"] == "Date from the infusion log"
    for drug in ("inkt", "regorafenib"):
        course.treatment_end_record(
            patient=patient, by=coordinator, drug=drug, date=days_ago(2), reason="patient"
        )
    found = course.state(patient)
    assert found["state"] == status.IN_FOLLOW_UP
    assert found["transitions"][-1]["date"] == days_ago(2)


def test_a_drug_withdrawn_for_an_adverse_event_stops_without_a_record(patient_of, coordinator):
    patient = patient_of("RP")
    pd1(patient, coordinator, days_ago(30))
    event(
        patient,
        coordinator,
        days_ago(25),
        term="Hepatic failure",
        grade=3,
        action_pd1="withdrawn",
    )
    stop = course.treatment_stop(patient.pk, "pd1")
    assert stop[0] == days_ago(25) and "unacceptable toxicity" in stop[1]
    assert (
        "may not be given after"
        in refused(lambda: pd1(patient, coordinator, days_ago(20)))["start_date"]
    )
    assert course.treatment_stop(patient.pk, "regorafenib") is None
    assert not TreatmentEnd.objects.filter(patient=patient).exists()  # derived, not written


def test_progression_on_the_accepted_reads_stops_every_drug(randomized, trial_users):
    users = trial_users
    randomized("RP")  # prepares the allocation sequence
    randomized_on = timezone.localdate() - timedelta(days=200)
    # 50 mm at baseline; +40 % at visit 2 (mRECIST PD, iRECIST iUPD), growing further at visit 3
    # (iCPD): progression is established at visit 3's scan
    patient = hand_built(users, randomized_on=randomized_on, sums=[45, 70, 80])
    visit_3 = randomized_on + timedelta(days=168)
    assert imaging.progression_stop(patient) == visit_3
    stops = course.treatment_stops(patient.pk)
    assert stops["pd1"][0] == visit_3 and "disease progression" in stops["pd1"][1]
    assert (
        "may not be given after"
        in refused(lambda: pd1(patient, users["coordinator"], visit_3 + timedelta(days=3)))[
            "start_date"
        ]
    )
    assert course.state(patient)["state"] == status.IN_FOLLOW_UP


def test_the_sixth_course_ends_the_inkt_treatment(randomized, coordinator):
    patient = randomized("RPI", days_ago=90)
    first = days_ago(85)
    dosing.schedule_create(
        patient=patient, by=coordinator, first_planned_date=first, target_cells_per_m2=5 * 10**8
    )
    for k in range(6):
        dosing.infusion_record(
            patient=patient,
            by=coordinator,
            infused_at=at(first + timedelta(days=14 * k)),
            weight_kg=Decimal(70),
            target_cells_per_m2=5 * 10**8,
            cells_infused=9 * 10**8,
            **released_bag(
                patient=patient, by=coordinator, infused_at=at(first + timedelta(days=14 * k))
            ),
        )
    stop = course.treatment_stop(patient.pk, "inkt")
    assert stop[0] == first + timedelta(days=70) and "completed the 6 courses" in stop[1]
    assert course.treatment_stop(patient.pk, "pd1") is None


def test_status_changes_through_the_api_and_the_patient_page(
    patient_of, coordinator, statistician, api_as, client_as
):
    patient = patient_of("RPI")
    api = api_as(coordinator)
    body = {"study_id": patient.study_id, "kind": "lost", "date": str(days_ago(3))}
    made = api.post("/api/patient-status/changes/", body, format="json")
    assert made.status_code == 201, made.json()
    again = api.post("/api/patient-status/changes/", body, format="json")
    assert again.status_code == 400 and "already recorded" in str(again.json())
    state = api.get(f"/api/patients/{patient.study_id}/status/").json()
    assert state["state"] == "off_study"
    assert {d["drug"] for d in state["drugs"]} == {"inkt", "pd1", "regorafenib"}
    assert all(d["stopped_after"] == str(days_ago(3)) for d in state["drugs"])
    fixed = api.patch(
        f"/api/patient-status/changes/{made.json()['id']}/",
        {"date": str(days_ago(4)), "reason": "Last call was earlier"},
        format="json",
    )
    assert fixed.status_code == 200
    assert StatusChange.objects.get().date == days_ago(4)
    # a masked statistician: deaths and losses, not the drugs (an iNKT end reveals the arm)
    masked = api_as(statistician)
    assert masked.get("/api/patient-status/changes/").status_code == 200
    assert masked.get(f"/api/patients/{patient.study_id}/status/").status_code == 403
    assert masked.get("/api/patient-status/treatment-ends/").status_code == 403
    page = client_as(coordinator).get(f"/patients/{patient.study_id}/").content.decode()
    assert "Off study" in page and "Lost to follow-up" in page


def test_an_end_of_treatment_corrected_through_the_api_and_the_page(
    patient_of, coordinator, api_as, client_as
):
    patient = patient_of("RP")
    api = api_as(coordinator)
    body = {"study_id": patient.study_id, "drug": "pd1", "date": str(days_ago(6))}
    made = api.post("/api/patient-status/treatment-ends/", {**body, "reason": "toxicity"})
    assert made.status_code == 201, made.json()
    url = f"/api/patient-status/treatment-ends/{made.json()['id']}/"
    unexplained = api.patch(url, {"reason": "patient"}, format="json")
    assert unexplained.status_code == 400 and "correction_reason" in unexplained.json()
    fixed = api.patch(
        url, {"reason": "patient", "correction_reason": "The patient declined"}, format="json"
    )
    assert fixed.status_code == 200 and fixed.json()["reason"] == "patient"
    record = TreatmentEnd.objects.get()
    assert history_of(record)[0]["reason"] == "The patient declined"
    browser = client_as(coordinator)
    edited = browser.post(
        f"/treatment-ends/{record.pk}/edit/",
        {
            "drug": "pd1",
            "date": str(days_ago(7)),
            "reason": "investigator",
            "details": "",
            "correction_reason": "Date and reason from the clinic letter",
        },
    )
    assert edited.status_code == 302, edited.content.decode()[-2000:]
    record.refresh_from_db()
    assert (record.date, record.reason) == (days_ago(7), "investigator")


def test_no_randomization_after_a_status_change(enrol, coordinator, randomized):
    from randomization import services as randomization

    randomized("RP")  # prepares the allocation sequence
    patient = enrol()
    course.status_change_record(
        patient=patient,
        by=coordinator,
        kind=status.DEATH,
        date=timezone.localdate(),
        cause="Variceal bleeding",
    )
    with pytest.raises(DomainError, match="cannot be randomized"):
        randomization.patient_randomize(patient=patient, by=coordinator)


def test_every_date_of_an_adverse_event_after_a_withdrawal_is_refused(patient_of, coordinator):
    patient = patient_of("RP")
    ae = event(patient, coordinator, days_ago(20))
    course.status_change_record(
        patient=patient, by=coordinator, kind=status.WITHDRAWAL_ALL, date=days_ago(10)
    )
    with pytest.raises(DomainError) as error:
        safety.ae_correct(event=ae, by=coordinator, reason="Resolved", resolution=days_ago(5))
    assert "withdrawn" in " ".join(error.value.field_errors["resolution"])


def test_no_death_nor_end_of_study_before_an_adverse_event_resolved(patient_of, coordinator):
    """The other way round: an event resolved on a day shows the patient was seen then, so a
    death or a loss to follow-up dated before it is refused; on that day, accepted."""
    patient = patient_of("RP")
    event(patient, coordinator, days_ago(20), outcome="recovered", resolution=days_ago(8))
    death = dict(patient=patient, by=coordinator, kind=status.DEATH, cause="HCC")
    message = refused(lambda: course.status_change_record(**death, date=days_ago(10)))["date"]
    assert message == (
        f"The patient is known to have been alive on {shown(days_ago(8))} "
        "(an adverse event's resolution)."
    )
    lost = dict(patient=patient, by=coordinator, kind=status.LOST, date=days_ago(9))
    assert (
        "resolution is recorded after it"
        in refused(lambda: course.status_change_record(**lost))["date"]
    )
    course.status_change_record(**death, date=days_ago(8))
    assert course.death_date(patient.pk) == days_ago(8)


def test_completed_needs_the_six_courses(patient_of, coordinator):
    patient = patient_of("RPI")
    assert (
        "not all recorded"
        in refused(
            lambda: course.treatment_end_record(
                patient=patient, by=coordinator, drug="inkt", date=days_ago(1), reason="completed"
            )
        )["reason"]
    )


def test_derived_stops_reach_the_reminders_the_dose_spans_and_consort(
    patient_of, coordinator, data_manager
):
    from dosing.selectors import dose_spans
    from outcomes.selectors import consort_flow

    patient = patient_of("RPI")
    dosing.schedule_create(
        patient=patient,
        by=coordinator,
        first_planned_date=days_ago(39),
        target_cells_per_m2=5 * 10**8,
    )
    assert [r["patient"] for r in dosing.due_and_overdue(today=timezone.localdate())] == [patient]
    dosing.drug_exposure_record(
        patient=patient,
        by=coordinator,
        drug="regorafenib",
        event="period",
        dose=Decimal(160),
        unit="mg",
        route="oral",
        start_date=days_ago(38),
    )
    assert dose_spans([patient.pk])[patient.pk][1] is None  # an open period: on treatment
    event(
        patient,
        coordinator,
        days_ago(30),
        term="Hepatic failure",
        grade=3,
        action_inkt="withdrawn",
        action_pd1="withdrawn",
        action_regorafenib="withdrawn",
    )
    assert dosing.due_and_overdue(today=timezone.localdate()) == []
    assert dose_spans([patient.pk])[patient.pk][1] == days_ago(30)
    arms = dict(consort_flow(data_manager)["arms"])
    assert dict(arms["RPI"]["discontinued"]) == {"Unacceptable toxicity": 1}
