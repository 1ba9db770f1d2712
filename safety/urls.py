from django.urls import path

from inkt_trial.views import HistoryView
from safety import views, visit_views
from safety.models import AdverseEvent, ClinicalVisit, LabValue, ProposedAdverseEvent

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
    # clinical visits, their lab values and the adverse events they propose
    path(
        "patients/<str:study_id>/visits/new/",
        visit_views.VisitCreateView.as_view(),
        name="visit_create",
    ),
    path("visits/<int:pk>/edit/", visit_views.VisitEditView.as_view(), name="visit_edit"),
    path(
        "visits/<int:pk>/history/",
        visit_views.ArmHistoryView.as_view(model=ClinicalVisit),
        name="visit_history",
    ),
    path(
        "lab-values/<int:pk>/history/",
        visit_views.ArmHistoryView.as_view(model=LabValue),
        name="lab_history",
    ),
    path(
        "proposed-adverse-events/<int:pk>/accept/",
        visit_views.ProposalAcceptView.as_view(),
        name="proposal_accept",
    ),
    path(
        "proposed-adverse-events/<int:pk>/dismiss/",
        visit_views.ProposalDismissView.as_view(),
        name="proposal_dismiss",
    ),
    path(
        "proposed-adverse-events/<int:pk>/history/",
        HistoryView.as_view(model=ProposedAdverseEvent),
        name="proposal_history",
    ),
]
