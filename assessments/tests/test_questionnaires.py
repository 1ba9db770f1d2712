"""QLQ-C30 questionnaires: recorded per visit, scored by the pure module, corrected with a
reason, through the services and the API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from assessments import qlqc30, selectors, services
from inkt_trial.audit import history_of
from inkt_trial.errors import DomainError

pytestmark = pytest.mark.django_db


def days_ago(n):
    return timezone.localdate() - timedelta(days=n)


def answers(four=2, seven=5, blank=()):
    return {str(i): None if i in blank else (seven if i > 28 else four) for i in range(1, 31)}


@pytest.fixture
def patient(randomized):
    return randomized(
        "RP",
        days_ago=70,
        consent_date=days_ago(80),
        screening_date=days_ago(79),
        prior_progression_date=days_ago(90),
    )


def test_record_score_and_change_from_baseline(patient, coordinator):
    baseline = services.questionnaire_record(
        patient=patient,
        by=coordinator,
        visit="baseline",
        completed_on=days_ago(72),
        answers=answers(),
    )
    assert baseline.scores == qlqc30.score(answers())
    later = services.questionnaire_record(
        patient=patient,
        by=coordinator,
        visit="visit-1",
        completed_on=days_ago(14),
        answers=answers(four=3, seven=3, blank=(4, 5, 6, 7)),
    )
    # PF2 on items 1-3 (all 3): 100 * (1 - 2/3); RF2 has no answered item: missing.
    assert later.scores["PF2"] == pytest.approx(100 / 3)
    assert later.scores["RF2"] is None and later.scores["SUM"] is None
    assert later.answers["4"] is None and later.answers["1"] == 3
    qol = selectors.patient_quality_of_life(patient)
    assert [name for _, name in qol["questionnaires"]] == ["Baseline", "Visit 1 (week 8)"]
    ql2 = next(r for r in qol["rows"] if r["code"] == "QL2")
    # QL2: baseline answers 5 -> 66.67; visit 1 answers 3 -> 33.33
    assert ql2["cells"][1]["change"] == pytest.approx(-100 / 3)
    assert ql2["cells"][0]["change"] == 0


def test_refusals(patient, coordinator):
    def record(**changes):
        data = {"visit": "visit-1", "completed_on": days_ago(10), "answers": answers()}
        return services.questionnaire_record(patient=patient, by=coordinator, **{**data, **changes})

    with pytest.raises(DomainError) as refused:
        record(answers={**answers(), "3": 5, "30": 8})
    assert refused.value.field_errors["answers"] == [
        "Item 3: answer 1 to 4, or leave it blank (5 given)",
        "Item 30: answer 1 to 7, or leave it blank (8 given)",
    ]
    with pytest.raises(DomainError) as refused:
        record(visit="week-8")
    assert "not a visit" in refused.value.field_errors["visit"][0]
    with pytest.raises(DomainError) as refused:
        record(visit="visit-99999999999999")  # once an overflow, a 500
    assert "not a visit" in refused.value.field_errors["visit"][0]
    with pytest.raises(DomainError) as refused:
        record(visit="end-of-treatment")
    assert "end of treatment first" in refused.value.field_errors["completed_on"][0]
    with pytest.raises(DomainError) as refused:
        record(completed_on=days_ago(75))
    assert "follow randomization" in refused.value.field_errors["completed_on"][0]
    record()
    with pytest.raises(DomainError) as refused:
        record()
    assert "already recorded" in refused.value.field_errors["visit"][0]


def test_baseline_is_completed_on_or_before_randomization(patient, coordinator, start_regorafenib):
    """The baseline of time to deterioration is the last questionnaire on or before
    randomization (spec quality-of-life.md): a "baseline" after it is refused at entry, so that
    time to deterioration never censors at day 0 for want of one."""
    start_regorafenib(patient, days_ago(65))
    with pytest.raises(DomainError) as refused:
        services.questionnaire_record(
            patient=patient,
            by=coordinator,
            visit="baseline",
            completed_on=days_ago(69),
            answers=answers(),
        )
    assert "on or before randomization" in refused.value.field_errors["completed_on"][0]
    baseline = services.questionnaire_record(
        patient=patient,
        by=coordinator,
        visit="baseline",
        completed_on=days_ago(71),
        answers=answers(),
    )
    assert baseline.visit == "baseline"


def test_correction_needs_a_reason_and_rescores(patient, coordinator):
    q = services.questionnaire_record(
        patient=patient,
        by=coordinator,
        visit="baseline",
        completed_on=days_ago(72),
        answers=answers(),
    )
    with pytest.raises(DomainError):
        services.questionnaire_correct(questionnaire=q, by=coordinator, reason="", answers={})
    fixed = services.questionnaire_correct(
        questionnaire=q, by=coordinator, reason="Item 29 misread", answers=answers(seven=7)
    )
    assert fixed.scores["QL2"] == 100
    assert history_of(fixed)[0]["reason"] == "Item 29 misread"


def test_through_the_api(api_as, patient, coordinator, statistician, make_user):
    api = api_as(coordinator)
    body = {
        "study_id": patient.study_id,
        "visit": "baseline",
        "completed_on": str(days_ago(72)),
        "answers": {"1": 2, "2": 2, "3": 2, "29": 6},
    }
    created = api.post("/api/quality-of-life/questionnaires/", body, format="json")
    assert created.status_code == 201, created.json()
    scores = created.json()["scores"]
    assert scores["PF2"] == pytest.approx(200 / 3) and scores["SUM"] is None
    assert scores["QL2"] == pytest.approx(100 * 5 / 6)
    bad = api.post(
        "/api/quality-of-life/questionnaires/",
        {**body, "visit": "visit-1", "answers": {"1": "a lot"}},
        format="json",
    )
    assert bad.status_code == 400 and "Item 1" in bad.json()["answers"][0]
    preview = api.post(
        "/api/quality-of-life/questionnaires/score/", {"answers": {"29": 7, "30": 7}}, format="json"
    )
    assert preview.status_code == 200 and preview.json()["QL2"] == 100
    url = f"/api/quality-of-life/questionnaires/{created.json()['id']}/"
    assert api.patch(url, {"answers": {}}, format="json").status_code == 400
    listed = api_as(statistician).get(
        f"/api/quality-of-life/questionnaires/?study_id={patient.study_id}"
    )
    assert listed.status_code == 200
    assert listed.json()["results"][0]["change_from_baseline"]["QL2"] == 0
    for role in ("radiologist", "adjudicator"):
        blinded = api_as(make_user(role, username=f"b-{role}"))
        assert blinded.get("/api/quality-of-life/questionnaires/").status_code == 403


def test_a_questionnaire_with_every_item_blank_is_refused(api_as, patient, coordinator):
    """The scoring manual scores no scale without answers: a questionnaire not done is not
    recorded as one scored 'missing' everywhere (page, API, and a correction to all blank)."""
    blank = answers(blank=range(1, 31))
    with pytest.raises(DomainError) as refused:
        services.questionnaire_record(
            patient=patient,
            by=coordinator,
            visit="baseline",
            completed_on=days_ago(70),
            answers=blank,
        )
    assert "Every item is blank" in refused.value.field_errors["answers"][0]
    api = api_as(coordinator)
    body = {"study_id": patient.study_id, "visit": "baseline", "completed_on": str(days_ago(70))}
    response = api.post(
        "/api/quality-of-life/questionnaires/", {**body, "answers": {}}, format="json"
    )
    assert response.status_code == 400 and "Every item is blank" in str(response.json())
    saved = services.questionnaire_record(
        patient=patient,
        by=coordinator,
        visit="baseline",
        completed_on=days_ago(70),
        answers=answers(blank=range(2, 31)),
    )
    with pytest.raises(DomainError) as refused:
        services.questionnaire_correct(
            questionnaire=saved, by=coordinator, reason="Wrong patient's sheet", answers=blank
        )
    assert "Every item is blank" in refused.value.field_errors["answers"][0]
