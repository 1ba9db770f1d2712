from django.urls import path

from assessments import views

app_name = "assessments"

urlpatterns = [
    path("reading/", views.WorklistView.as_view(), name="worklist"),
    path("reading/scans/<int:scan_id>/", views.ReadView.as_view(), name="read"),
    path("adjudication/", views.AdjudicationListView.as_view(), name="adjudication_list"),
    path("adjudication/<str:label>/", views.AdjudicationView.as_view(), name="adjudication"),
    path("imaging/agreement/", views.AgreementView.as_view(), name="agreement"),
    path("patients/<str:study_id>/imaging/", views.ImagingSetupView.as_view(), name="setup"),
]
