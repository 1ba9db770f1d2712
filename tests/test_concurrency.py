"""Dozens of simultaneous randomization requests over HTTP against PostgreSQL: no slot is given
twice, none is skipped, and no patient is randomized twice."""

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from randomization import services
from randomization.models import Allocation

pytestmark = pytest.mark.django_db(transaction=True)

PATIENTS = 40
DUPLICATES = 8  # extra requests for patients already asked for: a double click


def post(url, token, body, barrier):
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    barrier.wait()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_parallel_requests_take_consecutive_slots_once_each(
    live_server, statistician, data_manager, coordinator, enrol
):
    if connection.vendor != "postgresql":
        pytest.skip("the concurrency guarantee is tested on PostgreSQL (make test)")
    sequence = services.sequence_generate(by=statistician, length=84, block_sizes=[2, 4, 6])
    services.arm_codes_set(sequence=sequence, by=data_manager, code_a_arm="RPI", reason="Map")
    patients = [enrol() for _ in range(PATIENTS)]
    token = Token.objects.create(user=coordinator).key
    bodies = [{"study_id": p.study_id} for p in patients]
    bodies += [{"study_id": p.study_id} for p in patients[:DUPLICATES]]
    barrier = threading.Barrier(len(bodies))
    url = f"{live_server.url}/api/randomization/allocations/"
    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        results = list(pool.map(lambda body: post(url, token, body, barrier), bodies))

    statuses = sorted(status for status, _ in results)
    assert statuses == [201] * PATIENTS + [400] * DUPLICATES, results
    refusals = [body["detail"] for status, body in results if status == 400]
    assert all("already randomized" in detail for detail in refusals)

    allocations = list(Allocation.objects.select_related("slot").order_by("slot__position"))
    assert sorted(a.slot.position for a in allocations) == list(range(1, PATIENTS + 1))
    assert len({a.patient_id for a in allocations}) == PATIENTS
    expected = {s.position: s.arm for s in sequence.slots.all()}
    assert all(a.slot.arm == expected[a.slot.position] for a in allocations)
    assert all(a.arm == ("RPI" if a.slot.arm == "A" else "RP") for a in allocations)
