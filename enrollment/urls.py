from django.urls import path

from enrollment import views
from enrollment.models import (
    ConcomitantMedication,
    MedicalHistory,
    Patient,
    Screening,
    StatusChange,
    TreatmentEnd,
)
from inkt_trial.views import HistoryView

app_name = "enrollment"

urlpatterns = [
    path("screenings/", views.ScreeningListView.as_view(), name="screening_list"),
    path("screenings/new/", views.ScreeningFormView.as_view(), name="screening_create"),
    path("screenings/<int:pk>/", views.ScreeningDetailView.as_view(), name="screening_detail"),
    path("screenings/<int:pk>/edit/", views.ScreeningUpdateView.as_view(), name="screening_update"),
    path(
        "screenings/<int:pk>/confirm/",
        views.ScreeningConfirmView.as_view(),
        name="screening_confirm",
    ),
    path(
        "screenings/<int:pk>/reopen/",
        views.ScreeningReopenView.as_view(),
        name="screening_reopen",
    ),
    path(
        "screenings/<int:pk>/history/",
        HistoryView.as_view(model=Screening),
        name="screening_history",
    ),
    path("patients/", views.PatientListView.as_view(), name="patient_list"),
    path("patients/<str:study_id>/", views.PatientDetailView.as_view(), name="patient_detail"),
    path(
        "patients/<str:study_id>/status/new/",
        views.StatusChangeCreateView.as_view(),
        name="status_change",
    ),
    path(
        "patients/<str:study_id>/treatment-ends/new/",
        views.TreatmentEndCreateView.as_view(),
        name="treatment_end",
    ),
    path(
        "status-changes/<int:pk>/edit/",
        views.StatusChangeEditView.as_view(),
        name="status_change_edit",
    ),
    path(
        "status-changes/<int:pk>/history/",
        HistoryView.as_view(model=StatusChange),
        name="status_change_history",
    ),
    path(
        "treatment-ends/<int:pk>/edit/",
        views.TreatmentEndEditView.as_view(),
        name="treatment_end_edit",
    ),
    path(
        "treatment-ends/<int:pk>/history/",
        HistoryView.as_view(model=TreatmentEnd),
        name="treatment_end_history",
    ),
    path(
        "patients/<str:study_id>/history/",
        HistoryView.as_view(model=Patient, lookup="study_id"),
        name="patient_history",
    ),
    path(
        "screenings/<int:pk>/medications/new/",
        views.MedicationCreateView.as_view(),
        name="medication_create",
    ),
    path("medications/<int:pk>/edit/", views.MedicationEditView.as_view(), name="medication_edit"),
    path("medications/<int:pk>/stop/", views.MedicationStopView.as_view(), name="medication_stop"),
    path(
        "medications/<int:pk>/history/",
        HistoryView.as_view(model=ConcomitantMedication),
        name="medication_history",
    ),
    path(
        "screenings/<int:pk>/medical-history/new/",
        views.MedicalHistoryCreateView.as_view(),
        name="medical_history_create",
    ),
    path(
        "medical-history/<int:pk>/edit/",
        views.MedicalHistoryEditView.as_view(),
        name="medical_history_edit",
    ),
    path(
        "medical-history/<int:pk>/history/",
        HistoryView.as_view(model=MedicalHistory),
        name="medical_history_history",
    ),
]
