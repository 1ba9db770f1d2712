"""The pages of the medical history and medications: the panel on the patient's and the
screening's page with the warnings, the forms to record and correct, who sees what."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from enrollment.models import ConcomitantMedication, MedicalHistory

pytestmark = pytest.mark.django_db


def form(**changes):
    return {
        "name": "Clarithromycin",
        "indication": "Community-acquired pneumonia",
        "dose": "500",
        "dose_unit": "mg",
        "route": "oral",
        "frequency": "BID",
        "start_date": (timezone.localdate() - timedelta(days=1)).isoformat(),
        "ongoing": "on",
        "atc_code": "",
        **changes,
    }


def test_a_recorded_inhibitor_shows_its_warning_on_the_patient_page(client_as, coordinator, enrol):
    patient = enrol()
    client = client_as(coordinator)
    url = reverse("enrollment:medication_create", args=[patient.screening_id])
    response = client.post(url, form())
    assert response.status_code == 302
    assert response["Location"] == reverse("enrollment:patient_detail", args=[patient.study_id])
    page = client.get(response["Location"]).content.decode()
    assert 'id="medications-panel"' in page
    assert "strong CYP3A4 inhibitor" in page and "Stivarga" in page


def test_refusals_go_back_on_the_form(client_as, coordinator, eligible_screening):
    client = client_as(coordinator)
    url = reverse("enrollment:medication_create", args=[eligible_screening.pk])
    response = client.post(url, form(ongoing="", atc_code="J1"))
    assert response.status_code == 200
    assert "Give the stop date" in response.content.decode()
    assert ConcomitantMedication.objects.count() == 0


def test_history_at_screening_and_its_correction_with_a_reason(
    client_as, coordinator, investigator, eligible_screening
):
    url = reverse("enrollment:medical_history_create", args=[eligible_screening.pk])
    response = client_as(coordinator).post(
        url, {"condition": "Chronic hepatitis B", "start": "2010-04", "ongoing": "on"}
    )
    assert response["Location"] == reverse(
        "enrollment:screening_detail", args=[eligible_screening.pk]
    )
    page = client_as(coordinator).get(response["Location"]).content.decode()
    assert "Chronic hepatitis B" in page and "nucleos(t)ide" in page
    entry = MedicalHistory.objects.get()
    edit = reverse("enrollment:medical_history_edit", args=[entry.pk])
    client = client_as(investigator)
    missing = client.post(edit, {"condition": "Chronic hepatitis B", "start": "2010"})
    assert missing.status_code == 200  # the reason is required
    done = client.post(
        edit, {"condition": "Chronic hepatitis B", "start": "2010", "correction_reason": "Per GP"}
    )
    assert done.status_code == 302
    trail = client.get(reverse("enrollment:medical_history_history", args=[entry.pk]))
    assert "Per GP" in trail.content.decode()


@pytest.mark.parametrize(
    "role, sees, adds",
    [
        (roles.DATA_MANAGER, True, False),
        (roles.MONITOR, True, False),
        (roles.INVESTIGATOR, True, True),
    ],
)
def test_who_sees_the_panel_and_who_adds(client_as, make_user, enrol, role, sees, adds):
    patient = enrol()
    user = make_user(role, username=f"u-{role}")
    page = client_as(user).get(reverse("enrollment:patient_detail", args=[patient.study_id]))
    text = page.content.decode()
    assert ('id="medications-panel"' in text) is sees
    assert ('id="add-medication"' in text) is adds


@pytest.mark.parametrize("role", [roles.RADIOLOGIST, roles.ADJUDICATOR])
def test_blinded_readers_reach_none_of_it(client_as, make_user, eligible_screening, role):
    client = client_as(make_user(role, username=f"u-{role}"))
    for name in ("enrollment:medication_create", "enrollment:medical_history_create"):
        assert client.get(reverse(name, args=[eligible_screening.pk])).status_code == 403


def test_an_ongoing_medication_is_stopped_from_the_page(client_as, coordinator, enrol):
    patient = enrol()
    client = client_as(coordinator)
    client.post(reverse("enrollment:medication_create", args=[patient.screening_id]), form())
    medication = ConcomitantMedication.objects.get()
    url = reverse("enrollment:medication_stop", args=[medication.pk])
    assert (
        url
        in client.get(
            reverse("enrollment:patient_detail", args=[patient.study_id])
        ).content.decode()
    )
    before_start = (timezone.localdate() - timedelta(days=3)).isoformat()
    assert client.post(url, {"stop_date": before_start}).status_code == 200  # refused
    today = timezone.localdate().isoformat()
    assert client.post(url, {"stop_date": today, "reason": "Course completed"}).status_code == 302
    medication.refresh_from_db()
    assert (medication.ongoing, medication.stop_date.isoformat()) == (False, today)
    assert medication.history.order_by("-history_id").first().history_change_reason == (
        "Stopped: Course completed"
    )
