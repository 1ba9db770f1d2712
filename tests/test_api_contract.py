"""The API answers as its OpenAPI schema says, checked by a schema-driven fuzzer
(schemathesis) against the live test server for two roles: no 5xx, no undocumented status
code, no response outside its schema. Bounded: a few examples per operation, loopback only."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token

pytestmark = [pytest.mark.django_db(transaction=True)]

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)


def schemathesis() -> str:
    found = Path(sys.executable).parent / "schemathesis"
    return str(found) if found.exists() else (shutil.which("schemathesis") or "")


@pytest.mark.parametrize("role", ["coordinator", "statistician"])
def test_the_api_keeps_its_schema_under_a_fuzzer(live_server, randomized, make_user, role):
    if not schemathesis():
        pytest.skip("schemathesis is installed by make test")
    randomized("RPI", days_ago=30)  # some records for the operations to find
    user = make_user(role, username=f"fuzz-{role}")
    token = Token.objects.create(user=user).key
    result = subprocess.run(
        [
            schemathesis(),
            "run",
            f"{live_server.url}/api/schema/",
            "--header",
            f"Authorization: Token {token}",
            "--checks",
            CHECKS,
            "--phases",
            "examples,fuzzing",
            "--max-examples",
            "4",
            "--workers",
            "1",
            "--request-timeout",
            "20",
            "--seed",
            "20261201",
            "--exclude-path",
            "/api/auth/token/",  # throttled by design: 10 a minute
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    summary = result.stdout[-4000:]
    assert result.returncode == 0, summary
    assert "generated" in summary  # it did run cases
