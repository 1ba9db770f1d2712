from django.urls import path

from randomization import views

app_name = "randomization"

urlpatterns = [
    path("randomization/", views.AllocationListView.as_view(), name="allocation_list"),
    path("randomization/sequence/", views.SequenceView.as_view(), name="sequence"),
    path("randomization/sequence/<int:pk>/codes/", views.CodesView.as_view(), name="codes"),
    path("randomization/reports/", views.ReportView.as_view(), name="reports"),
    path(
        "randomization/enrolment-limit/",
        views.EnrolmentLimitView.as_view(),
        name="enrolment_limit",
    ),
    path("patients/<str:study_id>/randomize/", views.RandomizeView.as_view(), name="randomize"),
]
