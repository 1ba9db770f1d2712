from django.urls import path

from datamanagement import views
from datamanagement.models import DataQuery
from inkt_trial.views import HistoryView

app_name = "datamanagement"

urlpatterns = [
    path("queries/", views.QueryListView.as_view(), name="queries"),
    path("queries/new/", views.QueryRaiseView.as_view(), name="raise"),
    path("queries/<int:pk>/", views.QueryDetailView.as_view(), name="query"),
    path("casebook/", views.MatrixView.as_view(), name="matrix"),
    path("source-verification/", views.ProgressView.as_view(), name="sdv"),
    path("source-verification/verify/", views.VerifyView.as_view(), name="verify"),
    path(
        "queries/<int:pk>/history/",
        HistoryView.as_view(model=DataQuery),
        name="query_history",
    ),
]
