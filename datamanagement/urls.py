from django.urls import path

from datamanagement import deviation_views, views
from datamanagement.models import DataQuery, DeviationReview, ProtocolDeviation
from inkt_trial.views import HistoryView

app_name = "datamanagement"

urlpatterns = [
    path("queries/", views.QueryListView.as_view(), name="queries"),
    path("queries/new/", views.QueryRaiseView.as_view(), name="raise"),
    path("queries/<int:pk>/", views.QueryDetailView.as_view(), name="query"),
    path("casebook/", views.MatrixView.as_view(), name="matrix"),
    path("source-verification/", views.ProgressView.as_view(), name="sdv"),
    path("source-verification/verify/", views.VerifyView.as_view(), name="verify"),
    path("data-lock/", views.LockListView.as_view(), name="locks"),
    path("data-lock/<int:pk>/unfreeze/", views.UnfreezeView.as_view(), name="unfreeze"),
    path("patients/<str:study_id>/casebook.pdf", views.CasebookView.as_view(), name="casebook"),
    path(
        "queries/<int:pk>/history/",
        HistoryView.as_view(model=DataQuery),
        name="query_history",
    ),
    # the protocol deviation log: fixed paths before <key>
    path("deviations/", deviation_views.DeviationLogView.as_view(), name="deviations"),
    path(
        "deviations/ethics-committee/",
        deviation_views.EthicsCommitteeView.as_view(),
        name="deviations_ec",
    ),
    path(
        "patients/<str:study_id>/deviations/new/",
        deviation_views.DeviationCreateView.as_view(),
        name="deviation_create",
    ),
    path(
        "deviations/recorded/<int:pk>/history/",
        HistoryView.as_view(model=ProtocolDeviation),
        name="deviation_history",
    ),
    path(
        "deviations/reviews/<int:pk>/history/",
        HistoryView.as_view(model=DeviationReview),
        name="deviation_review_history",
    ),
    path("deviations/<str:key>/", deviation_views.DeviationDetailView.as_view(), name="deviation"),
    path(
        "deviations/<str:key>/correct/",
        deviation_views.DeviationCorrectView.as_view(),
        name="deviation_correct",
    ),
    path(
        "deviations/<str:key>/review/",
        deviation_views.DeviationReviewView.as_view(),
        name="deviation_review",
    ),
]
