"""The protocol deviation log: deviations derived from the records (datamanagement/deviations.py)
and recorded by hand, classified major/minor, reviewed with their corrective action; the
patient's listing and the ethics committee's, pages, CSVs and the API. Recorded by the
coordinator or the data manager, classified by the data manager or an investigator, read by the
monitor; never by the statistician (an iNKT course's deviation reveals the arm) nor the blinded
readers."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts import roles
from datamanagement import deviation_selectors, deviation_services, selectors, services
from datamanagement.models import DataQuery, DeviationReview, ProtocolDeviation
from dosing import services as dosing
from dosing.fixtures import released_bag
from enrollment import services as enrollment
from inkt_trial.audit import history_of
from inkt_trial.errors import DomainError

pytestmark = pytest.mark.django_db


def days_ago(n):
    return timezone.localdate() - timedelta(days=n)


def at(day, hour=10):
    return timezone.make_aware(timezone.datetime.combine(day, timezone.datetime.min.time())) + (
        timedelta(hours=hour)
    )


@pytest.fixture
def monitor(make_user):
    return make_user(roles.MONITOR, "monitor")


@pytest.fixture
def patient(randomized):
    """An RPI patient randomized 40 days ago, consented 10 days before."""
    return randomized(
        "RPI",
        days_ago=40,
        consent_date=days_ago(50),
        screening_date=days_ago(49),
        prior_progression_date=days_ago(60),
    )


def course(patient, by, day, **extra):
    return dosing.infusion_record(
        patient=patient,
        by=by,
        infused_at=at(day),
        weight_kg=Decimal(70),
        target_cells_per_m2=5 * 10**8,
        cells_infused=9 * 10**8,
        **released_bag(patient=patient, by=by, infused_at=at(day)),
        **extra,
    )


@pytest.fixture
def late_course(patient, coordinator):
    """Course 1 planned 39 days ago, given 6 days late (window ± 3 days)."""
    dosing.schedule_create(
        patient=patient,
        by=coordinator,
        first_planned_date=days_ago(39),
        target_cells_per_m2=5 * 10**8,
    )
    return course(patient, coordinator, days_ago(33), deviation_reason="Bed availability")


def record(patient, by, **changes):
    values = {
        "occurred_on": days_ago(5),
        "identified_on": days_ago(2),
        "category": "procedure",
        "description": "Blood sample drawn 3 days out of window",
        "classification": "minor",
        **changes,
    }
    return deviation_services.deviation_record(patient=patient, by=by, **values)


def keys(patient):
    return {e.key: e for e in deviation_selectors.log(type(patient).objects.filter(pk=patient.pk))}


# Recorded by hand ------------------------------------------------------------------------------


def test_a_deviation_recorded_by_hand_is_numbered_audited_and_never_deleted(
    patient, coordinator, data_manager
):
    first = record(patient, coordinator)
    second = record(patient, data_manager, classification="major", category="consent")
    assert (first.number, second.number) == ("DV-0001", "DV-0002")
    # a coordinator proposes the classification; a data manager's is theirs
    assert first.classified_by is None and second.classified_by == data_manager
    assert [row["reason"] for row in history_of(first)] == ["Recorded"]
    with pytest.raises(DomainError, match="never deleted"):
        first.delete()
    entry = keys(patient)["DV-0001"]
    assert (entry.source, entry.classification, entry.confirmed) == ("recorded", "minor", False)


def test_recording_is_refused_to_other_roles_and_checked(
    patient, coordinator, investigator, monitor
):
    for who in (investigator, monitor):
        with pytest.raises(DomainError, match="Only the coordinator or the data manager"):
            record(patient, who)
    with pytest.raises(DomainError) as refused:
        record(patient, coordinator, identified_on=days_ago(6), status="closed")
    assert refused.value.field_errors == {
        "identified_on": ["Cannot be before the deviation."],
        "corrective_action": ["A deviation is closed once its corrective action is."],
    }
    with pytest.raises(DomainError) as refused:
        record(patient, coordinator, weather="rainy")
    assert "weather" in refused.value.field_errors
    assert not ProtocolDeviation.objects.exists()


def test_a_correction_needs_its_reason_and_only_a_classifier_changes_the_class(
    patient, coordinator, data_manager
):
    deviation = record(patient, coordinator)
    with pytest.raises(DomainError, match="reason"):
        deviation_services.deviation_correct(
            deviation=deviation, by=coordinator, reason="", corrective_action="Retrained"
        )
    with pytest.raises(DomainError) as refused:
        deviation_services.deviation_correct(
            deviation=deviation, by=coordinator, reason="Worse", classification="major"
        )
    assert "classification" in refused.value.field_errors
    deviation_services.deviation_correct(
        deviation=deviation,
        by=coordinator,
        reason="Action taken",
        corrective_action="Phlebotomist retrained",
        status="closed",
    )
    corrected = deviation_services.deviation_correct(
        deviation=deviation, by=data_manager, reason="Affects a safety lab", classification="major"
    )
    assert (corrected.classification, corrected.classified_by) == ("major", data_manager)
    reasons = [row["reason"] for row in history_of(corrected)]
    assert reasons == ["Affects a safety lab", "Action taken", "Recorded"]


def test_a_review_confirms_a_coordinators_classification(patient, coordinator, investigator):
    deviation = record(patient, coordinator)
    with pytest.raises(DomainError, match="Only the data manager or an investigator"):
        deviation_services.deviation_review(
            key=deviation.number, by=coordinator, classification="minor"
        )
    entry = deviation_services.deviation_review(
        key=deviation.number, by=investigator, classification="minor"
    )
    assert entry.confirmed and entry.classification == "minor"
    deviation.refresh_from_db()
    assert deviation.classified_by == investigator
    assert history_of(deviation)[0]["reason"] == "Reviewed: classification confirmed"
    # filling the corrective action is the review's step; changing it is a correction
    deviation_services.deviation_review(
        key=deviation.number, by=investigator, classification="minor", corrective_action="Retrained"
    )
    with pytest.raises(DomainError, match="Give the reason for changing the corrective action"):
        deviation_services.deviation_review(
            key=deviation.number,
            by=investigator,
            classification="minor",
            corrective_action="Changed now",
        )
    deviation.refresh_from_db()
    assert deviation.corrective_action == "Retrained"


# Derived from the records ----------------------------------------------------------------------


def test_a_late_course_is_derived_reviewed_and_stays_once_corrected(
    patient, late_course, coordinator, data_manager, investigator
):
    key = f"inkt-window:{patient.study_id}:course-1"
    entry = keys(patient)[key]
    assert (entry.classification, entry.status, entry.occurred_on) == (
        "minor",
        "not reviewed",
        days_ago(33),
    )
    assert "6 days after its planned date" in entry.description
    assert "(Bed availability)" in entry.description
    # classified otherwise than its rule: with the reason
    with pytest.raises(DomainError, match="changing the classification \\(minor to major\\)"):
        deviation_services.deviation_review(key=key, by=data_manager, classification="major")
    reviewed = deviation_services.deviation_review(
        key=key,
        by=data_manager,
        classification="minor",
        corrective_action="Infusion slots booked a week ahead",
    )
    assert reviewed.confirmed and reviewed.follow.corrective_action.startswith("Infusion slots")
    deviation_services.deviation_review(  # closing: the review's own step
        key=key,
        by=investigator,
        classification="minor",
        corrective_action="Infusion slots booked a week ahead",
        status="closed",
    )
    with pytest.raises(DomainError, match="changing the status \\(reopened\\)"):
        deviation_services.deviation_review(
            key=key,
            by=data_manager,
            classification="minor",
            corrective_action="Infusion slots booked a week ahead",
        )
    review = DeviationReview.objects.get(key=key)
    assert [row["reason"] for row in history_of(review)] == [
        "Reviewed: closed",
        "Reviewed: classification confirmed; corrective action recorded",
    ]
    # the course's date was mistyped: corrected, the records no longer show the deviation
    dosing.infusion_correct(
        infusion=late_course,
        by=coordinator,
        reason="Date from the infusion chart",
        infused_at=at(days_ago(39)),
    )
    entry = keys(patient)[key]
    assert not entry.shown and entry.status == "closed"
    assert entry.status_text == "Closed; no longer shown by the records"
    assert "6 days after" in entry.description  # as it was reviewed


def test_the_day_each_record_was_entered_is_its_first_version_read_in_one_query(
    patient, late_course
):
    """The deviations' identified dates: each record's first version in the audit trail, for
    the records of every model in one query (a model without records reads nothing)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from assessments.models import Scan
    from dosing.models import Infusion
    from enrollment.models import Screening

    late_course.history.filter(history_type="+").update(history_date=at(days_ago(5)))
    Screening.history.filter(id=patient.screening_id, history_type="+").update(
        history_date=at(days_ago(9))
    )
    asked = {Infusion: [late_course.pk], Screening: [patient.screening_id], Scan: []}
    with CaptureQueriesContext(connection) as captured:
        found = deviation_selectors._entered(asked)
    assert len(captured) == 1
    assert found == {
        Infusion: {late_course.pk: days_ago(5)},
        Screening: {patient.screening_id: days_ago(9)},
        Scan: {},
    }


def test_a_derived_deviation_nobody_reviewed_disappears_once_corrected(
    patient, late_course, coordinator, data_manager
):
    key = f"inkt-window:{patient.study_id}:course-1"
    assert key in keys(patient)
    dosing.infusion_correct(
        infusion=late_course, by=coordinator, reason="Chart", infused_at=at(days_ago(39))
    )
    assert key not in keys(patient)
    with pytest.raises(DomainError, match="No deviation"):
        deviation_services.deviation_review(key=key, by=data_manager, classification="minor")
    assert not DeviationReview.objects.exists()


def test_a_consent_dated_after_randomization_is_a_major_deviation(
    patient, coordinator, investigator
):
    screening = enrollment.screening_reopen(
        screening=patient.screening, by=investigator, reason="Consent form dated later"
    )
    enrollment.screening_update(
        screening=screening,
        values={"consent_date": days_ago(35), "screening_date": days_ago(35)},
        by=coordinator,
        reason="Date on the signed consent form",
    )
    entry = keys(patient)[f"consent:{patient.study_id}:randomization"]
    assert (entry.classification, entry.category, entry.occurred_on) == (
        "major",
        "consent",
        days_ago(40),
    )
    assert entry.identified_on == timezone.localdate()  # when the consent date was corrected


def test_the_recorded_deviation_is_queryable_and_verified_like_any_record(
    patient, coordinator, data_manager, monitor
):
    deviation = record(patient, coordinator)
    query = services.query_raise(
        record=deviation, field="occurred_on", question="Date per the lab slip?", by=data_manager
    )
    services.query_answer(
        query=query, by=coordinator, answer="Drawn a day later", value=days_ago(4), correct=True
    )
    deviation.refresh_from_db()
    assert deviation.occurred_on == days_ago(4)
    assert history_of(deviation)[0]["reason"] == f"Query {query.number}: Drawn a day later"
    services.source_verify(record=deviation, by=monitor)
    cell = selectors.sdv_progress([patient.pk])["patients"][patient.pk]
    assert cell["protocol deviation"] == {"records": 1, "verified": 1}
    assert DataQuery.objects.filter(patient=patient).count() == 1


# Pages, CSVs and the API ---------------------------------------------------------------------


@pytest.fixture
def log_world(patient, late_course, coordinator, data_manager):
    """A minor derived deviation (the late course), a major one recorded by hand and reported
    to the ethics committee, a minor one recorded by hand."""
    major = record(
        patient,
        data_manager,
        category="consent",
        classification="major",
        description="Outdated consent form version signed",
        corrective_action="Re-consented on the current version",
        reported_to_ec_on=days_ago(1),
    )
    minor = record(patient, coordinator, occurred_on=days_ago(20), identified_on=days_ago(20))
    return {"major": major, "minor": minor, "course": f"inkt-window:{patient.study_id}:course-1"}


def rows_of(response):
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_the_log_page_filters_and_its_csv_holds_the_same_rows(log_world, client_as, monitor):
    browser = client_as(monitor)
    page = browser.get("/deviations/").content.decode()
    for key in (log_world["course"], "DV-0001", "DV-0002"):
        assert key in page
    majors = browser.get("/deviations/?classification=major").content.decode()
    assert "DV-0001" in majors and "DV-0002" not in majors and log_world["course"] not in majors
    rows = rows_of(browser.get("/deviations/?format=csv"))
    # the courses owed after the late one, nothing recorded for them, are deviations too
    rows = [r for r in rows if r["rule"] != "inkt-not-recorded"]
    assert [r["key"] for r in rows] == [log_world["course"], "DV-0002", "DV-0001"]  # by date
    course = rows[0]
    assert (course["source"], course["rule"], course["classification"]) == (
        "derived",
        "inkt-window",
        "minor",
    )
    assert (course["status"], course["classification_confirmed"]) == ("Not reviewed", "no")
    assert rows[2]["reported_to_ethics_committee"] == days_ago(1).isoformat()
    only_inkt = rows_of(browser.get("/deviations/?format=csv&category=inkt"))
    assert {r["rule"] for r in only_inkt} == {"inkt-window", "inkt-not-recorded"}
    assert only_inkt[0]["key"] == log_world["course"]
    dated = rows_of(
        browser.get(f"/deviations/?format=csv&date_from={days_ago(21)}&date_to={days_ago(19)}")
    )
    assert [r["key"] for r in dated] == ["DV-0002"]
    refused = browser.get("/deviations/?date_from=yesterday").content.decode()
    assert "Enter a valid date" in refused and "DV-0001" not in refused
    # the list's first address still works, CSV included
    moved = browser.get("/outcomes/deviations/?format=csv")
    assert moved.status_code == 302 and moved["Location"] == "/deviations/?format=csv"


def test_the_ethics_committee_listing_holds_majors_and_counts_minors(log_world, client_as, monitor):
    browser = client_as(monitor)
    page = browser.get("/deviations/ethics-committee/").content.decode()
    assert "Outdated consent form version signed" in page and "Re-consented" in page
    assert "Blood sample" not in page  # a minor one: counted, not listed
    assert "RPI" not in page
    rows = rows_of(browser.get("/deviations/ethics-committee/?format=csv"))
    assert [(r["study_id"], r["category"], r["reported_to_ethics_committee"]) for r in rows] == [
        ("INKT-001", "Informed consent", days_ago(1).isoformat())
    ]
    earlier = rows_of(
        browser.get(f"/deviations/ethics-committee/?format=csv&date_to={days_ago(6)}")
    )
    assert earlier == []


def test_the_patient_page_lists_the_patients_deviations_for_who_may_see_them(
    log_world, patient, client_as, coordinator, monitor, statistician
):
    page = client_as(coordinator).get(f"/patients/{patient.study_id}/").content.decode()
    assert 'id="protocol-deviations"' in page and "Record a protocol deviation" in page
    assert log_world["course"] in page
    page = client_as(monitor).get(f"/patients/{patient.study_id}/").content.decode()
    assert 'id="protocol-deviations"' in page and "Record a protocol deviation" not in page
    page = client_as(statistician).get(f"/patients/{patient.study_id}/").content.decode()
    assert 'id="protocol-deviations"' not in page and "iNKT course" not in page
    for url in ("/deviations/", "/deviations/ethics-committee/", "/deviations/DV-0001/"):
        assert client_as(statistician).get(url).status_code == 403


def test_the_forms_record_correct_and_review(
    patient, late_course, client_as, coordinator, investigator
):
    browser = client_as(coordinator)
    form = {
        "occurred_on": days_ago(3),
        "identified_on": days_ago(1),
        "category": "procedure",
        "description": "ECG not done at visit",
        "classification": "minor",
        "status": "open",
    }
    saved = browser.post(f"/patients/{patient.study_id}/deviations/new/", form)
    assert saved.status_code == 302 and saved["Location"] == "/deviations/DV-0001/"
    refused = browser.post(
        f"/patients/{patient.study_id}/deviations/new/", {**form, "identified_on": days_ago(4)}
    )
    assert "Cannot be before the deviation." in refused.content.decode()
    page = browser.get("/deviations/DV-0001/").content.decode()
    assert "proposed by the recorder" in page and 'id="correct-deviation"' in page
    assert 'id="review-deviation"' not in page
    corrected = browser.post(
        "/deviations/DV-0001/correct/",
        {**form, "classification": "major", "corrective_action": "ECG done", "reason": "Done"},
    )
    assert corrected.status_code == 302
    deviation = ProtocolDeviation.objects.get(number="DV-0001")
    assert deviation.classification == "minor"  # not the coordinator's to change
    assert deviation.corrective_action == "ECG done"
    assert (
        browser.get(f"/deviations/inkt-window:{patient.study_id}:course-1/correct/").status_code
        == 404
    )

    reviewer = client_as(investigator)
    key = f"inkt-window:{patient.study_id}:course-1"
    page = reviewer.get(f"/deviations/{key}/").content.decode()
    assert "the rule's, not reviewed yet" in page and "(Bed availability)" in page
    refused = reviewer.post(
        f"/deviations/{key}/review/", {"classification": "major", "status": "open"}
    )
    assert "changing the classification (minor to major)" in refused.content.decode()
    reviewed = reviewer.post(
        f"/deviations/{key}/review/",
        {"classification": "major", "status": "open", "reason": "Third late course at this site"},
    )
    assert reviewed.status_code == 302
    page = reviewer.get(f"/deviations/{key}/").content.decode()
    assert "reviewed by investigator" in page
    review = DeviationReview.objects.get(key=key)
    assert reviewer.get(f"/deviations/reviews/{review.pk}/history/").status_code == 200
    assert reviewer.get("/deviations/inkt-window:INKT-999:course-1/").status_code == 404


def test_the_api_lists_records_corrects_and_reviews(
    log_world, patient, api_as, coordinator, data_manager, statistician, make_user
):
    api = api_as(coordinator)
    body = api.get("/api/deviations/", {"classification": "major"}).json()
    assert [e["key"] for e in body["results"]] == ["DV-0001"]
    assert body["results"][0]["reported_to_ethics_committee"] == days_ago(1).isoformat()
    odd = api.get("/api/deviations/", {"date_from": "soon", "category": "weather"})
    assert odd.status_code == 400 and {"date_from", "category"} <= set(odd.json())
    created = api.post(
        "/api/deviations/",
        {
            "study_id": patient.study_id,
            "occurred_on": str(days_ago(2)),
            "identified_on": str(days_ago(1)),
            "category": "concomitant",
            "description": "Took a herbal remedy the protocol excludes",
            "classification": "major",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert (created.json()["key"], created.json()["classification_confirmed"]) == ("DV-0003", False)
    no_reason = api.patch("/api/deviations/DV-0003/", {"status": "closed"}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    corrected = api.patch(
        "/api/deviations/DV-0003/",
        {"corrective_action": "Stopped the remedy", "status": "closed", "reason": "Followed up"},
        format="json",
    )
    assert corrected.status_code == 200 and corrected.json()["status"] == "closed"
    course = log_world["course"]
    assert (
        api.patch(f"/api/deviations/{course}/", {"reason": "x"}, format="json").status_code == 400
    )
    assert (
        api.post(f"/api/deviations/{course}/review/", {"classification": "minor"}).status_code
        == 403
    )
    dm = api_as(data_manager)
    reviewed = dm.post(
        f"/api/deviations/{course}/review/",
        {"classification": "minor", "corrective_action": "Slots booked ahead"},
        format="json",
    )
    assert reviewed.status_code == 200
    assert (reviewed.json()["status"], reviewed.json()["classification_confirmed"]) == (
        "open",
        True,
    )
    # the fields not given keep their values
    again = dm.post(
        f"/api/deviations/{course}/review/",
        {"classification": "minor", "status": "closed", "reason": "Done"},
        format="json",
    )
    assert again.json()["corrective_action"] == "Slots booked ahead"
    history = dm.get(f"/api/deviations/{course}/history/").json()
    assert [h["reason"] for h in history] == [
        "Done",
        "Reviewed: classification confirmed; corrective action recorded",
    ]
    assert dm.get("/api/deviations/inkt-window:INKT-999:course-9/").status_code == 404
    for role in (roles.STATISTICIAN, roles.RADIOLOGIST, roles.ADJUDICATOR):
        assert api_as(make_user(role, f"x-{role}")).get("/api/deviations/").status_code == 403
    schema = api_as(statistician).get("/api/schema/").content.decode()
    assert "/api/deviations/" not in schema


def test_free_text_in_a_csv_never_runs_as_a_formula():
    from inkt_trial.api import csv_response

    rows = [['=HYPERLINK("http://x")', "+cmd", "-2", "@SUM(A1)", "\tx", "plain", -2, 3.5]]
    body = csv_response(rows, list("abcdefgh"), "x.csv").content.decode().splitlines()[1]
    assert body == '"\'=HYPERLINK(""http://x"")",\'+cmd,\'-2,\'@SUM(A1),\'\tx,plain,-2,3.5'
