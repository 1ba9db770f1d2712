"""The product's URLs and a bare authenticated view: the same middleware, session and
authentication as every page, and nothing else (bench/pages.py)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import include, path


@login_required
def bare(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare), path("", include("inkt_trial.urls"))]
