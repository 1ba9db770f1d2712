"""SAE follow-up reports, the infusion link and the safety tables against a hand count."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from dosing import services as dosing
from dosing.fixtures import released_bag
from inkt_trial.errors import DomainError
from safety import services
from safety.models import CtcaeTerm

pytestmark = pytest.mark.django_db


def term(name):
    return CtcaeTerm.objects.get(term=name)


def days_ago(n):
    return timezone.localdate() - timedelta(days=n)


def give_inkt(patient, by, days):
    dosing.schedule_create(
        patient=patient,
        by=by,
        first_planned_date=days_ago(days),
        target_cells_per_m2=5 * 10**8,
    )
    return dosing.infusion_record(
        patient=patient,
        by=by,
        infused_at=timezone.now() - timedelta(days=days),
        weight_kg=Decimal("64.0"),
        target_cells_per_m2=5 * 10**8,
        cells_infused=8 * 10**8,
        **released_bag(patient=patient, by=by, infused_at=timezone.now() - timedelta(days=days)),
    )


def ae(patient, by, name, grade, onset_days, **more):
    if more.get("serious_criteria"):
        more.setdefault("awareness_at", timezone.now() - timedelta(hours=1))
        more.setdefault("initial_report_at", timezone.now())
    return services.ae_record(
        patient=patient, by=by, term=term(name), grade=grade, onset=days_ago(onset_days), **more
    )


@pytest.fixture
def sae(randomized, coordinator, start_regorafenib):
    patient = randomized("RP", days_ago=20, consent_date=days_ago(30), screening_date=days_ago(29))
    start_regorafenib(patient, days_ago(15))
    return services.ae_record(
        patient=patient,
        by=coordinator,
        term=term("Anemia"),
        grade=3,
        onset=days_ago(5),
        serious_criteria=["hospitalization"],
        awareness_at=timezone.now() - timedelta(days=4),
    )


def test_follow_up_reports(sae, coordinator):
    report = {"kind": "follow_up", "information": "Transfused 2 units; discharged."}
    with pytest.raises(DomainError) as refused:
        services.sae_report_record(event=sae, by=coordinator, sent_at=timezone.now(), **report)
    assert "initial report first" in refused.value.field_errors["sent_at"][0]
    services.ae_correct(
        event=sae,
        by=coordinator,
        reason="Initial report sent",
        initial_report_at=timezone.now() - timedelta(days=3, hours=20),
    )
    first = services.sae_report_record(
        event=sae, by=coordinator, sent_at=timezone.now() - timedelta(days=1), **report
    )
    final = services.sae_report_record(
        event=sae,
        by=coordinator,
        sent_at=timezone.now(),
        kind="final",
        information="Recovered.",
    )
    assert list(sae.reports.all()) == [first, final]
    with pytest.raises(DomainError) as refused:
        services.sae_report_record(event=sae, by=coordinator, sent_at=timezone.now(), **report)
    assert "final report" in refused.value.field_errors["kind"][0]


def test_sae_clock_refusals(sae, coordinator):
    with pytest.raises(DomainError) as refused:
        services.ae_correct(
            event=sae,
            by=coordinator,
            reason="typo",
            initial_report_at=sae.awareness_at - timedelta(hours=1),
        )
    assert "precede" in refused.value.field_errors["initial_report_at"][0]
    with pytest.raises(DomainError) as refused:
        services.ae_correct(
            event=sae,
            by=coordinator,
            reason="typo",
            awareness_at=timezone.now() - timedelta(days=9),
        )
    assert "before the onset" in refused.value.field_errors["awareness_at"][0]


def test_reports_through_the_api(api_as, sae, coordinator, make_user):
    api = api_as(coordinator)
    body = {"event": sae.pk, "kind": "follow_up", "sent_at": timezone.now().isoformat()}
    refused = api.post("/api/safety/sae-reports/", {**body, "information": "x"}, format="json")
    assert refused.status_code == 400 and "sent_at" in refused.json()
    radiologist = api_as(make_user("radiologist", username="r"))
    assert radiologist.get("/api/safety/sae-reports/").status_code == 403


def test_infusion_reaction_linked_to_its_course(randomized, coordinator):
    patient = randomized("RPI", days_ago=20, consent_date=days_ago(30), screening_date=days_ago(29))
    infusion = give_inkt(patient, coordinator, 10)
    event = ae(patient, coordinator, "Infusion related reaction", 2, 10, infusion=infusion)
    assert event.infusion == infusion and list(infusion.adverse_events.all()) == [event]
    with pytest.raises(DomainError) as refused:
        ae(patient, coordinator, "Infusion related reaction", 2, 12, infusion=infusion)
    assert "began before this course" in refused.value.field_errors["infusion"][0]
    other = randomized("RPI", days_ago=20, consent_date=days_ago(30), screening_date=days_ago(29))
    with pytest.raises(DomainError) as refused:
        ae(other, coordinator, "Infusion related reaction", 2, 5, infusion=infusion)
    assert "another patient" in refused.value.field_errors["infusion"][0]


def test_safety_table_matches_a_hand_count(
    randomized, coordinator, api_as, statistician, start_regorafenib
):
    """Six patients; the expected figures below were counted by hand from the events."""
    consent = {"consent_date": days_ago(30), "screening_date": days_ago(29)}
    a, b, c = (randomized("RPI", days_ago=20, **consent) for _ in range(3))
    d, e = (randomized("RP", days_ago=20, **consent) for _ in range(2))
    f = randomized("RP", days_ago=20, **consent)  # never treated: not in the safety population
    for patient in (a, b, c, d, e):
        start_regorafenib(patient, days_ago(15))
    infusion_b = give_inkt(b, coordinator, 12)
    ae(a, coordinator, "Diarrhea", 1, 10)
    ae(a, coordinator, "Diarrhea", 3, 5, serious_criteria=["hospitalization"])
    ae(a, coordinator, "Nausea", 2, 8)
    ae(a, coordinator, "Nausea", 1, 18)  # before the first dose: not treatment-emergent
    ae(b, coordinator, "Diarrhea", 2, 10)
    ae(b, coordinator, "Infusion related reaction", 2, 12, infusion=infusion_b)
    ae(b, coordinator, "Infusion related reaction", 1, 11, infusion=infusion_b)
    ae(
        d,
        coordinator,
        "Anemia",
        5,
        6,
        serious_criteria=["death"],
        death_date=days_ago(2),
        outcome="fatal",
        action_regorafenib="withdrawn",
    )
    ae(d, coordinator, "Nausea", 1, 10)
    ae(e, coordinator, "Hypertension", 2, 10, action_regorafenib="withdrawn")
    ae(f, coordinator, "Nausea", 3, 10)

    api = api_as(coordinator)
    rows = api.get("/api/safety/tables/").json()
    by = {(r["section"], r["soc"], r["term"]): {x["arm"]: x for x in r["arms"]} for r in rows}
    summary = {
        term: {arm: (x["population"], x["patients"]) for arm, x in arms.items()}
        for (section, _, term), arms in by.items()
        if section == "summary"
    }
    assert summary == {
        "Any adverse event": {"RPI": (3, 2), "RP": (2, 2)},
        "Grade 3 or higher": {"RPI": (3, 1), "RP": (2, 1)},
        "Serious": {"RPI": (3, 1), "RP": (2, 1)},
        "Leading to discontinuation": {"RPI": (3, 0), "RP": (2, 2)},
        "Fatal (grade 5)": {"RPI": (3, 0), "RP": (2, 1)},
    }
    gi = "Gastrointestinal disorders"
    nausea = by[("by_term", gi, "Nausea")]
    assert (nausea["RPI"]["patients"], nausea["RPI"]["by_worst_grade"]["2"]) == (1, 1)
    assert (nausea["RPI"]["events"], nausea["RP"]["patients"]) == (1, 1)
    diarrhoea = by[("by_term", gi, "Diarrhea")]["RPI"]
    assert diarrhoea["patients"] == 2 and diarrhoea["by_worst_grade"] == {
        "1": 0,
        "2": 1,
        "3": 1,
        "4": 0,
        "5": 0,
    }
    irr = by[
        (
            "infusion_reactions",
            "Injury, poisoning and procedural complications",
            "Infusion related reaction",
        )
    ]
    assert (irr["RPI"]["patients"], irr["RPI"]["events"]) == (1, 2)

    csv_text = api.get("/api/safety/tables/csv/").content.decode()
    lines = list(csv.DictReader(io.StringIO(csv_text)))
    fatal = [r for r in lines if r["term"] == "Fatal (grade 5)" and r["arm"] == "RP"][0]
    assert (fatal["population"], fatal["patients"], fatal["percent"]) == ("2", "1", "50.0")

    masked = api_as(statistician).get("/api/safety/tables/").json()
    assert {x["arm"] for r in masked for x in r["arms"]} <= {"RPI", "RP", "A", "B"}
    assert all(r["section"] != "infusion_reactions" for r in masked)
    assert all("Infusion" not in r["term"] and "Injury" not in r["soc"] for r in masked)


def test_a_masked_statistician_s_tables_count_from_the_drugs_both_arms_receive(
    randomized, coordinator, api_as, statistician, start_regorafenib
):
    """An event after a first iNKT course but before the first regorafenib dose is
    treatment-emergent only for a reader who may see arms; a patient given iNKT cells and
    nothing else is in the safety population only for such a reader. Counted for a masked
    statistician, either would set the iNKT arm apart."""
    from outcomes.selectors import consort_flow, sdtm_records

    consent = {"consent_date": days_ago(30), "screening_date": days_ago(29)}
    early, only_inkt = (randomized("RPI", days_ago=20, **consent) for _ in range(2))
    control = randomized("RP", days_ago=20, **consent)
    give_inkt(early, coordinator, 15)
    give_inkt(only_inkt, coordinator, 14)
    for patient in (early, control):
        start_regorafenib(patient, days_ago(10))
    ae(early, coordinator, "Nausea", 1, 12)  # between the iNKT course and regorafenib

    def summary(user):
        rows = api_as(user).get("/api/safety/tables/").json()
        return {
            x["arm"]: (x["population"], x["patients"])
            for r in rows
            if r["section"] == "summary" and r["term"] == "Any adverse event"
            for x in r["arms"]
        }

    assert summary(coordinator) == {"RPI": (2, 1), "RP": (1, 0)}
    masked = summary(statistician)
    assert set(masked) <= {"A", "B"} and sorted(masked.values()) == [(1, 0), (1, 0)]
    events, _doses = sdtm_records(timezone.localdate())
    (nausea,) = [e for e in events if e.key == early.study_id]
    assert (nausea.emergent, nausea.shared_emergent) == (True, False)
    # the CONSORT flow's "received" counts as the safety population does, for either reader
    def received(user):
        return sorted(arm["received"] for _code, arm in consort_flow(user)["arms"])

    assert received(coordinator) == [1, 2]  # RP: control; RPI: early and only_inkt
    assert received(statistician) == [1, 1]  # early (A or B) and control, never only_inkt
