from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import connection
from django.http import HttpResponse
from django.utils import timezone
from django.views.generic import TemplateView
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from dosing import selectors as dosing_selectors
from enrollment.models import Outcome, Screening
from randomization import selectors as randomization_selectors
from safety import services as safety_services


class DashboardView(LoginRequiredMixin, TemplateView):
    """Each role's landing page: only what that role may use."""

    template_name = "dashboard.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        context = super().get_context_data(**kwargs)
        if user.has_perm("enrollment.view_screening"):
            awaiting = Screening.objects.filter(outcome=Outcome.ELIGIBLE, confirmed_at__isnull=True)
            context["awaiting_confirmation"] = awaiting.order_by("created_at")
            context["screening_counts"] = {
                "screened": Screening.objects.count(),
                "screen_failures": Screening.objects.filter(outcome=Outcome.SCREEN_FAILURE).count(),
                "enrolled": Screening.objects.filter(confirmed_at__isnull=False).count(),
            }
        if user.has_perm("randomization.add_allocation"):
            context["awaiting_randomization"] = (
                randomization_selectors.patients_awaiting_randomization()
            )
        if user.has_perm("dosing.add_infusion"):
            context["infusion_reminders"] = dosing_selectors.open_reminders()
        if user.has_perm("safety.view_adverseevent"):
            context["overdue_saes"] = safety_services.overdue_saes(now=timezone.now())
        if user.has_perm("randomization.replace_sequence"):
            context["sequence_alerts"] = randomization_selectors.open_alerts()
        return context


class LoginThrottle(AnonRateThrottle):
    scope = "login"


class ObtainTokenView(ObtainAuthToken):
    """Exchange a username and password for an API token (failed attempts are throttled and
    counted by the same lockout as the login page)."""

    throttle_classes = [LoginThrottle]

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        valid = serializer.is_valid()
        # django-axes marks the request it was given (here DRF's) when the account is locked.
        if getattr(request, "axes_locked_out", False):
            return Response(
                {"detail": "Too many failed log-in attempts; this account is locked for a while."},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
            )
        if not valid:
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})


def healthz(request):
    """Liveness for the container health check: the database answers. Reveals nothing else."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
