from django.urls import path

from assessments import views
from assessments.models import Questionnaire
from inkt_trial.views import HistoryView

app_name = "assessments"

urlpatterns = [
    path("reading/", views.WorklistView.as_view(), name="worklist"),
    path("reading/scans/<int:scan_id>/", views.ReadView.as_view(), name="read"),
    path("adjudication/", views.AdjudicationListView.as_view(), name="adjudication_list"),
    path("adjudication/<str:label>/", views.AdjudicationView.as_view(), name="adjudication"),
    path("imaging/agreement/", views.AgreementView.as_view(), name="agreement"),
    path(
        "patients/<str:study_id>/questionnaires/new/",
        views.QuestionnaireCreateView.as_view(),
        name="questionnaire_create",
    ),
    path("questionnaires/<int:pk>/", views.QuestionnaireDetailView.as_view(), name="questionnaire"),
    path(
        "questionnaires/<int:pk>/edit/",
        views.QuestionnaireEditView.as_view(),
        name="questionnaire_edit",
    ),
    path(
        "questionnaires/<int:pk>/history/",
        HistoryView.as_view(model=Questionnaire),
        name="questionnaire_history",
    ),
    path("patients/<str:study_id>/imaging/", views.ImagingSetupView.as_view(), name="setup"),
]
