"""Follow-up records through the services, the API and the pages; the death date kept the same
in the patient's status and in a fatal adverse event."""

from datetime import timedelta

import pytest
from django.utils import timezone

from enrollment import course
from enrollment.dates import shown
from inkt_trial.audit import history_of
from inkt_trial.errors import DomainError
from outcomes import services
from outcomes.models import FollowUp
from safety import services as safety_services
from safety.models import CtcaeTerm

pytestmark = pytest.mark.django_db


def days_ago(n):
    return timezone.localdate() - timedelta(days=n)


@pytest.fixture
def patient(randomized):
    return randomized("RP", days_ago=20, consent_date=days_ago(30), screening_date=days_ago(29))


def fatal_event(patient, by, died):
    return safety_services.ae_record(
        patient=patient,
        by=by,
        term=CtcaeTerm.objects.get(term="Sepsis"),
        grade=5,
        onset=died - timedelta(days=2),
        death_date=died,
        serious_criteria=["death"],
        outcome="fatal",
        awareness_at=timezone.now(),
    )


def test_death_consistent_with_a_fatal_adverse_event(patient, coordinator):
    fatal_event(patient, coordinator, days_ago(3))
    with pytest.raises(DomainError) as refused:
        course.status_change_record(
            patient=patient, by=coordinator, kind="death", date=days_ago(4), cause="Sepsis"
        )
    assert "fatal adverse event records the death on" in refused.value.field_errors["date"][0]
    death = course.status_change_record(
        patient=patient, by=coordinator, kind="death", date=days_ago(3), cause="Sepsis"
    )
    with pytest.raises(DomainError) as refused:
        fatal_event(patient, coordinator, days_ago(2))
    assert "patient's status records the death on" in refused.value.field_errors["death_date"][0]
    with pytest.raises(DomainError):
        services.followup_record(patient=patient, by=coordinator, kind="contact", date=days_ago(1))
    confirm = services.followup_record(
        patient=patient, by=coordinator, kind="contact", date=days_ago(1), alive=False
    )
    assert confirm.alive is False
    fixed = course.status_change_correct(
        record=death, by=coordinator, reason="Hospital letter", cause="Septic shock"
    )
    assert fixed.cause == "Septic shock"
    assert history_of(fixed)[0]["reason"] == "Hospital letter"


def test_death_before_a_known_alive_date_is_refused(patient, coordinator):
    safety_services.ae_record(
        patient=patient,
        by=coordinator,
        term=CtcaeTerm.objects.get(term="Fatigue"),
        grade=1,
        onset=days_ago(2),
    )
    with pytest.raises(DomainError) as refused:
        course.status_change_record(
            patient=patient, by=coordinator, kind="death", date=days_ago(5), cause="Unknown"
        )
    assert f"alive on {shown(days_ago(2))}" in refused.value.field_errors["date"][0]


def test_through_the_api_and_the_pages(api_as, client_as, patient, coordinator, make_user):
    api = api_as(coordinator)
    body = {"study_id": patient.study_id, "kind": "new_therapy", "date": str(days_ago(2))}
    refused = api.post("/api/follow-up/", body, format="json")
    assert refused.status_code == 400 and "therapy" in refused.json()
    created = api.post("/api/follow-up/", {**body, "therapy": "TACE"}, format="json")
    assert created.status_code == 201
    url = f"/api/follow-up/{created.json()['id']}/"
    assert api.patch(url, {"therapy": "TACE x2"}, format="json").status_code == 400
    assert (
        api.patch(url, {"therapy": "TACE x2", "reason": "typo"}, format="json").status_code == 200
    )
    client = client_as(coordinator)
    page = client.post(
        f"/patients/{patient.study_id}/follow-up/new/",
        {"kind": "contact", "date": str(days_ago(1)), "alive": "True"},
    )
    assert page.status_code == 302
    assert FollowUp.objects.filter(patient=patient, kind="contact", alive=True).exists()
    shown = client.get(f"/patients/{patient.study_id}/").content.decode()
    assert "TACE x2" in shown and "Survival contact" in shown
    future = client.post(
        f"/patients/{patient.study_id}/follow-up/new/",
        {"kind": "contact", "date": str(days_ago(-1)), "alive": "True"},
    )
    assert "Cannot be in the future." in future.content.decode()
    for role in ("radiologist", "adjudicator", "statistician"):
        assert (
            api_as(make_user(role, username=f"f-{role}")).get("/api/follow-up/").status_code == 403
        )


def test_nothing_is_dated_after_a_recorded_death(patient, coordinator, start_regorafenib):
    from decimal import Decimal

    from assessments import services as imaging
    from dosing import services as dosing
    from enrollment.status import drugs_of_arm

    start_regorafenib(patient, days_ago(18))
    course.status_change_record(
        patient=patient, by=coordinator, kind="death", date=days_ago(5), cause="HCC"
    )
    died = shown(days_ago(5))
    refusals = [
        (
            lambda: imaging.scan_register(
                patient=patient,
                by=coordinator,
                scan_date=days_ago(2),
                kind="baseline",
                modality="CT",
                regions=["abdomen"],
            ),
            f"The patient died on {died}: no scan can be dated after it.",
        ),
        (
            lambda: safety_services.ae_record(
                patient=patient,
                by=coordinator,
                term=CtcaeTerm.objects.get(term="Fatigue"),
                grade=1,
                onset=days_ago(2),
            ),
            f"The patient died on {died}: no adverse event can be dated after it.",
        ),
        (
            lambda: dosing.drug_exposure_record(
                patient=patient,
                by=coordinator,
                drug="pd1",
                product="sintilimab",
                event="administration",
                dose=Decimal(200),
                unit="mg",
                route="iv",
                start_date=days_ago(2),
            ),
            f"PD-1 antibody may not be given after {died}: death.",
        ),
        (
            lambda: imaging.questionnaire_record(
                patient=patient,
                by=coordinator,
                visit="baseline",
                completed_on=days_ago(2),
                answers={"1": 1},
            ),
            f"The patient died on {died}: no questionnaire can be dated after it.",
        ),
    ] + [  # the end of the treatment: each drug of the patient's (RP) arm
        (
            lambda drug=drug: course.treatment_end_record(
                patient=patient, by=coordinator, drug=drug, date=days_ago(2), reason="death"
            ),
            f"The patient died on {died}: no end of treatment can be dated after it.",
        )
        for drug in drugs_of_arm(False)
    ]
    for attempt, expected in refusals:
        with pytest.raises(DomainError) as refused:
            attempt()
        assert expected in str(refused.value.field_errors) + refused.value.message


def test_a_correction_that_changes_nothing_writes_no_history(patient, coordinator):
    record = services.followup_record(
        patient=patient, by=coordinator, kind="contact", date=days_ago(1)
    )
    services.followup_correct(record=record, by=coordinator, reason="Checked", date=days_ago(1))
    assert len(history_of(record)) == 1
    services.followup_correct(record=record, by=coordinator, reason="Typo", date=days_ago(2))
    assert [row["reason"] for row in history_of(record)] == ["Typo", ""]
