"""Clinical visits and their lab values: graded on save, a grade 3 or a 2-grade shift proposes
an adverse event that the coordinator accepts or dismisses, corrections with a reason, and the
database lock."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone

from datamanagement import services as datamanagement
from inkt_trial.audit import AuditReasonRequired, history_of
from inkt_trial.errors import DomainError
from safety import visits
from safety.models import AdverseEvent, LabValue, ProposedAdverseEvent

pytestmark = pytest.mark.django_db


def days_ago(n):
    return timezone.localdate() - timedelta(days=n)


@pytest.fixture
def rp(randomized):
    return randomized("RP", days_ago=20, consent_date=days_ago(30), screening_date=days_ago(29))


@pytest.fixture
def rpi(randomized):
    return randomized("RPI", days_ago=20, consent_date=days_ago(30), screening_date=days_ago(29))


LIVER = [
    {"test": "alt", "value": "30", "unit": "U/L"},
    {"test": "bilirubin", "value": "1.0", "unit": "mg/dL"},
    {"test": "albumin", "value": "3.8", "unit": "g/dL"},
    {"test": "inr", "value": "1.1"},
    {"test": "afp", "value": "400", "unit": "ng/mL"},
]


def screening(patient, by, values=LIVER, **extra):
    return visits.visit_record(
        patient=patient,
        by=by,
        visit_date=days_ago(25),
        kind="screening",
        ecog=1,
        systolic_bp_mmhg=130,
        diastolic_bp_mmhg=80,
        values=values,
        **extra,
    )


def week(patient, by, n, values, ago=10, **extra):
    return visits.visit_record(
        patient=patient, by=by, visit_date=days_ago(ago), kind="week", number=n, values=values,
        **extra,
    )  # fmt: skip


def lab(visit, test):
    return LabValue.objects.get(visit=visit, test=test)


def test_a_visit_records_ecog_vitals_and_labs_in_canonical_units(rp, coordinator):
    visit = screening(rp, coordinator)
    assert (visit.label, visit.ecog, visit.systolic_bp_mmhg) == ("Screening", 1, 130)
    bili = lab(visit, "bilirubin")
    assert (bili.value_entered, bili.unit_entered, bili.value, bili.unit) == (
        D("1.0000"),
        "mg/dL",
        D("17.1000"),
        "umol/L",
    )
    assert (bili.term, bili.grade, bili.baseline_grade) == ("Blood bilirubin increased", 0, None)
    assert lab(visit, "afp").grade is None  # not a CTCAE term
    assert not ProposedAdverseEvent.objects.exists()


def test_alt_six_times_uln_on_a_normal_baseline_proposes_an_adverse_event(rp, coordinator):
    screening(rp, coordinator)
    visit = week(rp, coordinator, 2, [{"test": "alt", "value": "240", "unit": "U/L"}])
    alt = lab(visit, "alt")
    assert (alt.grade, alt.baseline_grade, alt.baseline_value) == (3, 0, D("30.0000"))
    assert alt.baseline_date == days_ago(25)
    proposal = ProposedAdverseEvent.objects.get()
    assert (proposal.term.term, proposal.grade, proposal.state) == (
        "Alanine aminotransferase increased",
        3,
        "proposed",
    )
    assert proposal.why.startswith("Grade 3 (grade 3 or more): ALT 240 U/L on")
    assert not AdverseEvent.objects.exists()  # never recorded silently


def test_a_two_grade_shift_proposes_and_a_one_grade_shift_does_not(rp, coordinator):
    screening(rp, coordinator, values=[{"test": "platelets", "value": "160", "unit": "10^9/L"}])
    week(rp, coordinator, 1, [{"test": "platelets", "value": "100", "unit": "10^9/L"}], ago=15)
    assert not ProposedAdverseEvent.objects.exists()  # grade 1
    week(rp, coordinator, 2, [{"test": "platelets", "value": "60000", "unit": "/mm3"}])
    proposal = ProposedAdverseEvent.objects.get()
    assert proposal.grade == 2 and proposal.why.startswith("Shift from grade 0 at baseline")


def test_an_abnormal_baseline_grades_in_x_baseline(rp, coordinator):
    screening(rp, coordinator, values=[{"test": "alt", "value": "100", "unit": "U/L"}])
    visit = week(rp, coordinator, 2, [{"test": "alt", "value": "140", "unit": "U/L"}])
    assert lab(visit, "alt").grade == 0  # 1.4 x baseline: not yet grade 1


def test_accepting_records_the_event_through_the_ae_service(rp, coordinator):
    screening(rp, coordinator)
    visit = week(rp, coordinator, 2, [{"test": "alt", "value": "240", "unit": "U/L"}])
    proposal = ProposedAdverseEvent.objects.get()
    event = visits.proposal_accept(proposal=proposal, by=coordinator)
    assert (event.term.term, event.grade, event.onset) == (
        "Alanine aminotransferase increased",
        3,
        visit.visit_date,
    )
    proposal.refresh_from_db()
    assert (proposal.state, proposal.adverse_event, proposal.decided_by) == (
        "accepted",
        event,
        coordinator,
    )
    assert history_of(proposal)[0]["reason"] == f"Accepted: adverse event #{event.pk} recorded"
    with pytest.raises(DomainError, match="already accepted"):
        visits.proposal_accept(proposal=proposal, by=coordinator)


def test_dismissing_needs_a_reason_and_is_audited(rp, coordinator):
    screening(rp, coordinator)
    week(rp, coordinator, 2, [{"test": "alt", "value": "240", "unit": "U/L"}])
    proposal = ProposedAdverseEvent.objects.get()
    with pytest.raises(DomainError, match="reason"):
        visits.proposal_dismiss(proposal=proposal, by=coordinator, reason=" ")
    visits.proposal_dismiss(proposal=proposal, by=coordinator, reason="Haemolysed sample")
    proposal.refresh_from_db()
    assert (proposal.state, proposal.dismissal_reason) == ("dismissed", "Haemolysed sample")
    assert history_of(proposal)[0]["reason"] == "Dismissed: Haemolysed sample"
    assert not AdverseEvent.objects.exists()


def test_a_correction_needs_a_reason_regrades_and_withdraws_the_proposal(rp, coordinator):
    screening(rp, coordinator)
    visit = week(rp, coordinator, 2, [{"test": "alt", "value": "240", "unit": "U/L"}])
    alt = lab(visit, "alt")
    with pytest.raises(DomainError, match="reason"):
        visits.lab_correct(lab=alt, by=coordinator, reason="", value="24")
    visits.lab_correct(lab=alt, by=coordinator, reason="Typo: 24, not 240", value="24")
    alt.refresh_from_db()
    assert (alt.value, alt.grade) == (D("24.0000"), 0)
    assert history_of(alt)[0]["reason"] == "Typo: 24, not 240"
    proposal = ProposedAdverseEvent.objects.get()
    assert proposal.state == "dismissed" and "now grade 0" in proposal.dismissal_reason


def test_a_corrected_baseline_regrades_the_later_values(rp, coordinator):
    base = screening(rp, coordinator)
    later = week(rp, coordinator, 2, [{"test": "alt", "value": "100", "unit": "U/L"}])
    assert lab(later, "alt").grade == 1  # 2.5 x ULN on a normal baseline
    visits.visit_correct(
        visit=base,
        by=coordinator,
        reason="Baseline ALT was 60 per the source",
        values=[{"test": "alt", "value": "60", "unit": "U/L"}],
        ecog=0,
    )
    base.refresh_from_db()
    assert base.ecog == 0
    regraded = lab(later, "alt")
    assert (regraded.grade, regraded.baseline_value) == (1, D("60.0000"))  # 1.67 x baseline
    assert history_of(regraded)[0]["reason"] == "Graded again (CTCAE v5.0)"


def test_a_visit_correction_without_a_reason_is_refused(rp, coordinator):
    visit = screening(rp, coordinator)
    with pytest.raises(DomainError, match="Say why"):
        visits.visit_correct(visit=visit, by=coordinator, reason="", ecog=2)
    with pytest.raises(AuditReasonRequired):
        visit.ecog = 2
        visit.save()


def test_child_pugh_albi_and_afp_response_at_each_visit(rp, coordinator):
    screening(rp, coordinator)
    week(
        rp,
        coordinator,
        4,
        [
            {"test": "bilirubin", "value": "40", "unit": "umol/L"},
            {"test": "albumin", "value": "30", "unit": "g/L"},
            {"test": "inr", "value": "1.1"},
            {"test": "afp", "value": "190", "unit": "ng/mL"},
        ],
        ascites="mild",
    )
    latest, base = visits.patient_visits(rp, coordinator)
    assert (latest.child_pugh.points, latest.child_pugh.child_pugh_class) == (8, "B")
    assert latest.albi.grade == 3 or latest.albi.grade == 2
    assert latest.albi.score == D("-1.49")  # log10(40) x 0.66 - 30 x 0.085
    assert latest.afp.decrease_50 and latest.afp.change_percent == D("-52.5")
    assert latest.afp_baseline_date == days_ago(25)
    assert base.afp is None and base.child_pugh.child_pugh_class == "A"


def test_refusals(rp, coordinator):
    with pytest.raises(DomainError) as refused:
        visits.visit_record(
            patient=rp,
            by=coordinator,
            visit_date=days_ago(-1),
            kind="course",
            ecog=7,
            systolic_bp_mmhg=80,
            diastolic_bp_mmhg=95,
            values=[
                {"test": "alt", "value": "12", "unit": "mmol/L"},
            ],
        )
    errors = refused.value.field_errors
    assert "future" in errors["visit_date"][0]
    assert "no iNKT courses" in " ".join(errors["kind"])
    assert {"ecog", "diastolic_bp_mmhg", "number"} <= set(errors)
    with pytest.raises(DomainError) as refused:
        visits.visit_record(
            patient=rp,
            by=coordinator,
            visit_date=days_ago(5),
            kind="unscheduled",
            values=[{"test": "alt", "value": "12", "unit": "mmol/L"}],
        )
    assert "not accepted" in refused.value.field_errors["alt_unit"][0]
    with pytest.raises(DomainError) as refused:
        visits.visit_record(
            patient=rp,
            by=coordinator,
            visit_date=days_ago(5),
            kind="unscheduled",
            values=[{"test": "haemoglobin", "value": "150", "unit": "g/dL"}],
        )
    assert "not a possible value" in refused.value.field_errors["haemoglobin_value"][0]
    with pytest.raises(DomainError) as refused:
        visits.visit_record(patient=rp, by=coordinator, visit_date=days_ago(40), kind="screening")
    assert "Before the informed consent" in refused.value.field_errors["visit_date"][0]
    screening(rp, coordinator)
    with pytest.raises(DomainError) as refused:
        screening(rp, coordinator)
    assert "already has a visit" in refused.value.field_errors["visit_date"][0]


def test_a_course_visit_is_for_the_inkt_arm_and_masked_for_a_masked_statistician(
    rpi, coordinator, statistician
):
    visit = visits.visit_record(
        patient=rpi, by=coordinator, visit_date=days_ago(5), kind="course", number=2
    )
    assert visits.visit_label(visit, coordinator) == "Course 2"
    assert visits.visit_label(visit, statistician) == "Week 2"  # day 15 from randomization


def test_a_locked_visit_refuses_changes(rp, coordinator, data_manager):
    visit = screening(rp, coordinator)
    week(rp, coordinator, 2, [{"test": "alt", "value": "240", "unit": "U/L"}])
    proposal = ProposedAdverseEvent.objects.get()
    with pytest.raises(DomainError):  # an undecided proposal blocks the lock
        datamanagement.data_lock(
            by=data_manager, patient=rp, cutoff=days_ago(1), reason="Interim cleaning"
        )
    visits.proposal_dismiss(proposal=proposal, by=coordinator, reason="Artefact")
    datamanagement.data_lock(
        by=data_manager, patient=rp, cutoff=days_ago(1), reason="Interim cleaning"
    )
    with pytest.raises(DomainError, match="locked"):
        visits.visit_correct(visit=visit, by=coordinator, reason="Per source", ecog=0)
    with pytest.raises(DomainError, match="locked"):
        visits.lab_correct(lab=lab(visit, "alt"), by=coordinator, reason="Typo", value="31")
    with pytest.raises(DomainError, match="can be added|locked"):
        week(rp, coordinator, 3, [{"test": "alt", "value": "20", "unit": "U/L"}], ago=3)
