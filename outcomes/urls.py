from django.urls import path

from inkt_trial.views import HistoryView
from outcomes import dsmb, dsmb_views, views
from outcomes.models import FollowUp

app_name = "outcomes"

urlpatterns = [
    path("outcomes/runs/", views.RunListView.as_view(), name="runs"),
    path("outcomes/runs/<int:pk>/", views.RunDetailView.as_view(), name="run"),
    path(
        "outcomes/runs/<int:pk>/km/<str:param>.<str:fmt>",
        views.KmPlotView.as_view(),
        name="km_plot",
    ),
    path("outcomes/consort/", views.ConsortView.as_view(), name="consort"),
    path(
        "patients/<str:study_id>/follow-up/new/",
        views.FollowUpCreateView.as_view(),
        name="followup_create",
    ),
    path("follow-up/<int:pk>/edit/", views.FollowUpEditView.as_view(), name="followup_edit"),
    path(
        "follow-up/<int:pk>/history/",
        HistoryView.as_view(model=FollowUp),
        name="followup_history",
    ),
    # The DSMB report (outcomes/dsmb_views.py)
    path(
        "outcomes/runs/<int:pk>/dsmb-open.pdf",
        dsmb_views.DsmbPdfView.as_view(session=dsmb.OPEN),
        name="dsmb_open",
    ),
    path(
        "outcomes/runs/<int:pk>/dsmb-closed.pdf",
        dsmb_views.DsmbPdfView.as_view(session=dsmb.CLOSED),
        name="dsmb_closed",
    ),
]
