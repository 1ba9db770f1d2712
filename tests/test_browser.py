"""Real Chromium, driven by Playwright, against the live application."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import PASSWORD
from enrollment import eligibility as el
from enrollment.demo import demo_values
from enrollment.models import Patient, Screening
from randomization.models import Allocation, AllocationSequence

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def log_in(page, username):
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#whoami")).to_be_visible()


def log_out(page):
    page.click("text=Log out")
    expect(page).to_have_url(re.compile("/accounts/login/"))


def fill_screening(page, values):
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            if name.startswith("bclc_by_"):
                page.locator(f"#id_{name}").set_checked(value)
            else:
                page.check(f"input[name={name}][value={value}]")
        elif name in (
            "sex",
            "bilirubin_unit",
            "albumin_unit",
            "creatinine_unit",
            "ascites",
            "encephalopathy",
            "bclc_stage",
        ):
            page.select_option(f"#id_{name}", str(value))
        else:
            page.fill(f"#id_{name}", str(value))


@pytest.fixture
def today():
    return timezone.localdate()


def test_screen_one_eligible_one_failure_and_investigator_confirms(
    page, coordinator, investigator, today
):
    log_in(page, "coordinator")
    page.click("nav >> text=New screening")

    # Bad input first: screening dated before consent. Refused, and what was typed is kept.
    bad = demo_values(today, screening_date=today - timedelta(days=20))
    fill_screening(page, bad)
    page.click("text=Save screening")
    expect(page.locator("#screening-form")).to_contain_text(
        "Screening procedures cannot be dated before consent."
    )
    expect(page.locator("#id_bilirubin")).to_have_value("18.5")
    assert not Screening.objects.exists()

    # An implausible value is named in the live panel, and nothing is derived from it.
    page.fill("#id_bilirubin", "9999")
    expect(page.locator("#derived-problems")).to_contain_text("Must be between")
    expect(page.locator('[data-derived="bilirubin_umol_l"]')).to_have_text("–")
    expect(page.locator('[data-derived="child_pugh"]')).to_have_text("–")
    page.fill("#id_bilirubin", "18.5")
    expect(page.locator("#derived-problems")).not_to_contain_text("Bilirubin")

    # Corrected: the derived panel shows the computed values before saving.
    page.fill("#id_screening_date", str(today - timedelta(days=5)))
    page.fill("#id_albumin", "3.2")
    page.select_option("#id_albumin_unit", "g/dL")
    expect(page.locator('[data-derived="child_pugh"]')).to_have_text("A (6 points)")
    expect(page.locator('[data-derived="age_years"]')).to_have_text("58")
    expect(page.locator('[data-derived="outcome"]')).to_have_text("Eligible")
    page.click("text=Save screening")
    expect(page.locator("#status")).to_have_text("Eligible, awaiting confirmation")
    expect(page.locator("#derived-child-pugh")).to_have_text("A (6 points)")
    eligible = Screening.objects.get()

    # A screen failure: bilirubin at 2 x ULN and an HIV history.
    page.click("nav >> text=New screening")
    fill_screening(page, demo_values(today, bilirubin="42", hiv_syphilis=True))
    expect(page.locator('[data-derived="bilirubin_x_uln"]')).to_have_text("2.00")
    expect(page.locator('[data-derived="outcome"]')).to_have_text("Screen failure")
    page.click("text=Save screening")
    expect(page.locator("#status")).to_have_text("Screen failure")
    failed = page.locator("#failed-criteria")
    expect(failed).to_contain_text(el.CRITERIA["bilirubin_2x_uln"].text)
    expect(failed).to_contain_text(el.CRITERIA["hiv_syphilis"].text)

    page.click("nav >> text=Screening log")
    page.select_option("#id_status", "screen_failure")
    page.click("text=Filter")
    expect(page.locator("#screening-log tbody tr")).to_have_count(1)
    log_out(page)

    # The investigator signs for the eligible one.
    log_in(page, "investigator")
    page.click("#awaiting-confirmation >> text=confirm")
    expect(page.locator("#meaning")).to_contain_text(eligible.screening_number)
    page.check("#id_agree")
    page.fill("#id_username", "investigator")  # the first signature of the session: both
    page.fill("#id_password", "not my password")
    page.click("text=Sign and confirm eligibility")
    expect(page.locator("main form")).to_contain_text("The password is not correct.")
    page.check("#id_agree")
    page.fill("#id_username", "investigator")
    page.fill("#id_password", PASSWORD)
    page.click("text=Sign and confirm eligibility")
    expect(page.locator("#study-id")).to_have_text("INKT-001")
    assert Patient.objects.get().screening == eligible


def test_edit_with_reason_appears_in_the_audit_trail(page, coordinator, eligible_screening):
    log_in(page, "coordinator")
    page.goto(f"/screenings/{eligible_screening.pk}/")
    page.click("text=Edit")
    page.fill("#id_inr", "1.9")
    page.click("text=Save screening")  # no reason: the browser itself refuses to submit
    expect(page.locator("#id_reason:invalid")).to_have_count(1)
    expect(page.locator("#id_inr")).to_have_value("1.9")
    page.fill("#id_reason", "Repeat INR from the central lab")
    page.click("text=Save screening")
    expect(page.locator("#derived-child-pugh")).to_have_text("A (6 points)")
    page.click("text=History")
    latest = page.locator("#history tbody tr").first
    expect(latest.locator(".reason")).to_have_text("Repeat INR from the central lab")
    expect(latest).to_contain_text("INR: 1.15 → 1.90")
    expect(latest).to_contain_text("coordinator")


def test_statistician_prepares_a_sequence_and_the_coordinator_randomizes(
    page, statistician, data_manager, coordinator, enrol
):
    patient = enrol()
    log_in(page, "statistician")
    page.click("nav >> text=Sequence")
    page.fill("#id_length", "84")
    page.fill("#id_block_sizes", "2, 4, 6")
    page.fill("#id_seed", "20260801")
    page.click("text=Generate sequence")
    expect(page.locator("#active-sequence")).to_contain_text("seed 20260801")
    expect(page.locator("#active-sequence")).to_contain_text("arms as codes A/B")  # the default
    sequence = AllocationSequence.objects.get()
    log_out(page)

    log_in(page, "data_manager")  # the administrator maps the codes
    page.click("nav >> text=Sequence")
    mapping = page.locator("form:has(#id_code_a_arm)")
    mapping.locator("#id_code_a_arm").select_option("RPI")
    mapping.locator("[name=reason]").fill("Mapping kept in the sealed envelope")
    page.click("text=Save the mapping")
    expect(page.locator("#active-sequence")).to_contain_text("code A = RPI")
    log_out(page)

    log_in(page, "coordinator")
    expect(page.locator("nav")).not_to_contain_text("Sequence")
    page.click("#awaiting-randomization >> text=randomize")
    expect(page.locator("h1")).to_have_text(f"Randomize {patient.study_id}")
    page.click("#randomize")
    first_slot = sequence.slots.get(position=1)
    expect(page.locator("#arm")).to_have_text("RPI" if first_slot.arm == "A" else "RP")
    expect(page.locator("#randomization")).to_contain_text("by Coordinator Tester")
    assert Allocation.objects.get().patient == patient
    page.goto(f"/patients/{patient.study_id}/randomize/")
    page.click("#randomize")
    expect(page.locator(".alert-danger")).to_contain_text("already randomized")
    assert Allocation.objects.count() == 1


def test_coordinator_schedules_and_records_a_course_with_its_dose_and_a_deviation(
    page, randomized, coordinator, investigator
):
    from dosing import services as dosing
    from dosing.fixtures import PASSING
    from dosing.models import ManufacturingBatch

    patient = randomized("RPI", days_ago=1)
    today = timezone.localdate()
    log_in(page, "coordinator")
    page.goto(f"/patients/{patient.study_id}/")
    # the cell product: the apheresis and the bag made from it
    page.click("text=Record an apheresis")
    page.fill("#id_date", str(today))
    page.fill("#id_volume_ml", "180")
    page.click("text=Save apheresis")
    expect(page.locator("#cell-product .apheresis")).to_contain_text("180.0 mL")
    page.click("text=Record a batch")
    page.fill("#id_batch_number", "INKT-B-0042")
    page.fill("#id_manufactured_on", str(today))
    tomorrow = timezone.localtime() + timedelta(days=2)
    page.fill("#id_expires_at", tomorrow.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_cells_total", "1.5e9")
    page.fill("#id_volume_ml", "100")
    page.click("text=Save batch")
    batch = ManufacturingBatch.objects.get(batch_number="INKT-B-0042")
    for assay, result in PASSING.items():  # the laboratory's certificates
        dosing.release_test_record(
            batch=batch, by=coordinator, assay=assay.value, tested_on=today, **result
        )
    page.reload()
    row = page.locator("#cell-product tr.batch")
    expect(row.locator(".release-status")).to_have_text("Not released")
    release = row.get_by_role("link", name="Release", exact=True)
    expect(release).to_have_count(0)  # the investigator releases
    log_out(page)
    log_in(page, "investigator")
    page.goto(f"/patients/{patient.study_id}/")
    page.locator("#cell-product tr.batch").get_by_role("link", name="Release", exact=True).click()
    page.click("text=Release the batch for infusion")
    expect(page.locator("#cell-product tr.batch .release-status")).to_contain_text("Released")
    log_out(page)

    log_in(page, "coordinator")
    page.goto(f"/patients/{patient.study_id}/")
    page.click("text=Set up the infusion schedule")
    page.fill("#id_first_planned_date", str(timezone.localdate()))
    page.fill("#id_target_cells_per_m2", "5e8")
    page.click("text=Save schedule")
    expect(page.locator("#courses tbody tr")).to_have_count(6)
    page.click("text=Record course 1")
    page.fill("#id_infused_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_weight_kg", "64.0")
    # sqrt(168 x 64 / 3600) = 1.7282 m2; 5e8 x 1.7282 = 8.641e8 cells
    expect(page.locator('[data-derived="bsa_m2"]')).to_have_text("1.7282 m²")
    expect(page.locator('[data-derived="computed_dose_cells"]')).to_have_text("8.641 × 10⁸ cells")
    page.fill("#id_cells_infused", "6e8")
    # the bedside check: the bag's label, here first misread
    page.fill("#id_bag_study_id", "INKT-099")
    page.fill("#id_bag_date_of_birth", str(patient.screening.date_of_birth))
    page.fill("#id_batch_number", "INKT-B-0042")
    page.click("text=Record course")
    expect(page.locator("main form")).to_contain_text("The bag is labelled for INKT-099")
    page.fill("#id_bag_study_id", patient.study_id)
    page.click("text=Record course")
    expect(page.locator("main form")).to_contain_text("give the reason")
    page.fill("#id_deviation_reason", "Low expansion of the cell product")
    page.click("text=Record course")
    row = page.locator("#courses tbody tr").first
    expect(row.locator(".computed-dose")).to_have_text("8.641 × 10⁸")
    expect(row.locator(".deviations")).to_contain_text("Reduced dose")
    expect(row.locator(".bedside")).to_contain_text(f"✓ bag {patient.study_id}, batch INKT-B-0042")
    expect(page.locator("#cell-product tr.batch .release-status")).to_contain_text("Infused")
    expect(page.locator("#exposure")).to_contain_text("1 course given")


def test_two_radiologists_disagree_and_the_adjudicator_resolves(
    page, randomized, coordinator, make_user
):
    from datetime import timedelta

    from django.db import connection

    from assessments import services as imaging

    today = timezone.localdate()
    long_ago = {
        "consent_date": today - timedelta(days=150),
        "screening_date": today - timedelta(days=149),
        "prior_regimen_start": today - timedelta(days=300),
        "prior_progression_date": today - timedelta(days=155),
    }
    patient = randomized("RP", days_ago=140, **long_ago)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE enrollment_patient SET enrolled_at = %s WHERE id = %s",
            [timezone.now() - timedelta(days=141), patient.pk],
        )
    one, two = make_user("radiologist", "rad-one"), make_user("radiologist", "rad-two")
    make_user("adjudicator")
    imaging.readers_assign(patient=patient, by=coordinator, reader_1=one, reader_2=two)
    for days, kind in ((145, "baseline"), (85, "scheduled"), (29, "scheduled")):
        imaging.scan_register(
            patient=patient,
            by=coordinator,
            scan_date=today - timedelta(days),
            kind=kind,
            modality="CT",
            regions=["chest", "abdomen"],
        )

    def read_case(username, follow_ups):
        log_in(page, username)
        page.click("nav >> text=Reading worklist")
        expect(page.locator("#worklist")).not_to_contain_text(patient.study_id)
        rows = page.locator("#worklist tbody tr")
        rows.nth(0).locator("a").click()
        page.fill('[aria-label="target 1 organ"]', "liver")
        page.fill('[aria-label="target 1 diameter"]', "40")
        page.fill('[aria-label="target 2 organ"]', "lung")
        page.fill('[aria-label="target 2 diameter"]', "30")
        page.click("#save-read")
        page.fill("#username", username)  # the first signature of the session: both
        page.fill("#password", PASSWORD)
        page.click("#lock-read")
        expect(page.locator("#locked")).to_be_visible()
        for index, (t1, t2) in enumerate(follow_ups, start=1):
            page.click("text=Back to the worklist")
            page.locator("#worklist tbody tr").nth(index).locator("a").click()
            page.fill('[aria-label="T1 diameter"]', str(t1))
            page.fill('[aria-label="T2 diameter"]', str(t2))
            page.click("#save-read")
            page.fill("#password", PASSWORD)
            page.click("#lock-read")
            expect(page.locator("#locked")).to_be_visible()
        log_out(page)

    read_case("rad-one", [(30, 15), (40, 30)])  # 45 (PR), then 70 (PD over the nadir 45)
    read_case("rad-two", [(30, 15), (32, 16)])  # 45 (PR), then 48 (still PR)

    log_in(page, "adjudicator")
    page.click("nav >> text=Adjudication")
    page.locator("#cases a").first.click()
    expect(page.locator("#disagreements")).to_contain_text("PD vs PR")
    expect(page.locator("main")).not_to_contain_text(patient.study_id)
    page.select_option("#accepted_slot", "1")
    page.fill("#reason", "Reader 1 measured T1 on the portal phase as the protocol asks")
    page.click("text=Accept this series")
    expect(page.locator("#cases")).to_contain_text("No discordant case")
    log_out(page)

    log_in(page, "coordinator")
    page.goto(f"/patients/{patient.study_id}/")
    expect(page.locator("#imaging-status")).to_have_text("adjudicated")
    expect(
        page.locator("#accepted-responses " + '.series[data-criterion="mrecist"] .overall')
    ).to_have_text(["PR", "PD"])
    expect(
        page.locator("#accepted-responses " + '.series[data-criterion="irecist"] .overall')
    ).to_have_text(["iPR", "iUPD"])


def test_adverse_event_by_term_and_grade_and_the_overdue_sae_list(page, randomized):
    patient = randomized("RP", days_ago=1)
    log_in(page, "coordinator")
    page.goto(f"/patients/{patient.study_id}/")
    page.click("text=Record an adverse event")
    page.fill("#term-search", "fatig")
    page.locator(".term-option", has_text="Fatigue").first.click()
    # CTCAE v5.0 defines grades 1-3 for fatigue: only those are offered, with their definitions
    expect(page.locator("input[name=grade]")).to_have_count(3)
    expect(page.locator("#grade-options")).to_contain_text("Grade 3: Fatigue not relieved by rest")
    page.fill("#term-search", "10012727")  # by MedDRA code
    page.locator(".term-option", has_text="Diarrhea").first.click()
    expect(page.locator("input[name=grade]")).to_have_count(5)
    page.check("input[name=grade][value='3']")
    page.fill("#id_onset", str(timezone.localdate() - timedelta(days=2)))
    page.check("input[name=serious_criteria][value=hospitalization]")
    aware = timezone.localtime() - timedelta(hours=30)
    page.fill("#id_awareness_at", aware.strftime("%Y-%m-%dT%H:%M"))
    page.click("text=Save adverse event")
    expect(page.locator(".alert-success")).to_contain_text("Diarrhea grade 3")
    row = page.locator("#adverse-events tbody tr").first
    expect(row).to_contain_text("Diarrhea")
    expect(row).to_contain_text("SAE")
    page.goto("/")
    expect(page.locator("#overdue-saes")).to_contain_text(f"{patient.study_id}: Diarrhea grade 3")
    page.click(f"text={patient.study_id}: Diarrhea grade 3")
    expect(page.locator("#sae-clock")).to_contain_text("overdue")


def test_crs_on_one_vasopressor_is_graded_3_by_astct(page, randomized):
    patient = randomized("RPI", days_ago=2)
    log_in(page, "coordinator")
    page.goto(f"/patients/{patient.study_id}/adverse-events/new/")
    expect(page.locator("#astct-crs")).to_be_hidden()
    page.fill("#term-search", "cytokine")
    page.locator(".term-option", has_text="Cytokine release syndrome").first.click()
    expect(page.locator("#astct-crs")).to_be_visible()  # the ASTCT inputs, not a typed grade
    expect(page.locator("#astct-icans")).to_be_hidden()
    expect(page.locator("input[name=grade][value='3']")).to_be_hidden()  # computed
    expect(page.locator("input[name=grade][value='5']")).to_be_visible()  # a death: by hand
    page.fill("#id_astct_max_temperature_c", "39.4")
    page.select_option("#id_astct_hypotension", "one_vasopressor")
    page.fill("#id_onset", str(timezone.localdate() - timedelta(days=1)))
    page.click("text=Save adverse event")
    expect(page.locator(".alert-success")).to_contain_text("Cytokine release syndrome grade 3")
    row = page.locator("#adverse-events tbody tr").first
    expect(row).to_contain_text("3 (ASTCT)")
    row.locator("a").first.click()
    expect(page.locator("#event-grade")).to_have_text("3")
    expect(page.locator("#astct-grade")).to_contain_text("CRS grade 3")
    expect(page.locator("#astct-inputs")).to_contain_text("Requiring one vasopressor")


def test_questionnaire_with_blank_items_shows_the_right_scores(page, randomized):
    patient = randomized("RP", days_ago=1)
    log_in(page, "coordinator")
    page.goto(f"/patients/{patient.study_id}/")
    page.click("text=Record a questionnaire")
    page.select_option("#id_visit", "baseline")
    page.fill("#id_completed_on", str(timezone.localdate() - timedelta(days=1)))
    for item in (1, 2, 3):  # physical functioning: 3 of its 5 items, the others blank
        page.check(f"input[name=item_{item}][value='2']")
    page.check("input[name=item_29][value='6']")  # global health: item 30 left blank
    page.check("input[name=item_9][value='4']")  # pain: item 19 left blank
    page.click("text=Save and score")
    expect(page.locator(".alert-success")).to_contain_text("scored")
    score = lambda code: page.locator(f"#scores [data-scale={code}] .score")  # noqa: E731
    # Worked by hand from the spec: PF2 = 100 x (1 - (2-1)/3) = 66.7; QL2 = 100 x (6-1)/6 = 83.3;
    # PA = 100 x (4-1)/3 = 100; RF2 has no answered item; the summary needs all 13 scales.
    expect(score("PF2")).to_have_text("66.7")
    expect(score("QL2")).to_have_text("83.3")
    expect(score("PA")).to_have_text("100.0")
    expect(score("RF2")).to_have_text("missing")
    expect(score("SUM")).to_have_text("missing")
    page.goto(f"/patients/{patient.study_id}/")
    expect(page.locator("#qol-scores [data-scale=PF2]")).to_contain_text("66.7")


def test_investigator_starts_an_endpoint_run_and_sees_the_kaplan_meier_plot(page, trial_users):
    from outcomes import synthetic

    synthetic.generate(seed=5, patients=10)
    log_in(page, "investigator")
    page.click("nav >> text=Endpoints")
    page.click("text=Start a run")
    expect(page.locator(".alert-success")).to_contain_text("started")
    expect(page.locator("#run-state")).to_have_attribute("data-state", "done")
    plot = page.locator("#km-plot")
    expect(plot).to_be_visible()
    page.wait_for_function("document.getElementById('km-plot').naturalWidth > 300")
    expect(page.locator("#survival-table [data-param=OS]")).to_contain_text("/ ")
    page.select_option("#param", "OS")
    expect(page.locator("h2").first).to_contain_text("Overall survival")
    page.wait_for_function("document.getElementById('km-plot').naturalWidth > 300")
    svg = page.request.get(page.locator("text=SVG").get_attribute("href"))
    assert svg.ok and svg.headers["content-type"] == "image/svg+xml"
    assert b"Number at risk" in svg.body()
    page.click("nav >> text=CONSORT")
    expect(page.locator("#consort")).to_contain_text("Randomized (n = 10)")


def test_every_correction_form_shows_its_stored_dates_and_saves_them_again(
    page, randomized, coordinator
):
    """The date pickers read ISO dates only: each correction form shows the stored date (not
    an empty field) and saves with a reason without retyping it."""
    from assessments import services as quality_of_life
    from outcomes import services as follow_up
    from safety import services as safety
    from safety.models import CtcaeTerm

    patient = randomized("RP", days_ago=3)
    today = timezone.localdate()
    onset, contact, completed = (today - timedelta(days=d) for d in (1, 2, 3))
    event = safety.ae_record(
        patient=patient,
        by=coordinator,
        term=CtcaeTerm.objects.get(term="Fatigue"),
        grade=1,
        onset=onset,
    )
    questionnaire = quality_of_life.questionnaire_record(
        patient=patient, by=coordinator, visit="baseline", completed_on=completed, answers={"29": 5}
    )
    record = follow_up.followup_record(
        patient=patient, by=coordinator, kind="contact", date=contact
    )
    log_in(page, "coordinator")
    for url, field, stored, saved in (
        (f"/adverse-events/{event.pk}/edit/", "#id_onset", onset, "Adverse event corrected"),
        (
            f"/questionnaires/{questionnaire.pk}/edit/",
            "#id_completed_on",
            completed,
            "Questionnaire corrected",
        ),
        (f"/follow-up/{record.pk}/edit/", "#id_date", contact, "Follow-up record corrected"),
    ):
        page.goto(url)
        expect(page.locator(field)).to_have_value(stored.isoformat())
        page.fill("#id_reason", "Checked against the source document")
        page.locator("form button[type=submit], form input[type=submit]").last.click()
        expect(page.locator(".alert-success")).to_contain_text(saved)


def test_the_navigation_fits_one_line_at_1366_px_with_a_favicon(page, make_user):
    """The role with the most entries (the data manager) at a common laptop width."""
    from accounts import roles

    make_user(roles.DATA_MANAGER, is_staff=True)
    page.set_viewport_size({"width": 1366, "height": 800})
    log_in(page, roles.DATA_MANAGER)
    tops = page.eval_on_selector_all(
        "nav .nav-link, #whoami, nav form .btn",
        "els => els.map(e => e.getBoundingClientRect()).map(r => r.top + r.height / 2)",
    )
    assert max(tops) - min(tops) < 12, tops  # every entry on one line (centres level)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    assert page.locator("nav form .btn").bounding_box()["height"] < 40  # "Log out" on one line
    icon = page.get_attribute("link[rel=icon]", "href")
    assert page.request.get(icon).status == 200
    assert page.request.get("/favicon.ico").status == 200  # the redirect followed


def test_enter_and_the_arrow_keys_choose_a_ctcae_term_without_submitting(page, randomized):
    patient = randomized("RP", days_ago=1)
    log_in(page, "coordinator")
    page.goto(f"/patients/{patient.study_id}/adverse-events/new/")
    page.fill("#term-search", "fatig")
    expect(page.locator(".term-option").first).to_be_visible()
    page.press("#term-search", "Enter")  # no highlight: the first suggestion
    expect(page.locator("#term-chosen")).to_contain_text("Fatigue")
    expect(page).to_have_url(re.compile(r"/adverse-events/new/$"))  # the form was not sent
    assert not page.locator(".alert-success").count()
    page.fill("#term-search", "pain")
    expect(page.locator(".term-option").first).to_be_visible()
    second = page.locator(".term-option").nth(1).locator("strong").inner_text()
    page.press("#term-search", "ArrowDown")
    page.press("#term-search", "ArrowDown")
    page.press("#term-search", "Enter")
    expect(page.locator("#term-chosen")).to_contain_text(second)


def test_a_signed_screening_is_reopened_corrected_and_signed_again(page, randomized, data_manager):
    patient = randomized("RPI")
    screening = patient.screening
    log_in(page, "investigator")
    page.goto(f"/screenings/{screening.pk}/")
    expect(page.locator("#signature")).to_contain_text("Signed by Investigator Tester")
    page.click("#reopen")
    page.fill("#id_reason", "The referral letter mentions a liver transplant")
    page.click("text=Reopen for correction")
    expect(page.locator("#reopened")).to_contain_text("The referral letter mentions")
    log_out(page)

    log_in(page, "coordinator")
    page.goto(f"/screenings/{screening.pk}/")
    page.click("#edit-screening")
    page.check("input[name=transplant][value=True]")
    page.fill("#id_reason", "Liver transplant in 2019, per the referral letter")
    page.click("text=Save screening")
    expect(page.locator("#status")).to_have_text("Reopened for correction")
    log_out(page)

    log_in(page, "investigator")
    page.goto(f"/screenings/{screening.pk}/")
    page.click("#resign")
    expect(page.locator("#meaning")).to_contain_text("eligibility violation")
    page.check("#id_agree")
    page.fill("#id_username", "investigator")
    page.fill("#id_password", PASSWORD)
    page.click("text=Sign and confirm eligibility")
    expect(page.locator("#eligibility-violation")).to_contain_text("organ allograft")
    page.goto(f"/screenings/{screening.pk}/")
    expect(page.locator("#status")).to_have_text("Enrolled, eligibility violation")
    page.click("text=History")
    reasons = page.locator("#history .reason")
    expect(reasons.first).to_have_text("Signed again after the correction")
    expect(page.locator("#history")).to_contain_text("Reopened (signed by Investigator Tester")
    log_out(page)

    log_in(page, data_manager.username)
    page.goto("/outcomes/deviations/")
    row = page.locator("#deviations tbody tr").first
    expect(row).to_contain_text(patient.study_id)
    expect(row).to_contain_text("major")
    page.goto("/outcomes/consort/")
    expect(page.locator("#consort")).to_contain_text("eligibility violation: 1")


def test_withdrawal_of_consent_stops_the_records_after_it(page, randomized):
    patient = randomized(
        "RP",
        days_ago=30,
        consent_date=timezone.localdate() - timedelta(days=40),
        screening_date=timezone.localdate() - timedelta(days=39),
        prior_progression_date=timezone.localdate() - timedelta(days=50),
    )
    withdrawn = timezone.localdate() - timedelta(days=5)
    log_in(page, "coordinator")
    page.goto(f"/patients/{patient.study_id}/")
    expect(page.locator("#course-state")).to_have_text("On treatment")
    page.click("text=Record a status change")
    page.select_option("#id_kind", "withdrawal_all")
    page.fill("#id_date", str(withdrawn))
    page.fill("#id_details", "Patient asked for no further data collection")
    page.click("text=Save status change")
    expect(page.locator("#course-state")).to_have_text("Off study")
    expect(page.locator("#status-changes")).to_contain_text(
        "Withdrawal of consent to all further data"
    )
    page.click("text=Add a follow-up record")
    page.fill("#id_date", str(withdrawn + timedelta(days=2)))
    page.click("text=Save follow-up record")
    expect(page.locator("main form")).to_contain_text("Consent to all further data was withdrawn")
    page.goto(f"/patients/{patient.study_id}/")
    page.click("text=Record an adverse event")
    page.fill("#term-search", "fatig")
    page.locator(".term-option", has_text="Fatigue").first.click()
    page.check("input[name=grade][value='1']")
    page.fill("#id_onset", str(withdrawn + timedelta(days=1)))
    page.click("text=Save adverse event")
    expect(page.locator("main form")).to_contain_text("Consent to all further data was withdrawn")


def test_a_data_query_is_raised_answered_with_a_correction_closed_verified_and_locked(
    page, randomized, coordinator, data_manager, make_user
):
    from accounts import roles
    from safety import services as safety_services
    from safety.models import CtcaeTerm

    patient = randomized(
        "RP",
        days_ago=20,
        consent_date=timezone.localdate() - timedelta(days=30),
        screening_date=timezone.localdate() - timedelta(days=29),
    )
    event = safety_services.ae_record(
        patient=patient,
        by=coordinator,
        term=CtcaeTerm.objects.get(term="Fatigue"),
        grade=2,
        onset=timezone.localdate() - timedelta(days=10),
    )
    log_in(page, data_manager.username)
    page.goto(f"/adverse-events/{event.pk}/history/")
    page.click("#raise-query")
    page.select_option("#id_field", "grade")
    page.fill("#id_question", "The clinic note says grade 1")
    page.click("text=Raise the query")
    expect(page.locator("#query-state")).to_have_text("Open")
    log_out(page)

    log_in(page, "coordinator")
    expect(page.locator("#open-queries")).to_contain_text("The clinic note says grade 1")
    page.goto(f"/patients/{patient.study_id}/")
    page.click("#patient-queries >> text=Q-0001")
    expect(page.locator("#query-value")).to_have_text("2")
    page.fill("#id_answer", "Grade 1, as the clinic note says")
    page.check("#id_correct")
    page.fill("#id_value", "1")
    page.click("#answer-form input[type=submit]")
    expect(page.locator("#query-state")).to_have_text("Answered")
    expect(page.locator("#query-value")).to_have_text("1")
    page.goto(f"/adverse-events/{event.pk}/history/")
    expect(page.locator("#history .reason").first).to_have_text(
        "Query Q-0001: Grade 1, as the clinic note says"
    )
    log_out(page)

    log_in(page, data_manager.username)
    page.goto("/queries/?state=answered")
    page.click("#queries >> text=Q-0001")
    page.click("#close-query")
    expect(page.locator("#query-state")).to_have_text("Closed")
    log_out(page)

    # the monitor verifies the corrected record against the source; a later change undoes it
    make_user(roles.MONITOR, "monitor")
    log_in(page, "monitor")
    page.goto(f"/adverse-events/{event.pk}/history/")
    page.click("#verify-record")
    expect(page.locator("#sdv-state")).to_have_text("Verified")
    safety_services.ae_correct(
        event=event,
        by=coordinator,
        reason="Resolved per the clinic",
        resolution=timezone.localdate(),
    )
    page.reload()
    expect(page.locator("#sdv-state")).to_have_text("Changed since verified")
    log_out(page)

    # the data manager locks the patient's data; a change is then refused with the reason
    log_in(page, data_manager.username)
    page.goto(f"/patients/{patient.study_id}/")
    page.click("#patient-lock >> text=Lock this patient's data")
    expect(page.locator("#id_study_id")).to_have_value(patient.study_id)
    page.fill("#id_cutoff", timezone.localdate().isoformat())
    page.fill("#id_reason", "Interim analysis: cleaned and verified")
    page.click("#lock-form input[type=submit]")
    expect(page.locator("#locks")).to_contain_text("L-0001")
    page.goto(f"/patients/{patient.study_id}/")
    expect(page.locator("#patient-lock")).to_contain_text("Locked")
    log_out(page)

    log_in(page, "coordinator")
    page.goto(f"/adverse-events/{event.pk}/edit/")
    page.fill("#id_reason", "Late information")
    page.fill("#id_resolution", (timezone.localdate() - timedelta(days=1)).isoformat())
    page.click("#ae-form [type=submit]")
    expect(page.locator(".alert-danger")).to_contain_text("locked (database lock L-0001)")


def test_a_deviation_is_recorded_reviewed_and_listed_for_the_ethics_committee(page, randomized):
    today = timezone.localdate()
    patient = randomized(
        "RP",
        days_ago=10,
        consent_date=today - timedelta(days=20),
        screening_date=today - timedelta(days=19),
        prior_progression_date=today - timedelta(days=30),
    )
    occurred, reported = timezone.localdate() - timedelta(days=3), timezone.localdate()
    log_in(page, "coordinator")
    page.goto(f"/patients/{patient.study_id}/")
    page.click("text=Record a protocol deviation")
    page.fill("#id_occurred_on", str(occurred))
    page.fill("#id_identified_on", str(occurred + timedelta(days=1)))
    page.select_option("#id_category", "concomitant")
    page.fill("#id_description", "Took a herbal remedy the protocol excludes")
    page.check("input[name=classification][value=major]")
    page.click("text=Save the deviation")
    expect(page.locator("#deviation-classification")).to_contain_text("proposed by the recorder")
    expect(page.locator("#review-deviation")).to_have_count(0)
    log_out(page)

    log_in(page, "investigator")
    page.goto(f"/patients/{patient.study_id}/")
    page.click("#patient-deviations >> text=DV-0001 >> xpath=ancestor::tr//a")
    page.click("#review-deviation")
    page.fill("#id_corrective_action", "Remedy stopped; patient counselled")
    page.fill("#id_reported_to_ec_on", str(reported))
    page.click("text=Save the review")
    expect(page.locator("#deviation-classification")).to_contain_text("classified by")
    page.goto("/deviations/ethics-committee/")
    row = page.locator("#ec-major tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(patient.study_id)
    expect(row).to_contain_text("Remedy stopped")
    expect(row).not_to_contain_text("not reported")
