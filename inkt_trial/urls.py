from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import APIRootView, DefaultRouter

from accounts import views as account_views
from enrollment import api as enrollment_api
from randomization import api as randomization_api


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

urlpatterns = [
    path("", account_views.DashboardView.as_view(), name="dashboard"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("enrollment.urls")),
    path("", include("randomization.urls")),
    path("api/", include(router.urls)),
    path(
        "api/randomization/report/",
        randomization_api.ReportView.as_view(),
        name="randomization-report",
    ),
    path("api/auth/token/", account_views.ObtainTokenView.as_view(), name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    path("healthz/", account_views.healthz, name="healthz"),
]
