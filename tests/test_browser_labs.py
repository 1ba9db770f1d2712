"""Real Chromium: the coordinator enters a visit with laboratory values, sees the grades and the
adverse event an ALT of 6 x ULN proposes, and accepts it (issue 15)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from safety.models import AdverseEvent, ProposedAdverseEvent
from tests.test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_visit_with_alt_6x_uln_proposes_an_adverse_event_that_the_coordinator_accepts(
    page,
    randomized,
):
    today = timezone.localdate()
    patient = randomized("RP", days_ago=10, consent_date=today - timedelta(days=20))
    log_in(page, "coordinator")
    page.goto(f"/patients/{patient.study_id}/")
    expect(page.locator("#labs")).to_contain_text("No visit entered.")

    # The screening visit: normal ALT, the baseline of the later ones
    page.click("#enter-visit")
    page.fill("#id_visit_date", str(today - timedelta(days=12)))
    page.select_option("#id_kind", "screening")
    page.select_option("#id_ecog", "1")
    page.fill("#id_systolic_bp_mmhg", "128")
    page.fill("#id_diastolic_bp_mmhg", "82")
    page.fill("#id_alt_value", "30")
    page.fill("#id_bilirubin_value", "0.8")
    page.select_option("#id_bilirubin_unit", "mg/dL")
    page.fill("#id_albumin_value", "3.9")
    page.select_option("#id_albumin_unit", "g/dL")
    page.fill("#id_inr_value", "1.1")
    page.fill("#id_afp_value", "600")
    page.click("text=Save the visit")
    expect(page.locator(".alert-success")).to_contain_text("Visit recorded.")
    screening = page.locator(".visit").first
    expect(screening).to_contain_text("Screening")
    expect(screening.locator(".child-pugh")).to_have_text("A (5)")
    # ALBI: log10(13.68 umol/L) x 0.66 + 39 g/L x -0.085 = -2.57, just above -2.60
    expect(screening.locator(".albi")).to_have_text("-2.57, grade 2")

    # A study-week visit: ALT 240 U/L is 6 x ULN (40) on a normal baseline, grade 3
    page.click("#enter-visit")
    page.fill("#id_visit_date", str(today - timedelta(days=1)))
    page.select_option("#id_kind", "week")
    page.fill("#id_number", "2")
    page.fill("#id_alt_value", "240")
    page.fill("#id_afp_value", "250")
    page.click("text=Save the visit")
    expect(page.locator(".alert-warning")).to_contain_text(
        "Adverse event proposed: Alanine aminotransferase increased grade 3"
    )
    latest = page.locator(".visit").first
    expect(latest).to_contain_text("Week 2")
    expect(latest.locator("tr[data-test=alt] .grade")).to_have_text("3")
    expect(latest.locator(".afp-response")).to_contain_text("decrease ≥ 50 %")
    proposal = page.locator("#proposed-aes tr.proposal")
    expect(proposal).to_contain_text("Alanine aminotransferase increased")
    expect(proposal).to_contain_text("Proposed")
    assert not AdverseEvent.objects.exists()  # nothing recorded until the coordinator says so

    proposal.locator("button[name=accept]").click()
    expect(page.locator(".alert-success")).to_contain_text(
        "Adverse event recorded: Alanine aminotransferase increased grade 3"
    )
    event = AdverseEvent.objects.get()
    assert (event.grade, event.onset) == (3, today - timedelta(days=1))
    assert ProposedAdverseEvent.objects.get().state == "accepted"
    page.goto(f"/patients/{patient.study_id}/")
    expect(page.locator("#adverse-events")).to_contain_text("Alanine aminotransferase increased")
    expect(page.locator("#proposed-aes tr.proposal")).to_contain_text("Accepted")
