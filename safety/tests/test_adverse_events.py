from datetime import timedelta

import pytest
from django.utils import timezone

from inkt_trial.audit import history_of
from inkt_trial.errors import DomainError
from safety import services
from safety.models import CtcaeTerm

pytestmark = pytest.mark.django_db


def term(name):
    return CtcaeTerm.objects.get(term=name)


def days_ago(n):
    return timezone.localdate() - timedelta(days=n)


@pytest.fixture
def rp(randomized):
    """An RP patient consented 30 days ago, randomized 20 days ago."""
    return randomized("RP", days_ago=20, consent_date=days_ago(30), screening_date=days_ago(29))


def test_record_an_event_with_derived_fields(rp, coordinator, start_regorafenib):
    start_regorafenib(rp, days_ago(15))
    event = services.ae_record(
        patient=rp, by=coordinator, term=term("Fatigue"), grade=2, onset=days_ago(10)
    )
    assert event.treatment_emergent and not event.serious
    assert (event.relationship_inkt, event.action_inkt) == ("not_applicable", "not_applicable")
    early = services.ae_record(
        patient=rp, by=coordinator, term=term("Fatigue"), grade=1, onset=days_ago(18)
    )
    assert not early.treatment_emergent


def test_refusals(rp, coordinator):
    with pytest.raises(DomainError) as refused:
        services.ae_record(
            patient=rp, by=coordinator, term=term("Fatigue"), grade=5, onset=days_ago(3)
        )
    assert "grade" in refused.value.field_errors  # Fatigue has no grade 5
    with pytest.raises(DomainError) as refused:
        services.ae_record(
            patient=rp,
            by=coordinator,
            term=term("Anemia"),
            grade=2,
            onset=rp.screening.consent_date - timedelta(days=1),
        )
    assert "medical history" in refused.value.field_errors["onset"][0]
    with pytest.raises(DomainError) as refused:
        services.ae_record(
            patient=rp,
            by=coordinator,
            term=term("Anemia"),
            grade=3,
            onset=days_ago(3),
            serious_criteria=["hospitalization"],
        )
    assert "awareness_at" in refused.value.field_errors


def test_serious_event_overdue_without_initial_report(rp, coordinator):
    aware = timezone.now() - timedelta(hours=30)
    event = services.ae_record(
        patient=rp,
        by=coordinator,
        term=term("Anemia"),
        grade=3,
        onset=days_ago(3),
        serious_criteria=["hospitalization"],
        awareness_at=aware,
    )
    assert event.serious
    assert services.overdue_saes(now=timezone.now()) == [event]
    services.ae_correct(
        event=event,
        by=coordinator,
        reason="Initial report faxed",
        initial_report_at=aware + timedelta(hours=20),
    )
    assert services.overdue_saes(now=timezone.now()) == []
    assert history_of(event)[0]["reason"] == "Initial report faxed"


def test_causality_is_the_investigators(rp, coordinator, investigator):
    event = services.ae_record(
        patient=rp, by=coordinator, term=term("Anemia"), grade=2, onset=days_ago(3)
    )
    assessed = services.ae_assess_causality(
        event=event,
        by=investigator,
        relationship_pd1="possible",
        relationship_regorafenib="unlikely",
    )
    assert (assessed.relationship_pd1, assessed.relationship_regorafenib) == (
        "possible",
        "unlikely",
    )
    with pytest.raises(DomainError):
        services.ae_assess_causality(event=event, by=investigator, relationship_inkt="possible")


def test_grade_5_needs_death(rp, coordinator):
    fatal = {"term": term("Anemia"), "grade": 5, "onset": days_ago(3)}
    with pytest.raises(DomainError) as refused:
        services.ae_record(patient=rp, by=coordinator, **fatal)
    assert {"death_date", "serious_criteria", "outcome"} <= set(refused.value.field_errors)
    event = services.ae_record(
        patient=rp,
        by=coordinator,
        **fatal,
        death_date=days_ago(1),
        serious_criteria=["death"],
        outcome="fatal",
        awareness_at=timezone.now(),
    )
    assert event.serious


def test_through_the_api(api_as, rp, coordinator, investigator, make_user):
    api = api_as(coordinator)
    body = {
        "study_id": rp.study_id,
        "meddra_code": term("Anemia").meddra_code,
        "grade": 3,
        "onset": str(days_ago(2)),
        "serious_criteria": ["hospitalization"],
        "awareness_at": (timezone.now() - timedelta(hours=26)).isoformat(),
    }
    created = api.post("/api/safety/adverse-events/", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["serious"] is True
    assert [e["id"] for e in api.get("/api/safety/adverse-events/overdue/").json()] == [
        created.json()["id"]
    ]
    bad = api.post("/api/safety/adverse-events/", {**body, "grade": 9}, format="json")
    assert bad.status_code == 400 and "grade" in bad.json()
    url = f"/api/safety/adverse-events/{created.json()['id']}/"
    assert api.patch(url, {"grade": 2}, format="json").status_code == 400  # no reason
    assert api.post(f"{url}causality/", {"relationship_pd1": "possible"}).status_code == 403
    assessed = api_as(investigator).post(f"{url}causality/", {"relationship_pd1": "possible"})
    assert assessed.status_code == 200 and assessed.json()["relationship_pd1"] == "possible"
    for role in ("radiologist", "adjudicator", "statistician"):
        other = api_as(make_user(role, username=f"x-{role}"))
        assert other.get("/api/safety/adverse-events/").status_code == 403


def test_treatment_emergent_up_to_30_days_after_the_last_dose(
    randomized, coordinator, settings, start_regorafenib
):
    """TEAE: onset from the first dose to 30 days (TEAE_WINDOW_DAYS) after the last one; while
    a prescribed period is open (on treatment) there is no upper limit."""
    from enrollment import course
    from enrollment.status import drugs_of_arm

    patient = randomized(
        "RP",
        days_ago=100,
        consent_date=days_ago(110),
        screening_date=days_ago(109),
        prior_progression_date=days_ago(120),
    )
    start_regorafenib(patient, days_ago(95))  # open: on treatment
    fatigue = term("Fatigue")
    late = services.ae_record(
        patient=patient, by=coordinator, term=fatigue, grade=1, onset=days_ago(5)
    )
    assert late.treatment_emergent
    for drug in drugs_of_arm(False):  # the end of treatment: every drug of the RP arm
        course.treatment_end_record(
            patient=patient, by=coordinator, drug=drug, date=days_ago(58), reason="toxicity"
        )  # closes the open period on that date: the last dose
    within = services.ae_record(
        patient=patient, by=coordinator, term=fatigue, grade=2, onset=days_ago(30)
    )
    late = type(late).objects.get(pk=late.pk)
    assert within.treatment_emergent and not late.treatment_emergent  # 28 vs 53 days after
    settings.TEAE_WINDOW_DAYS = 60
    assert type(late).objects.get(pk=late.pk).treatment_emergent


def test_dose_spans_from_infusions_administrations_and_periods(
    randomized, coordinator, start_regorafenib, django_assert_max_num_queries
):
    from decimal import Decimal

    from dosing import services as dosing
    from dosing.selectors import dose_spans
    from enrollment import course
    from enrollment.status import drugs_of_arm

    history = {
        "consent_date": days_ago(110),
        "screening_date": days_ago(109),
        "prior_progression_date": days_ago(120),
    }
    closed, single, treated = (randomized("RP", days_ago=100, **history) for _ in range(3))
    start_regorafenib(closed, days_ago(90), until=days_ago(40))  # stopped, no end of treatment
    dosing.drug_exposure_record(
        patient=single,
        by=coordinator,
        drug="pd1",
        event="administration",
        dose=Decimal(200),
        unit="mg",
        route="iv",
        start_date=days_ago(80),
    )
    for drug in drugs_of_arm(False):  # the end of treatment: every drug of the RP arm
        course.treatment_end_record(
            patient=single, by=coordinator, drug=drug, date=days_ago(10), reason="toxicity"
        )
    start_regorafenib(treated, days_ago(85))
    # one query a table whatever the number of patients: first infusions and exposures, ends
    # of treatment, status changes, the derived stops (reader pairs, 6th courses, drugs
    # withdrawn for an adverse event), last infusions and exposures
    with django_assert_max_num_queries(9):
        spans = dose_spans([closed.pk, single.pk, treated.pk])
    assert spans[closed.pk] == (days_ago(90), days_ago(40))
    assert spans[single.pk] == (days_ago(80), days_ago(80))  # the end of treatment adds no dose
    assert spans[treated.pk] == (days_ago(85), None)
