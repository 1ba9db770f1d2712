from django.urls import path

from enrollment import views
from enrollment.models import Patient, Screening

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
        "screenings/<int:pk>/history/",
        views.HistoryView.as_view(model=Screening),
        name="screening_history",
    ),
    path("patients/", views.PatientListView.as_view(), name="patient_list"),
    path("patients/<str:study_id>/", views.PatientDetailView.as_view(), name="patient_detail"),
    path(
        "patients/<str:study_id>/history/",
        views.HistoryView.as_view(model=Patient, lookup="study_id"),
        name="patient_history",
    ),
]
