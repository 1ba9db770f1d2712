from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import APIRootView, DefaultRouter

from accounts import views as account_views
from assessments import api as assessments_api
from datamanagement import api as datamanagement_api
from datamanagement import deviation_api
from dosing import api as dosing_api
from enrollment import api as enrollment_api
from outcomes import api as outcomes_api
from outcomes import dsmb_views
from outcomes import views as outcomes_views
from randomization import api as randomization_api
from safety import api as safety_api
from safety import visit_api

handler400 = "inkt_trial.hardening.bad_request"
handler403 = "inkt_trial.hardening.permission_denied"
handler404 = "inkt_trial.hardening.page_not_found"
handler500 = "inkt_trial.hardening.server_error"


class ApiRoot(APIRootView):
    permission_classes = [IsAuthenticated]


router = DefaultRouter()
router.APIRootView = ApiRoot
router.register("screenings", enrollment_api.ScreeningViewSet, basename="screening")
router.register("patients", enrollment_api.PatientViewSet, basename="patient")
router.register("randomization/sequences", randomization_api.SequenceViewSet, basename="sequence")
router.register(
    "randomization/allocations", randomization_api.AllocationViewSet, basename="allocation"
)
router.register("medications", enrollment_api.MedicationViewSet, basename="concomitantmedication")
router.register("medical-history", enrollment_api.MedicalHistoryViewSet, basename="medicalhistory")
router.register("imaging/scans", assessments_api.ScanViewSet, basename="scan")
router.register("imaging/readers", assessments_api.AssignmentViewSet, basename="readerassignment")
router.register("safety/ctcae-terms", safety_api.CtcaeTermViewSet, basename="ctcaeterm")
router.register("safety/adverse-events", safety_api.AdverseEventViewSet, basename="adverseevent")
router.register("safety/sae-reports", safety_api.SaeReportViewSet, basename="saereport")
router.register("safety/visits", visit_api.ClinicalVisitViewSet, basename="clinicalvisit")
router.register("safety/lab-values", visit_api.LabValueViewSet, basename="labvalue")
router.register(
    "safety/proposed-adverse-events", visit_api.ProposalViewSet, basename="proposedadverseevent"
)
router.register(
    "quality-of-life/questionnaires", assessments_api.QuestionnaireViewSet, basename="questionnaire"
)
router.register("follow-up", outcomes_api.FollowUpViewSet, basename="followup")
router.register("outcomes/runs", outcomes_api.RunViewSet, basename="endpointrun")
router.register("queries", datamanagement_api.QueryViewSet, basename="dataquery")
router.register("data-locks", datamanagement_api.LockViewSet, basename="datalock")
router.register("deviations", deviation_api.DeviationViewSet, basename="deviation")
router.register("dosing/schedules", dosing_api.ScheduleViewSet, basename="schedule")
router.register("dosing/infusions", dosing_api.InfusionViewSet, basename="infusion")
router.register("dosing/drug-exposures", dosing_api.DrugExposureViewSet, basename="drugexposure")
router.register("dosing/aphereses", dosing_api.ApheresisViewSet, basename="apheresis")
router.register("dosing/batches", dosing_api.BatchViewSet, basename="manufacturingbatch")
router.register("dosing/release-tests", dosing_api.ReleaseTestViewSet, basename="releasetest")
router.register(
    "patient-status/changes", enrollment_api.StatusChangeViewSet, basename="statuschange"
)
router.register(
    "patient-status/treatment-ends", enrollment_api.TreatmentEndViewSet, basename="treatmentend"
)

urlpatterns = [
    path("", outcomes_views.DashboardView.as_view(), name="dashboard"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("enrollment.urls")),
    path("", include("randomization.urls")),
    path("", include("dosing.urls")),
    path("", include("assessments.urls")),
    path("", include("safety.urls")),
    path("", include("outcomes.urls")),
    path("", include("datamanagement.urls")),
    # the deviation list's first address: the log now lives in the top app
    path(
        "outcomes/deviations/",
        RedirectView.as_view(pattern_name="datamanagement:deviations", query_string=True),
    ),
    path("api/", include(router.urls)),
    path(
        "api/randomization/report/",
        randomization_api.ReportView.as_view(),
        name="randomization-report",
    ),
    path(
        "api/randomization/enrolment-limit/",
        randomization_api.EnrolmentLimitView.as_view(),
        name="randomization-enrolment-limit",
    ),
    path("api/dosing/calendar/", dosing_api.CalendarView.as_view(), name="dosing-calendar"),
    path("api/dosing/preview/", dosing_api.PreviewView.as_view(), name="dosing-preview"),
    path(
        "api/dosing/exposure/<str:study_id>/",
        dosing_api.ExposureView.as_view(),
        name="dosing-exposure",
    ),
    path("api/reading/worklist/", assessments_api.WorklistView.as_view(), name="reading-worklist"),
    path(
        "api/reading/scans/<int:scan_id>/read/",
        assessments_api.ReadView.as_view(),
        name="reading-read",
    ),
    path(
        "api/reading/scans/<int:scan_id>/lock/",
        assessments_api.LockView.as_view(),
        name="reading-lock",
    ),
    path("api/reading/exchange/", assessments_api.ExchangeView.as_view(), name="reading-exchange"),
    path(
        "api/adjudication/",
        assessments_api.AdjudicationListView.as_view(),
        name="adjudication-list",
    ),
    path(
        "api/adjudication/<str:case_label>/",
        assessments_api.AdjudicationView.as_view(),
        name="adjudication-case",
    ),
    path(
        "api/imaging/responses/<str:study_id>/",
        assessments_api.ResponsesView.as_view(),
        name="imaging-responses",
    ),
    path(
        "api/imaging/agreement/", assessments_api.AgreementView.as_view(), name="imaging-agreement"
    ),
    path("api/safety/tables/", safety_api.SafetyTableView.as_view(), name="safety-tables"),
    path("api/safety/susars/", safety_api.SusarListView.as_view(), name="safety-susars"),
    path(
        "api/safety/tables/csv/", safety_api.SafetyTableCsvView.as_view(), name="safety-tables-csv"
    ),
    path("api/sdv/", datamanagement_api.VerifyView.as_view(), name="sdv-verify"),
    path(
        "api/patients/<str:study_id>/casebook/",
        datamanagement_api.CasebookView.as_view(),
        name="patient-casebook",
    ),
    path("api/casebook/", datamanagement_api.MatrixView.as_view(), name="casebook-matrix"),
    path("api/sdv/progress/", datamanagement_api.ProgressView.as_view(), name="sdv-progress"),
    path("api/auth/token/", account_views.ObtainTokenView.as_view(), name="api-token"),
    path(
        "api/outcomes/runs/<int:pk>/dsmb/",
        dsmb_views.DsmbReportView.as_view(),
        name="endpointrun-dsmb",
    ),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    path("healthz/", account_views.healthz, name="healthz"),
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
]
