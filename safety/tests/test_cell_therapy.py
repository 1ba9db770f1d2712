"""CRS and ICANS recorded as adverse events with their ASTCT grade; SAE narrative, expectedness
and SUSAR with its expedited-report clock (services, pages, API, permissions)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inkt_trial.audit import history_of
from inkt_trial.errors import DomainError
from safety import crs, selectors, services, susar
from safety.models import CtcaeTerm

pytestmark = pytest.mark.django_db

ONE_VASOPRESSOR = {"max_temperature_c": 39.2, "hypotension": "one_vasopressor", "oxygen": "none"}
ICANS_GRADE_2 = {
    "ice_orientation": 3,
    "ice_naming": 2,
    "ice_commands": 1,
    "ice_writing": 0,
    "ice_attention": 0,
    "consciousness": "normal",
    "seizure": "none",
    "motor": "none",
    "icp": "none",
}


def term(name):
    return CtcaeTerm.objects.get(term=name)


def days_ago(n):
    return timezone.localdate() - timedelta(days=n)


@pytest.fixture
def rpi(randomized):
    return randomized("RPI", days_ago=20, consent_date=days_ago(30), screening_date=days_ago(29))


@pytest.fixture
def rp(randomized):
    return randomized("RP", days_ago=20, consent_date=days_ago(30), screening_date=days_ago(29))


def record_crs(patient, by, **changes):
    data = {
        "term": term(crs.CRS_TERM),
        "onset": days_ago(3),
        "astct_inputs": ONE_VASOPRESSOR,
        **changes,
    }
    return services.ae_record(patient=patient, by=by, **data)


def test_crs_takes_the_astct_grade_of_its_inputs(rpi, coordinator):
    event = record_crs(rpi, coordinator)
    assert (event.grade, event.astct_grade) == (3, 3)
    assert record_crs(rpi, coordinator, grade=3).grade == 3  # the same grade typed: accepted


def test_a_different_grade_typed_is_refused_never_changed(rpi, coordinator):
    with pytest.raises(DomainError) as refused:
        record_crs(rpi, coordinator, grade=2)
    assert "ASTCT CRS grade of these inputs is 3, not 2" in refused.value.field_errors["grade"][0]


def test_crs_without_fever_or_inputs_is_refused_by_field(rpi, coordinator):
    with pytest.raises(DomainError) as refused:
        record_crs(rpi, coordinator, astct_inputs={"max_temperature_c": 37.2})
    assert "astct_max_temperature_c" in refused.value.field_errors
    with pytest.raises(DomainError) as refused:
        record_crs(rpi, coordinator, astct_inputs={})
    assert "astct_max_temperature_c" in refused.value.field_errors
    with pytest.raises(DomainError):
        record_crs(rpi, coordinator, astct_inputs=["hot"])


def test_astct_inputs_only_for_crs_or_icans(rpi, coordinator):
    with pytest.raises(DomainError) as refused:
        services.ae_record(
            patient=rpi,
            by=coordinator,
            term=term("Fatigue"),
            grade=1,
            onset=days_ago(3),
            astct_inputs=ONE_VASOPRESSOR,
        )
    assert "astct_inputs" in refused.value.field_errors


def test_icans_under_the_nervous_system_other_term_named_in_the_specification(rpi, coordinator):
    event = services.ae_record(
        patient=rpi,
        by=coordinator,
        term=term(crs.ICANS_TERM),
        specification=crs.ICANS_SPECIFICATION,
        onset=days_ago(2),
        astct_inputs=ICANS_GRADE_2,
    )
    assert (event.grade, event.astct_grade) == (2, 2)  # ICE 6


def test_a_fatal_crs_is_grade_5(rpi, coordinator):
    event = record_crs(
        rpi,
        coordinator,
        grade=5,
        outcome="fatal",
        death_date=days_ago(1),
        serious_criteria=["death"],
        awareness_at=timezone.now() - timedelta(days=1),
        astct_inputs={"max_temperature_c": 40.1, "hypotension": "multiple_vasopressors"},
    )
    assert (event.grade, event.astct_grade) == (5, 4)


def test_correcting_the_inputs_recomputes_the_grade_with_a_reason_in_the_audit(rpi, coordinator):
    event = record_crs(rpi, coordinator)
    with pytest.raises(DomainError):  # the old grade kept with new inputs: refused
        services.ae_correct(
            event=event,
            by=coordinator,
            reason="Second vasopressor started",
            grade=3,
            astct_inputs={**ONE_VASOPRESSOR, "hypotension": "multiple_vasopressors"},
        )
    with pytest.raises(DomainError):  # no reason
        services.ae_correct(
            event=event,
            by=coordinator,
            reason="",
            astct_inputs={**ONE_VASOPRESSOR, "hypotension": "multiple_vasopressors"},
        )
    event = services.ae_correct(
        event=event,
        by=coordinator,
        reason="Second vasopressor started",
        astct_inputs={**ONE_VASOPRESSOR, "hypotension": "multiple_vasopressors"},
    )
    assert (event.grade, event.astct_grade) == (4, 4)
    latest = history_of(event)[0]
    assert latest["reason"] == "Second vasopressor started"
    changed = {c["field"] for c in latest["changes"]}
    assert {"grade", "ASTCT inputs", "ASTCT grade"} <= changed


def serious_pneumonitis(patient, by, **changes):
    data = {
        "term": term("Pneumonitis"),
        "grade": 3,
        "onset": days_ago(5),
        "serious_criteria": ["hospitalization"],
        "awareness_at": timezone.now() - timedelta(days=4),
        **changes,
    }
    return services.ae_record(patient=patient, by=by, **data)


def test_susar_follows_the_investigators_causality_and_expectedness(rp, coordinator, investigator):
    event = serious_pneumonitis(rp, coordinator)
    assert event.susar_status == susar.PENDING
    assert services.proposed_expectedness(event) == {
        "pd1": "expected",  # immune-mediated pneumonitis is in the PD-1 labels
        "regorafenib": "unexpected",
    }
    event = services.ae_assess_causality(
        event=event,
        by=investigator,
        relationship_pd1="probable",
        expectedness_pd1="expected",
        relationship_regorafenib="unlikely",
    )
    assert event.susar_status == susar.EXPECTED and event.susar_clock is None
    event = services.ae_assess_causality(
        event=event,
        by=investigator,
        relationship_regorafenib="possible",
        expectedness_regorafenib="unexpected",
    )
    assert event.is_susar
    clock = event.susar_clock
    assert clock.due == timezone.localdate(event.awareness_at) + timedelta(days=15)
    assert not clock.overdue and clock.follow_up_due is None


def test_the_expedited_report_needs_the_narrative_and_is_late_after_7_days_if_fatal(
    rp, coordinator, investigator
):
    event = serious_pneumonitis(
        rp,
        coordinator,
        serious_criteria=["life_threatening"],
        awareness_at=timezone.now() - timedelta(days=9),
        onset=days_ago(10),
    )
    event = services.ae_assess_causality(
        event=event,
        by=investigator,
        relationship_pd1="not_related",
        relationship_regorafenib="definite",
        expectedness_regorafenib="unexpected",
    )
    clock = event.susar_clock
    assert clock.overdue and clock.due == timezone.localdate(event.awareness_at) + timedelta(7)
    assert [r.event for r in selectors.overdue_susars(coordinator)] == [event.pk]
    with pytest.raises(DomainError) as refused:
        services.ae_correct(
            event=event, by=coordinator, reason="Reported", susar_report_at=timezone.now()
        )
    assert "narrative" in refused.value.field_errors
    event = services.ae_correct(
        event=event,
        by=coordinator,
        reason="Reported",
        narrative="Dyspnoea on day 10, CT: pneumonitis; steroids; ICU.",
        susar_report_at=timezone.now(),
    )
    assert event.susar_clock.overdue  # sent, but late


def test_expectedness_of_a_drug_not_given_stays_not_applicable(rp, coordinator, investigator):
    event = serious_pneumonitis(rp, coordinator)
    assert event.expectedness_inkt == "not_applicable"
    with pytest.raises(DomainError) as refused:
        services.ae_assess_causality(event=event, by=investigator, expectedness_inkt="expected")
    assert "expectedness_inkt" in refused.value.field_errors


def test_report_dates_only_for_a_susar(rp, coordinator):
    with pytest.raises(DomainError) as refused:
        serious_pneumonitis(rp, coordinator, susar_report_at=timezone.now())
    assert "susar_report_at" in refused.value.field_errors


# Pages


def test_the_ae_form_shows_the_astct_inputs_for_crs_and_saves_grade_3(client_as, rpi, coordinator):
    client = client_as(coordinator)
    url = f"/patients/{rpi.study_id}/adverse-events/new/"
    code = term(crs.CRS_TERM).meddra_code
    body = {
        "meddra_code": code,
        "onset": str(days_ago(1)),
        "outcome": "not_recovered",
        "action_inkt": "none",
        "action_pd1": "none",
        "action_regorafenib": "none",
        "astct_max_temperature_c": "39.0",
        "astct_hypotension": "one_vasopressor",
        "astct_oxygen": "low_flow",
    }
    refused = client.post(url, {**body, "grade": 2}).content.decode()
    assert "ASTCT CRS grade of these inputs is 3, not 2" in refused
    assert 'id="astct-crs"' in refused and 'id="astct-crs" class' not in refused
    saved = client.post(url, body)
    assert saved.status_code == 302
    page = client.get(saved.url).content.decode()
    assert "Cytokine release syndrome grade 3" in page
    event = rpi.adverse_events.get()
    detail = client.get(f"/adverse-events/{event.pk}/").content.decode()
    assert "CRS grade 3 (ASTCT consensus" in detail
    assert "Requiring one vasopressor" in detail
    edit = client.get(f"/adverse-events/{event.pk}/edit/").content.decode()
    assert 'value="one_vasopressor" selected' in edit


def test_the_causality_page_proposes_expectedness(client_as, rp, coordinator, investigator):
    event = serious_pneumonitis(rp, coordinator)
    client = client_as(investigator)
    form = client.get(f"/adverse-events/{event.pk}/causality/").content.decode()
    assert "proposed expected" in form and "proposed unexpected" in form
    done = client.post(
        f"/adverse-events/{event.pk}/causality/",
        {
            "relationship_pd1": "not_related",
            "relationship_regorafenib": "probable",
            "expectedness_regorafenib": "unexpected",
        },
    )
    assert done.status_code == 302
    detail = client.get(f"/adverse-events/{event.pk}/").content.decode()
    assert 'id="susar-clock"' in detail and "expedited report due" in detail
    panel = client.get(f"/patients/{rp.study_id}/").content.decode()
    assert "SUSAR" in panel


# API and permissions


def test_the_api_computes_the_grade_and_exposes_the_susar_clock(
    api_as, rp, rpi, coordinator, investigator
):
    api = api_as(coordinator)
    body = {
        "study_id": rpi.study_id,
        "meddra_code": term(crs.CRS_TERM).meddra_code,
        "onset": str(days_ago(2)),
        "astct_inputs": ONE_VASOPRESSOR,
    }
    created = api.post("/api/safety/adverse-events/", body, format="json")
    assert created.status_code == 201, created.json()
    assert (created.json()["grade"], created.json()["astct_grade"]) == (3, 3)
    refused = api.post("/api/safety/adverse-events/", {**body, "grade": 1}, format="json")
    assert refused.status_code == 400 and "grade" in str(refused.json())
    odd = api.post("/api/safety/adverse-events/", {**body, "astct_inputs": "x"}, format="json")
    assert odd.status_code == 400
    event = serious_pneumonitis(rp, coordinator)
    url = f"/api/safety/adverse-events/{event.pk}/"
    assessed = api_as(investigator).post(
        f"{url}causality/",
        {"relationship_pd1": "probable", "expectedness_pd1": "unexpected"},
        format="json",
    )
    assert assessed.status_code == 200, assessed.json()
    read = api.get(url).json()
    assert read["susar"] and read["susar_status"] == "susar"
    assert read["susar_due"] == str(timezone.localdate(event.awareness_at) + timedelta(15))
    assert read["susar_overdue"] is False
    listed = api.get("/api/safety/adverse-events/", {"susar_status": "susar"}).json()
    assert [e["id"] for e in listed["results"]] == [event.pk]


def test_the_susar_listing_masks_drugs_and_terms_for_the_masked_statistician(
    api_as, client_as, rp, coordinator, investigator, statistician, make_user
):
    event = serious_pneumonitis(rp, coordinator)
    services.ae_assess_causality(
        event=event,
        by=investigator,
        relationship_pd1="possible",
        expectedness_pd1="unexpected",
        relationship_regorafenib="not_related",
    )
    unmasked = api_as(coordinator).get("/api/safety/susars/").json()
    assert unmasked[0]["suspected"] == ["pd1"] and unmasked[0]["term"] == "Pneumonitis"
    assert unmasked[0]["arm"] == "RP"
    masked = api_as(statistician).get("/api/safety/susars/")
    assert masked.status_code == 200
    row = masked.json()[0]
    assert row["suspected"] == [] and "Pneumonitis" not in row["term"]
    assert row["arm"] in ("A", "B") and row["due"] == unmasked[0]["due"]
    page = client_as(statistician).get("/safety/tables/").content.decode()
    assert 'id="susar-list"' in page and "Pneumonitis" not in page and "pd1" not in page
    assert api_as(statistician).get(f"/api/safety/adverse-events/{event.pk}/").status_code == 403
    for role in ("radiologist", "adjudicator"):
        blinded = make_user(role, username=f"b-{role}")
        assert api_as(blinded).get("/api/safety/susars/").status_code == 403
    monitor = make_user("monitor", username="cra")
    assert api_as(monitor).get("/api/safety/susars/").status_code == 200


def test_a_reported_susar_may_be_downgraded_and_keeps_its_report_date(
    rp, coordinator, investigator
):
    event = serious_pneumonitis(rp, coordinator)
    event = services.ae_assess_causality(
        event=event,
        by=investigator,
        relationship_pd1="possible",
        expectedness_pd1="unexpected",
        relationship_regorafenib="not_related",
    )
    event = services.ae_correct(
        event=event,
        by=coordinator,
        reason="Reported",
        narrative="Pneumonitis on day 15.",
        susar_report_at=timezone.now(),
    )
    event = services.ae_assess_causality(
        event=event, by=investigator, relationship_pd1="unlikely", reason="Viral PCR positive"
    )
    assert event.susar_status == susar.NOT_SUSPECTED and event.susar_report_at is not None


def test_the_migration_derives_the_status_of_events_recorded_before(rp, coordinator):
    import importlib

    from django.apps import apps

    from safety.models import AdverseEvent

    migration = importlib.import_module("safety.migrations.0012_crs_icans_susar")
    event = serious_pneumonitis(rp, coordinator)
    AdverseEvent._base_manager.filter(pk=event.pk).update(  # as the new columns' defaults left it
        susar_status=susar.NOT_SERIOUS, expectedness_inkt="not_assessed"
    )
    migration.move_to_derived_susar_status(apps, None)
    event.refresh_from_db()
    assert (event.susar_status, event.expectedness_inkt) == (susar.PENDING, "not_applicable")
