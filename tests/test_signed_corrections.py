"""Correcting a signed screening (ICH E6(R3), 21 CFR 11.10(e)): reopened by the investigator or
the data manager with a reason, corrected by the coordinator with a reason, signed again; the
first signature, the reopening and the new one stay in the audit trail. A correction that makes
a randomized patient ineligible records an eligibility violation, listed with the deviations and
counted in the CONSORT flow. Signatures per 21 CFR 11.200: user name and password at the first
signing of a session, the password alone afterwards; the API gives both every time."""

import pytest

from conftest import PASSWORD
from datamanagement import deviation_selectors
from enrollment import services
from enrollment.models import EligibilityViolation, Screening
from inkt_trial.audit import history_of
from inkt_trial.errors import DomainError
from outcomes import selectors

pytestmark = pytest.mark.django_db


def reopen(screening, by, reason="Transplant history found in the referral letter"):
    return services.screening_reopen(screening=screening, by=by, reason=reason)


def test_reopen_correct_and_sign_again_with_an_eligibility_violation(
    randomized, coordinator, investigator, data_manager, statistician
):
    patient = randomized("RPI")
    screening = patient.screening
    first_meaning = screening.signature_meaning
    with pytest.raises(DomainError, match="locked"):
        services.screening_update(
            screening=screening, values={"transplant": True}, by=coordinator, reason="Typo"
        )
    with pytest.raises(DomainError, match="Only the investigator or the data manager"):
        reopen(screening, coordinator)
    with pytest.raises(DomainError, match="Say why"):
        reopen(screening, investigator, reason=" ")
    screening = reopen(screening, investigator)
    assert screening.is_reopened and not screening.is_confirmed
    with pytest.raises(DomainError, match="already reopened"):
        reopen(screening, data_manager)
    corrected = services.screening_update(
        screening=screening,
        values={"transplant": True},
        by=coordinator,
        reason="Liver transplant in 2019 (referral letter)",
    )
    assert corrected.outcome == "screen_failure"
    violation = EligibilityViolation.objects.get(patient=patient)
    assert violation.failed_criteria == ["transplant"] and violation.resolved_on is None
    assert corrected.status == "Reopened for correction"
    meaning = services.signature_meaning(corrected, investigator)
    assert "does not meet" in meaning and "eligibility violation" in meaning
    services.screening_confirm(
        screening=corrected, by=investigator, password=PASSWORD, version=corrected.version
    )
    signed = Screening.objects.get(pk=screening.pk)
    assert signed.is_confirmed and not signed.is_reopened
    assert signed.signature_meaning == meaning
    assert signed.signature_name == investigator.get_full_name()
    assert signed.status == "Enrolled, eligibility violation"
    trail = history_of(signed)
    reasons = [row["reason"] for row in trail]
    assert "Signed again after the correction" in reasons
    assert any(r.startswith("Reopened (signed by") for r in reasons)
    assert "Liver transplant in 2019 (referral letter)" in reasons
    meanings = {
        v.signature_meaning for v in signed.history.all() if v.signature_meaning
    }  # the first signature and the new one
    assert {first_meaning, meaning} <= meanings
    # the deviation list and the CONSORT flow
    rows = deviation_selectors.log()
    assert [(e.study_id, e.rule, e.classification) for e in rows] == [
        (patient.study_id, "eligibility", "major")
    ]
    flow = selectors.consort_flow(data_manager)
    assert flow["enrolled_ineligible"] == 1
    assert flow["excluded"] == 0  # enrolled and randomized: not an exclusion
    assert sum(arm["eligibility_violations"] for _, arm in flow["arms"]) == 1
    # a second correction that makes the patient eligible again resolves the violation
    reopen(signed, data_manager, reason="The transplant was of a kidney, not the liver")
    services.screening_update(
        screening=signed,
        values={"transplant": False},
        by=coordinator,
        reason="Kidney transplant: not an exclusion",
    )
    violation.refresh_from_db()
    assert violation.resolved_on is not None
    assert "Kidney transplant" in violation.resolution


def test_a_reopened_screening_of_a_patient_not_randomized_is_not_a_violation(
    enrol, coordinator, investigator
):
    patient = enrol()
    screening = reopen(patient.screening, investigator)
    services.screening_update(
        screening=screening, values={"transplant": True}, by=coordinator, reason="Found"
    )
    assert not EligibilityViolation.objects.exists()
    with pytest.raises(DomainError, match="not randomized"):
        services.screening_confirm(
            screening=Screening.objects.get(pk=screening.pk),
            by=investigator,
            password=PASSWORD,
            version=Screening.objects.get(pk=screening.pk).version,
        )


def test_the_first_signature_of_a_session_needs_the_user_name(
    client_as, coordinator, investigator, values, make_user
):
    first = services.screening_create(values=values(), by=coordinator)
    second = services.screening_create(values=values(), by=coordinator)
    browser = client_as(investigator)
    page = browser.get(f"/screenings/{first.pk}/confirm/").content.decode()
    assert 'name="username"' in page
    refused = browser.post(
        f"/screenings/{first.pk}/confirm/",
        {"version": first.version, "agree": "on", "password": PASSWORD},
    )
    assert refused.status_code == 200
    assert "the first signature of a session needs both" in refused.content.decode()
    other = make_user(None, username="someone-else")
    wrong = browser.post(
        f"/screenings/{first.pk}/confirm/",
        {"version": first.version, "agree": "on", "password": PASSWORD, "username": other},
    )
    assert "not your user name" in wrong.content.decode()
    signed = browser.post(
        f"/screenings/{first.pk}/confirm/",
        {
            "version": first.version,
            "agree": "on",
            "password": PASSWORD,
            "username": investigator.username,
        },
    )
    assert signed.status_code == 302
    # later in the same session: the password alone
    page = browser.get(f"/screenings/{second.pk}/confirm/").content.decode()
    assert 'name="username"' not in page
    again = browser.post(
        f"/screenings/{second.pk}/confirm/",
        {"version": second.version, "agree": "on", "password": PASSWORD},
    )
    assert again.status_code == 302
    assert Screening.objects.get(pk=second.pk).is_confirmed
    # a new session starts over
    browser.logout()
    third = services.screening_create(values=values(), by=coordinator)
    page = client_as(investigator).get(f"/screenings/{third.pk}/confirm/").content.decode()
    assert 'name="username"' in page


def test_the_api_signs_with_both_components_and_reopens(
    api_as, coordinator, investigator, values, randomized
):
    screening = services.screening_create(values=values(), by=coordinator)
    api = api_as(investigator)
    url = f"/api/screenings/{screening.pk}/confirm/"
    missing = api.post(url, {"version": screening.version, "password": PASSWORD}, format="json")
    assert missing.status_code == 400 and "username" in missing.json()
    done = api.post(
        url,
        {"version": screening.version, "password": PASSWORD, "username": investigator.username},
        format="json",
    )
    assert done.status_code == 201
    body = api.get(f"/api/screenings/{screening.pk}/").json()
    assert body["signature_name"] == investigator.get_full_name()
    assert body["confirmed_at"] and body["signature_meaning"].startswith("I, ")
    patient = randomized("RP")
    refused = api_as(coordinator).post(
        f"/api/screenings/{patient.screening.pk}/reopen/", {"reason": "x"}, format="json"
    )
    assert refused.status_code == 403
    opened = api.post(
        f"/api/screenings/{patient.screening.pk}/reopen/",
        {"reason": "Wrong creatinine unit"},
        format="json",
    )
    assert opened.status_code == 200
    assert opened.json()["status"] == "Reopened for correction"
    assert opened.json()["reopened_by"] == investigator.username
