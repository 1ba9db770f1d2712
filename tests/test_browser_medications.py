"""Real Chromium: the coordinator records a strong CYP3A4 inhibitor and sees the warning on the
patient's page (the browser fixtures are tests/test_browser.py's)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_strong_cyp3a4_inhibitor_is_warned_on_the_patient_page(page, randomized):
    patient = randomized("RP", days_ago=3)
    log_in(page, "coordinator")
    page.goto(f"/patients/{patient.study_id}/")
    page.click("#add-medication")
    page.fill("#id_name", "Clarithromycin")
    page.fill("#id_indication", "Community-acquired pneumonia")
    page.fill("#id_dose", "500")
    page.select_option("#id_dose_unit", "mg")
    page.select_option("#id_route", "oral")
    page.fill("#id_frequency", "twice daily")
    page.fill("#id_start_date", str(timezone.localdate() - timedelta(days=1)))
    page.check("#id_ongoing")
    page.fill("#id_atc_code", "J01FA09")
    page.click("text=Save medication")
    expect(page.locator(".alert-success")).to_contain_text("Medication recorded")
    row = page.locator("#medications tbody tr").first
    expect(row).to_contain_text("Clarithromycin")
    expect(row.locator(".medication-warning")).to_contain_text("strong CYP3A4 inhibitor")
    expect(row.locator(".medication-warning")).to_contain_text("Stivarga")
