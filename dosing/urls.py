from django.urls import path

from dosing import views
from dosing.models import Apheresis, Infusion, ManufacturingBatch, ReleaseTest
from inkt_trial.views import HistoryView

app_name = "dosing"

urlpatterns = [
    path("dosing/calendar/", views.CalendarView.as_view(), name="calendar"),
    path(
        "patients/<str:study_id>/infusions/schedule/", views.ScheduleView.as_view(), name="schedule"
    ),
    path("patients/<str:study_id>/infusions/new/", views.InfusionView.as_view(), name="infusion"),
    path("patients/<str:study_id>/drugs/new/", views.DrugExposureView.as_view(), name="drug"),
    path(
        "infusions/<int:pk>/history/", HistoryView.as_view(model=Infusion), name="infusion_history"
    ),
    # the cell product's chain of identity
    path(
        "patients/<str:study_id>/apheresis/new/",
        views.ApheresisCreateView.as_view(),
        name="apheresis",
    ),
    path("apheresis/<int:pk>/edit/", views.ApheresisEditView.as_view(), name="apheresis_edit"),
    path(
        "apheresis/<int:pk>/history/",
        HistoryView.as_view(model=Apheresis),
        name="apheresis_history",
    ),
    path("patients/<str:study_id>/batches/new/", views.BatchCreateView.as_view(), name="batch"),
    path("batches/<int:pk>/edit/", views.BatchEditView.as_view(), name="batch_edit"),
    path(
        "batches/<int:pk>/history/",
        HistoryView.as_view(model=ManufacturingBatch),
        name="batch_history",
    ),
    path("batches/<int:pk>/release/", views.BatchReleaseView.as_view(), name="batch_release"),
    path("batches/<int:pk>/tests/new/", views.ReleaseTestCreateView.as_view(), name="release_test"),
    path(
        "release-tests/<int:pk>/edit/",
        views.ReleaseTestEditView.as_view(),
        name="release_test_edit",
    ),
    path(
        "release-tests/<int:pk>/history/",
        HistoryView.as_view(model=ReleaseTest),
        name="release_test_history",
    ),
]
