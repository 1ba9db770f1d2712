"""Fixtures the outcomes tests share."""

import pytest
from django.utils import timezone

from outcomes import synthetic
from outcomes.models import EndpointRun


@pytest.fixture
def trial(trial_users, data_manager, api_as):
    """A done endpoint run of a synthetic trial of 12 patients, at today's cut-off."""
    today = timezone.localdate()
    synthetic.generate(seed=3, patients=12, today=today)
    api = api_as(trial_users["statistician"])
    run = api.post("/api/outcomes/runs/", {"cutoff": str(today)}, format="json").json()
    assert run["state"] == "done", run
    return EndpointRun.objects.get(pk=run["id"])
