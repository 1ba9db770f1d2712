"""The product's URLs, a bare authenticated view (the same middleware, session and
authentication as every page, and nothing else) and an empty page (the same, plus the product's
base template: the navigation every page has) that bench/pages.py compares every page with."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import include, path


@login_required
def bare(request):
    return HttpResponse("ok", content_type="text/plain")


@login_required
def empty(request):
    return render(request, "base.html")


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/empty/", empty),
    path("", include("inkt_trial.urls")),
]
