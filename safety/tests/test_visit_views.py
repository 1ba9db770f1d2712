"""The pages: enter a visit with labs, see the grades and the proposed event on the patient
page, accept or dismiss it, correct the visit with a reason."""

from datetime import timedelta

import pytest
from django.utils import timezone

from safety import visits
from safety.models import AdverseEvent, ClinicalVisit, ProposedAdverseEvent

pytestmark = pytest.mark.django_db


def days_ago(n):
    return timezone.localdate() - timedelta(days=n)


@pytest.fixture
def rp(randomized):
    return randomized("RP", days_ago=20, consent_date=days_ago(30))


def form(**values):
    data = {"visit_date": days_ago(5).isoformat(), "kind": "week", "number": "2", "ecog": "1"}
    data.update({"ascites": "none", "encephalopathy": "none"})
    for code in ("alt", "bilirubin", "albumin", "inr", "afp"):
        data[f"{code}_unit"] = {"bilirubin": "umol/L", "albumin": "g/L", "inr": "ratio"}.get(
            code, "U/L" if code == "alt" else "ng/mL"
        )
    data.update(values)
    return data


def test_the_coordinator_enters_a_visit_and_sees_the_proposal(client_as, coordinator, rp):
    client = client_as(coordinator)
    page = client.get(f"/patients/{rp.study_id}/visits/new/")
    assert page.status_code == 200 and b"Laboratory values" in page.content
    response = client.post(
        f"/patients/{rp.study_id}/visits/new/",
        form(alt_value="240", bilirubin_value="15", albumin_value="38", inr_value="1.1"),
        follow=True,
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "Adverse event proposed: Alanine aminotransferase increased grade 3" in text
    assert "Child-Pugh" in text and "ALBI" in text and 'class="grade">3<' in text
    proposal = ProposedAdverseEvent.objects.get()
    response = client.post(f"/proposed-adverse-events/{proposal.pk}/accept/", follow=True)
    event = AdverseEvent.objects.get()
    assert response.redirect_chain[-1][0] == f"/adverse-events/{event.pk}/"
    assert client.get(f"/proposed-adverse-events/{proposal.pk}/accept/").status_code == 405


def test_form_refusals_go_back_on_the_form(client_as, coordinator, rp):
    client = client_as(coordinator)
    response = client.post(
        f"/patients/{rp.study_id}/visits/new/",
        form(alt_value="-4", spo2_percent="120", systolic_bp_mmhg="90", diastolic_bp_mmhg="100"),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"alt_value", "spo2_percent", "diastolic_bp_mmhg"} <= set(errors)
    assert not ClinicalVisit.objects.exists()


def test_dismiss_and_correct_through_the_pages(client_as, coordinator, rp):
    client = client_as(coordinator)
    client.post(f"/patients/{rp.study_id}/visits/new/", form(alt_value="240"))
    visit = ClinicalVisit.objects.get()
    proposal = ProposedAdverseEvent.objects.get()
    response = client.post(f"/proposed-adverse-events/{proposal.pk}/dismiss/", {"reason": ""})
    assert response.status_code == 200 and response.context["form"].errors
    client.post(f"/proposed-adverse-events/{proposal.pk}/dismiss/", {"reason": "Artefact"})
    assert ProposedAdverseEvent.objects.get().state == "dismissed"
    page = client.get(f"/visits/{visit.pk}/edit/")
    assert page.status_code == 200 and page.context["form"]["alt_value"].value() == 240
    response = client.post(f"/visits/{visit.pk}/edit/", form(alt_value="", reason="x"))
    assert "corrected, not removed" in str(response.context["form"].errors)
    response = client.post(f"/visits/{visit.pk}/edit/", form(alt_value="40", reason="Typo"))
    assert response.status_code == 302
    assert visits.patient_visits(rp, coordinator)[0].labs[0].grade == 0
    history = client.get(f"/visits/{visit.pk}/history/")
    assert history.status_code == 200
