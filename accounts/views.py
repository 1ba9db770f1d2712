from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.throttling import AnonRateThrottle

from enrollment.models import Outcome, Screening


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
        return context


class LoginThrottle(AnonRateThrottle):
    scope = "login"


class ObtainTokenView(ObtainAuthToken):
    """Exchange a username and password for an API token (failed attempts are throttled and
    counted by the same lockout as the login page)."""

    throttle_classes = [LoginThrottle]
