from django.urls import path

from dosing import views
from dosing.models import Infusion
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
]
