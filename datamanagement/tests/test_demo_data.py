"""The demo data (`manage.py demo_data`, what `make run` loads) shows the records of issue 15:
visits with graded laboratory values and their proposed adverse events (one left pending),
medications with their warnings, CRS and ICANS graded by ASTCT, SUSARs with their clocks (one
overdue); the synthetic trial's clinical side is the same for the same seed, and leaves the
rest of the trial as it was."""

import io
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction

from enrollment.medications import HBV_ANTIVIRAL_STOPPED, STRONG_INHIBITOR
from enrollment.models import ConcomitantMedication, MedicalHistory, Screening
from enrollment.selectors import medication_warnings
from outcomes import synthetic
from randomization.models import Allocation
from safety import crs, susar, visits
from safety.models import AdverseEvent, ClinicalVisit, LabValue, ProposedAdverseEvent
from safety.selectors import WITHHELD, overdue_susars, susar_listing

pytestmark = pytest.mark.django_db


def test_the_demo_shows_visits_labs_proposals_medications_crs_and_susars():
    out = io.StringIO()
    call_command("demo_data", patients=10, stdout=out)
    users = {u.username: u for u in get_user_model().objects.all()}

    # every randomized patient: a screening visit with its liver panel, counts and AFP
    for allocation in Allocation.objects.select_related("patient"):
        screening_visit = ClinicalVisit.objects.get(patient=allocation.patient, kind="screening")
        tests = set(screening_visit.labs.values_list("test", flat=True))
        assert {"alt", "ast", "bilirubin", "albumin", "platelets", "inr", "afp"} <= tests
        assert screening_visit.ecog in (0, 1)
    assert ClinicalVisit.objects.filter(kind="week").count() > 10
    assert LabValue.objects.filter(test="alt", grade=3).exists()  # ALT > 5 x ULN
    assert LabValue.objects.filter(test="platelets", grade=3).exists()  # < 50 x 10^9/L

    # proposals: accepted (an adverse event recorded), dismissed with a reason, one pending
    states = list(ProposedAdverseEvent.objects.values_list("state", flat=True))
    assert states.count(ProposedAdverseEvent.PROPOSED) == 1
    assert ProposedAdverseEvent.objects.filter(
        state=ProposedAdverseEvent.ACCEPTED, adverse_event__isnull=False
    ).exists()
    assert ProposedAdverseEvent.objects.filter(
        state=ProposedAdverseEvent.DISMISSED, dismissal_reason__contains="clumping"
    ).exists()

    # medical history, medications and their warnings
    assert MedicalHistory.objects.filter(condition="Chronic hepatitis B").exists()
    assert ConcomitantMedication.objects.filter(name="Entecavir", ongoing=True).exists()
    enrolled = Screening.objects.filter(patient__isnull=False).values_list("pk", flat=True)
    codes = {w.code for found in medication_warnings(enrolled).values() for w in found}
    assert {STRONG_INHIBITOR, HBV_ANTIVIRAL_STOPPED} <= codes

    # CRS grade 2 and ICANS grade 1, each graded by ASTCT from its inputs after a course
    event = AdverseEvent.objects.get(term__term=crs.CRS_TERM)
    assert (event.grade, event.astct_grade) == (2, 2)
    assert event.astct_inputs["hypotension"] == "no_vasopressor"
    assert event.infusion is not None and event.patient.allocation.arm == "RPI"
    icans = AdverseEvent.objects.get(specification=crs.ICANS_SPECIFICATION)
    assert (icans.grade, icans.astct_grade) == (1, 1)

    # two SUSARs with a narrative: one reported on time, one overdue on the dashboard
    susars = AdverseEvent.objects.filter(susar_status=susar.SUSAR)
    assert susars.count() == 2 and all(e.narrative for e in susars)
    on_time = susars.get(susar_report_at__isnull=False)
    assert not on_time.susar_clock.overdue
    coordinator = users["coordinator"]
    assert [row.event for row in overdue_susars(coordinator)] == [
        susars.get(susar_report_at__isnull=True).pk
    ]

    # the masked statistician: no course visit (its label would name the arm), no term
    statistician = users["statistician"]
    assert not ClinicalVisit.objects.filter(kind="course").exists()
    assert {row.term for row in susar_listing(statistician)} == {WITHHELD}
    for visit in ClinicalVisit.objects.all()[:50]:
        assert visits.visit_label(visit, statistician).startswith(("Screening", "Week"))
    assert "proposed adverse event(s) pending" in out.getvalue()


def _snapshot():
    return {
        "visits": sorted(
            (
                lab.visit.patient.study_id,
                lab.visit.visit_date,
                lab.visit.number,
                lab.visit.ecog,
                lab.test,
                lab.value,
                lab.grade,
            )
            for lab in LabValue.objects.select_related("visit__patient")
        ),
        "medications": sorted(
            (m.screening.screening_number, m.name, m.start_date, m.stop_date)
            for m in ConcomitantMedication.objects.select_related("screening")
        ),
        "proposals": sorted(
            (p.patient.study_id, p.grade, p.state)
            for p in ProposedAdverseEvent.objects.select_related("patient")
        ),
        "events": sorted(
            (e.patient.study_id, e.term.term, e.grade, e.onset, e.susar_status)
            for e in AdverseEvent.objects.select_related("patient", "term")
        ),
    }


def _core():
    """What the trial is without its clinical side: arms, scans, deaths, treatment."""
    from assessments.models import Scan
    from dosing.models import Infusion
    from enrollment.models import StatusChange

    return (
        sorted(Allocation.objects.values_list("patient__study_id", "arm", "randomized_at")),
        sorted(Scan.objects.values_list("patient__study_id", "scan_date")),
        sorted(StatusChange.objects.values_list("patient__study_id", "kind", "date")),
        sorted(Infusion.objects.values_list("patient__study_id", "course_number", "infused_at")),
    )


class Rollback(Exception):
    pass


def _generate(trial_users, *, clinical):
    try:
        with transaction.atomic():
            synthetic.generate(seed=9, patients=5, today=date(2026, 6, 1), clinical=clinical)
            found = (_snapshot(), _core())
            raise Rollback
    except Rollback:
        return found


def test_the_synthetic_clinical_side_is_deterministic_and_changes_nothing_else(trial_users):
    plain_snapshot, plain_core = _generate(trial_users, clinical=False)
    first, first_core = _generate(trial_users, clinical=True)
    again, again_core = _generate(trial_users, clinical=True)
    assert first == again and first_core == again_core
    assert first["visits"] and first["medications"]
    assert not plain_snapshot["visits"] and not plain_snapshot["medications"]
    assert plain_core == first_core
