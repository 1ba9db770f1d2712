from django.urls import path

from inkt_trial.views import HistoryView
from safety import views
from safety.models import AdverseEvent

app_name = "safety"

urlpatterns = [
    path(
        "patients/<str:study_id>/adverse-events/new/",
        views.AdverseEventCreateView.as_view(),
        name="event_create",
    ),
    path("adverse-events/<int:pk>/", views.AdverseEventDetailView.as_view(), name="event"),
    path("adverse-events/<int:pk>/edit/", views.AdverseEventEditView.as_view(), name="event_edit"),
    path("adverse-events/<int:pk>/causality/", views.CausalityView.as_view(), name="causality"),
    path(
        "adverse-events/<int:pk>/reports/new/", views.SaeReportView.as_view(), name="report_create"
    ),
    path(
        "adverse-events/<int:pk>/history/",
        HistoryView.as_view(model=AdverseEvent),
        name="event_history",
    ),
    path("safety/tables/", views.SafetyTablesView.as_view(), name="tables"),
]
