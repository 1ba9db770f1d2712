"""The DSMB report of an endpoint run, read back with an independent reader (pypdf): the run,
its cut-off and its data lock status on every page; the open session in masked arm codes
(no arm name anywhere, no iNKT exposure), the closed session with the arms named and only for
those who may see them; adverse event counts equal to the safety tables', CONSORT counts equal
to the CONSORT flow's; a run not done refused clearly."""

import io
import re
import socket
from datetime import date, timedelta

import pytest
from django.utils import timezone
from pypdf import PdfReader

from enrollment.dates import shown
from outcomes import dsmb
from outcomes.dsmb_selectors import OpenSessionReader, report
from outcomes.dsmb_views import dsmb_html, dsmb_pdf
from outcomes.models import EndpointRun
from outcomes.selectors import consort_flow
from randomization.protocol import ARMS
from safety import tables
from safety.models import CtcaeTerm
from safety.selectors import safety_table

pytestmark = pytest.mark.django_db

# what names an arm: its code (as a word), its name, the iNKT cells' exposure row
ARM_NAMES = (
    *(re.compile(rf"\b{arm}\b") for arm in ARMS),
    *(re.compile(re.escape(name)) for name in ARMS.values()),
    re.compile(re.escape(dsmb.DRUGS[dsmb.INKT])),
)


def names_an_arm(text: str) -> list[str]:
    return [pattern.pattern for pattern in ARM_NAMES if pattern.search(text)]


def pages_of(pdf: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def test_every_page_names_the_run_the_cut_off_and_the_lock(trial, trial_users, api_as, monkeypatch):
    response = api_as(trial_users["statistician"]).get(
        f"/api/outcomes/runs/{trial.pk}/dsmb/?session=open", HTTP_ACCEPT="application/pdf"
    )
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    pages = pages_of(response.content)
    assert len(pages) >= 6
    for number, text in enumerate(pages, start=1):
        assert f"Run {trial.pk} · data cut-off {shown(trial.cutoff)}" in text, number
        assert dsmb.lock_status(trial.data_lock) in text, number
        assert f"Page {number} of {len(pages)}" in text
        assert "Open session" in text
    # a run that read locked data says so on every page (its stored lock state)
    EndpointRun.objects.filter(pk=trial.pk).update(
        data_lock={"locked": True, "as_of": "2026-12-01T10:00:00+00:00", "locks": [7, 8]}
    )
    trial.refresh_from_db()
    # nothing is fetched while it is made: the plots are data URIs, the styles in the page
    html = dsmb_html(trial, session=dsmb.CLOSED, user=trial_users["datamanager"])
    for external in ("<link", "url(", "@import", "http://", "https://"):
        assert external not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    connections = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: connections.append(address))
    pages = pages_of(dsmb_pdf(trial, session=dsmb.CLOSED, user=trial_users["datamanager"]))
    assert connections == []
    for text in pages:
        assert f"Run {trial.pk} · data cut-off {shown(trial.cutoff)}" in text
        assert "Data locked (database lock 7, 8)" in text and "Closed session" in text


def test_the_open_session_names_no_arm_the_closed_one_does(trial, trial_users, api_as):
    statistician, manager = trial_users["statistician"], trial_users["datamanager"]
    opened = api_as(statistician).get(f"/api/outcomes/runs/{trial.pk}/dsmb/?session=open")
    text = " ".join(pages_of(opened.content))
    assert names_an_arm(text) == []
    for term in tables.INFUSION_TERMS:
        assert term not in text
    assert "A (randomized by the cut-off" in text and "B (randomized by the cut-off" in text
    # the source, too: nothing hidden in the page that the PDF would not show
    assert names_an_arm(dsmb_html(trial, session=dsmb.OPEN, user=statistician)) == []

    refused = api_as(statistician).get(f"/api/outcomes/runs/{trial.pk}/dsmb/?session=closed")
    assert refused.status_code == 403
    closed = api_as(manager).get(f"/api/outcomes/runs/{trial.pk}/dsmb/?session=closed")
    assert closed.status_code == 200
    text = " ".join(pages_of(closed.content))
    assert len(names_an_arm(text)) == len(ARM_NAMES) - 2  # the arms' full names are not used
    assert "Closed session" in text and "RPI (randomized by the cut-off" in text
    assert "RP (randomized by the cut-off" in text and "iNKT cells (courses given)" in text


def test_the_pages_serve_both_sessions_to_those_who_may_read_them(trial, trial_users, client):
    client.force_login(trial_users["statistician"])
    opened = client.get(f"/outcomes/runs/{trial.pk}/dsmb-open.pdf")
    assert opened.status_code == 200 and opened.content.startswith(b"%PDF-")
    assert client.get(f"/outcomes/runs/{trial.pk}/dsmb-closed.pdf").status_code == 403
    page = client.get(f"/outcomes/runs/{trial.pk}/").content.decode()
    assert "dsmb-open.pdf" in page and "dsmb-closed.pdf" not in page
    client.force_login(trial_users["datamanager"])
    closed = client.get(f"/outcomes/runs/{trial.pk}/dsmb-closed.pdf")
    assert closed.status_code == 200 and closed.content.startswith(b"%PDF-")
    assert "dsmb-closed.pdf" in client.get(f"/outcomes/runs/{trial.pk}/").content.decode()
    client.force_login(trial_users["coordinator"])
    assert client.get(f"/outcomes/runs/{trial.pk}/dsmb-open.pdf").status_code == 403


def test_adverse_events_and_consort_match_the_safety_tables_and_the_flow(trial, trial_users):
    for user, session in (
        (trial_users["statistician"], dsmb.OPEN),
        (trial_users["datamanager"], dsmb.CLOSED),
    ):
        shown_report = report(trial, session=session, user=user)
        reader = OpenSessionReader(user) if session == dsmb.OPEN else user
        expected = safety_table(user)  # everything was recorded by the cut-off (today)
        got = shown_report["safety"]
        assert got.population == expected.population
        assert got.summary == expected.summary
        assert [(r.soc, r.term, r.counts) for r in got.rows] == [
            (r.soc, r.term, r.counts) for r in expected.rows
        ]
        assert [(r.term, r.counts) for r in got.infusion] == [
            (r.term, r.counts) for r in expected.infusion
        ]
        assert shown_report["flow"] == consort_flow(reader, trial.cutoff)
        allocated = {arm: a["allocated"] for arm, a in shown_report["flow"]["arms"]}
        assert allocated == dict(shown_report["arms"])
    assert any(count for _key, _label, by_arm in got.summary for count in by_arm.values())


def test_the_report_shows_the_counts_it_was_given(trial, trial_users, api_as):
    manager = trial_users["datamanager"]
    text = " ".join(
        pages_of(api_as(manager).get(f"/api/outcomes/runs/{trial.pk}/dsmb/?session=closed").content)
    )
    built = report(trial, session=dsmb.CLOSED, user=manager)
    flow = built["flow"]
    assert f"Assessed for eligibility {flow['assessed_for_eligibility']}" in text
    assert f"Randomized {flow['randomized']}" in text
    assert "Allocated " + " ".join(str(a["allocated"]) for _arm, a in flow["arms"]) in text
    label, cells = built["ae_summary"][0]
    assert label + " " + " ".join(f"{n} ({p} %)" for n, p in cells) in text
    assert "Deaths up to the cut-off" in text
    for death in built["deaths"]:
        assert death.patient in text
    # a run whose slots carried the arm names (an uncoded sequence): no open session
    trial.results["arm_code_sets"] = {arm: [arm] for arm in trial.results["arms"]}
    with pytest.raises(dsmb.ReportRefused, match="no arm codes"):
        report(trial, session=dsmb.OPEN, user=manager)
    trial.save(update_fields=["results"])
    refused = api_as(manager).get(f"/api/outcomes/runs/{trial.pk}/dsmb/?session=open")
    assert refused.status_code == 400 and "no arm codes" in refused.json()["detail"]
    assert report(trial, session=dsmb.CLOSED, user=manager)["arm_labels"] == ["RPI", "RP"]


def test_a_report_shows_the_trial_at_its_cut_off(
    randomized, coordinator, start_regorafenib, trial_users, api_as
):
    """Events, patients and stops after the cut-off are not in a report of it: one patient's
    only event, another's second event and a patient randomized since are all after it."""
    from safety.services import ae_record

    def ago(n):
        return timezone.localdate() - timedelta(days=n)

    def ae(patient, name, grade, days):
        ae_record(
            patient=patient,
            by=coordinator,
            term=CtcaeTerm.objects.get(term=name),
            grade=grade,
            onset=ago(days),
        )

    history = {
        "consent_date": ago(50),
        "screening_date": ago(49),
        "prior_progression_date": ago(60),
    }
    early, quiet = (randomized("RP", days_ago=40, **history) for _ in range(2))
    for patient in (early, quiet):
        start_regorafenib(patient, ago(35))
    ae(early, "Nausea", 1, 30)
    ae(early, "Diarrhea", 3, 5)
    ae(quiet, "Fatigue", 2, 5)  # quiet's only event, after the cut-off
    late = randomized("RPI", days_ago=3, **history)
    start_regorafenib(late, ago(2))
    ae(late, "Fatigue", 1, 1)
    cutoff = ago(10)
    posted = (
        api_as(trial_users["statistician"])
        .post("/api/outcomes/runs/", {"cutoff": str(cutoff)}, format="json")
        .json()
    )
    assert posted["state"] == "done", posted
    manager = trial_users["datamanager"]
    built = report(EndpointRun.objects.get(pk=posted["id"]), session=dsmb.CLOSED, user=manager)
    safety = built["safety"]
    assert safety.population == {"RP": 2}
    assert {key: by_arm["RP"] for key, _label, by_arm in safety.summary}["any"] == 1
    assert [r.term for r in safety.rows if r.term] == ["Nausea"]
    now = safety_table(manager)
    assert {key: by_arm["RP"] for key, _label, by_arm in now.summary}["any"] == 2
    flow = built["flow"]
    assert flow == consort_flow(manager, cutoff) != consort_flow(manager)
    assert (flow["randomized"], dict(flow["arms"])["RP"]["allocated"]) == (2, 2)
    assert "RPI" not in dict(flow["arms"])
    assert consort_flow(manager)["randomized"] >= 3  # late (and the arms' fillers) since


def test_a_run_not_done_is_refused_clearly(trial_users, api_as, client):
    queued = EndpointRun.objects.create(
        cutoff=date(2026, 1, 1), requested_by=trial_users["statistician"]
    )
    api = api_as(trial_users["datamanager"])
    refused = api.get(f"/api/outcomes/runs/{queued.pk}/dsmb/?session=closed")
    assert refused.status_code == 400 and "queued" in refused.json()["detail"]
    assert api.get(f"/api/outcomes/runs/{queued.pk}/dsmb/?session=sideways").status_code == 400
    assert api.get("/api/outcomes/runs/999999/dsmb/").status_code == 404
    client.force_login(trial_users["datamanager"])
    page = client.get(f"/outcomes/runs/{queued.pk}/dsmb-open.pdf")
    assert page.status_code == 409 and "queued" in page.content.decode()


def test_lock_status_and_css_strings():
    assert dsmb.lock_status({}).startswith("Data lock status not recorded")
    assert dsmb.lock_status({"locked": True, "locks": [3, 4]}) == "Data locked (database lock 3, 4)"
    assert dsmb.lock_status({"locked": False, "unlocked": 2, "patients": 5}) == (
        "Data NOT locked: 2 of 5 patients' records not frozen"
    )
    assert dsmb.css_string('a "b" \\ c\nd') == '"a \\"b\\" \\\\ c d"'
    # an uncoded sequence's slots carry the arm names: no open session can be made from them
    assert dsmb.masking_holds({"RPI": "B", "RP": "A"}, ARMS)
    assert not dsmb.masking_holds({"RPI": "RPI", "RP": "RP"}, ARMS)
    with pytest.raises(dsmb.ReportRefused):
        dsmb.session_of("sideways")
    assert dsmb.session_of(None) == dsmb.OPEN and dsmb.session_of(" Closed ") == dsmb.CLOSED


def test_exposure_counts_once_per_patient_and_drug():
    population = {"P1": "A", "P2": "A", "P3": "B"}
    doses = [
        dsmb.Dose("P1", dsmb.PD1, 3),
        dsmb.Dose("P2", dsmb.PD1, 1),
        dsmb.Dose("P3", dsmb.REGORAFENIB, 2),
        dsmb.Dose("P9", dsmb.PD1, 5),  # not randomized in the run
        dsmb.Dose("P1", dsmb.INKT, 4, 10**9),  # not shown: only PD-1 and regorafenib asked
    ]
    pd1, rego = dsmb.exposure(population, doses, arms=("A", "B"))
    assert pd1.by_arm["A"] | {} == {
        "randomized": 2,
        "exposed": 2,
        "percent": 100.0,
        "records": 4,
        "median": 2,
        "low": 1,
        "high": 3,
    }
    assert pd1.by_arm["B"]["exposed"] == 0 and pd1.by_arm["B"]["median"] is None
    assert rego.by_arm["B"]["records"] == 2 and rego.by_arm["A"]["exposed"] == 0
    (inkt,) = dsmb.exposure(population, doses, arms=("A", "B"), drugs=(dsmb.INKT,))
    assert inkt.by_arm["A"]["median_cells_shown"] == "1.0 × 10^9"
    assert dsmb.cells_shown(4_609_759_942) == "4.6 × 10^9" and dsmb.cells_shown(None) == ""


def test_deaths_are_the_runs_os_events_and_hide_what_names_the_arm():
    results = {
        "adtte": [
            {
                "USUBJID": "P1",
                "ARM": "RPI",
                "PARAMCD": "OS",
                "CNSR": 0,
                "ADT": "2026-03-01",
                "AVAL": 90,
            },
            {
                "USUBJID": "P2",
                "ARM": "RP",
                "PARAMCD": "OS",
                "CNSR": 1,
                "ADT": "2026-04-01",
                "AVAL": 120,
            },
            {
                "USUBJID": "P2",
                "ARM": "RP",
                "PARAMCD": "PFS",
                "CNSR": 0,
                "ADT": "2026-02-01",
                "AVAL": 60,
            },
        ]
    }
    found = dsmb.deaths(
        results,
        {"RPI": "B", "RP": "A"},
        fatal_events={"P1": ["Cytokine release syndrome", "Sepsis"]},
        hidden_terms=tables.INFUSION_TERMS,
    )
    assert found == [dsmb.Death("P1", "B", "2026-03-01", 90, "", ("Sepsis",))]
    assert dsmb.deaths_by_arm(found, ("A", "B")) == {"A": 0, "B": 1}
