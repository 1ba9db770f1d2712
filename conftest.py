"""Shared fixtures: users per role, screening values, and logged-in clients."""

import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from accounts import roles
from enrollment import services
from enrollment.demo import demo_values

# Playwright's sync API keeps an event loop in the test thread; the ORM calls the tests make
# alongside it are synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "Sufficiently-long-pass-42"


def body(response) -> bytes:
    """A response's body, streamed (the per-patient exports) or not."""
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture(scope="session", autouse=True)
def _live_server_backlog():
    """The concurrency test opens dozens of connections at once; Django's test server listens
    with a backlog of 10, so the rest would be reset before they reach the application."""
    from django.core.servers.basehttp import WSGIServer

    WSGIServer.request_queue_size = 128


def replay_data_migrations() -> None:
    """Run our apps' data migrations (roles and their permissions, the CTCAE terms) again. A
    transactional test (browser, worker) empties every table when it ends; the next one needs
    them back. Those that move records between models (`move_...`) are not replayed: there is
    nothing to move, and the models they read may no longer exist; nor those that set how
    PostgreSQL stores a column (`storage_...`): emptying the tables keeps it."""
    from django.apps import apps
    from django.conf import settings
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations.special import RunPython

    ours = {c.label for c in apps.get_app_configs() if Path(c.path).parent == settings.BASE_DIR}
    loader = MigrationLoader(connection)
    plan = []
    for leaf in loader.graph.leaf_nodes():
        plan += [node for node in loader.graph.forwards_plan(leaf) if node not in plan]
    for node in plan:
        if node[0] not in ours:
            continue
        for operation in loader.graph.nodes[node].operations:
            if isinstance(operation, RunPython) and not operation.code.__name__.startswith(
                ("move_", "storage_")
            ):
                operation.code(apps, None)


@pytest.fixture(autouse=True)
def _empty_cache(request):
    """The login throttle and signature counters live in the database cache, whose table no
    flush of a transactional test empties: each test with the database starts with none."""
    marker = request.node.get_closest_marker("django_db")
    if marker is not None:
        from django.core.cache import cache

        request.getfixturevalue("transactional_db" if marker.kwargs.get("transaction") else "db")
        cache.clear()


@pytest.fixture(autouse=True)
def _roles_in_transactional_tests(request):
    marker = request.node.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
        if not Group.objects.exists():
            replay_data_migrations()


@pytest.fixture
def make_user(django_user_model):
    def make(role: str | None, username: str | None = None, **extra):
        user = django_user_model.objects.create_user(
            username=username or role or "nobody",
            password=PASSWORD,
            first_name=(role or "no").title(),
            last_name="Tester",
            **extra,
        )
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def coordinator(make_user):
    return make_user(roles.COORDINATOR)


@pytest.fixture
def investigator(make_user):
    return make_user(roles.INVESTIGATOR, email="investigator@example.org")


@pytest.fixture
def values():
    from django.utils import timezone

    return lambda **changes: demo_values(timezone.localdate(), **changes)


@pytest.fixture
def eligible_screening(coordinator, values):
    return services.screening_create(values=values(), by=coordinator)


@pytest.fixture
def client_as(client):
    def login(user):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return login


@pytest.fixture
def api_as():
    from rest_framework.test import APIClient

    def login(user):
        api = APIClient()
        api.force_authenticate(user)
        return api

    return login


@pytest.fixture
def enrol(coordinator, investigator, values):
    """enrol(**changes) -> an enrolled Patient (screened, eligible, signed)."""

    def make(**changes):
        screening = services.screening_create(values=values(**changes), by=coordinator)
        return services.screening_confirm(
            screening=screening, by=investigator, password=PASSWORD, version=screening.version
        )

    return make


@pytest.fixture
def statistician(make_user):
    return make_user(roles.STATISTICIAN)


@pytest.fixture
def data_manager(make_user):
    return make_user(roles.DATA_MANAGER, is_staff=True, email="dm@example.org")


@pytest.fixture
def monitor(make_user):
    return make_user(roles.MONITOR, "monitor")


@pytest.fixture
def randomized(statistician, coordinator, enrol, make_user):
    """randomized("RPI", days_ago=40, **screening_changes) -> a Patient randomized to that arm,
    dated `days_ago` days back (so that past courses can be recorded)."""
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from randomization import services as randomization_services
    from randomization.models import AllocationSequence

    def make(arm: str, days_ago: int = 0, **changes):
        if not AllocationSequence.objects.filter(is_active=True).exists():
            sequence = randomization_services.sequence_generate(
                by=statistician, length=200, block_sizes=[2, 4], seed=1
            )
            randomization_services.arm_codes_set(
                sequence=sequence,
                by=make_user(roles.DATA_MANAGER, username="administrator"),
                code_a_arm="RPI",
                reason="Arm codes mapped",
            )
        while True:
            allocation = randomization_services.patient_randomize(
                patient=enrol(**changes), by=coordinator
            )
            if allocation.arm == arm:
                break
        if days_ago:
            with connection.cursor() as cursor:  # history, not an edit: set up in the past
                cursor.execute(
                    "UPDATE randomization_allocation SET randomized_at = %s WHERE id = %s",
                    [timezone.now() - timedelta(days=days_ago), allocation.pk],
                )
                cursor.execute(  # enrolled the same day, as the site usually does
                    "UPDATE enrollment_patient SET enrolled_at = %s WHERE id = %s",
                    [timezone.now() - timedelta(days=days_ago), allocation.patient_id],
                )
        allocation.patient.refresh_from_db()
        return (
            type(allocation.patient)
            .objects.select_related("allocation", "screening")
            .get(pk=allocation.patient.pk)
        )

    return make


@pytest.fixture
def start_regorafenib(coordinator):
    """start_regorafenib(patient, on_date, until=None): 160 mg daily from that day (the first
    dose), for a period ending `until` when given."""
    from decimal import Decimal

    from dosing import services as dosing_services

    def start(patient, on_date, until=None):
        return dosing_services.drug_exposure_record(
            patient=patient,
            by=coordinator,
            drug="regorafenib",
            event="period",
            dose=Decimal(160),
            unit="mg",
            route="oral",
            start_date=on_date,
            end_date=until,
        )

    return start


@pytest.fixture
def trial_users(make_user, coordinator, investigator, statistician):
    """The users the synthetic trial generator expects, by their demo names."""
    return {
        "coordinator": coordinator,
        "investigator": investigator,
        "statistician": statistician,
        "radiologist": make_user(roles.RADIOLOGIST, "radiologist"),
        "radiologist2": make_user(roles.RADIOLOGIST, "radiologist2"),
        "adjudicator": make_user(roles.ADJUDICATOR, "adjudicator"),
        "datamanager": make_user(roles.DATA_MANAGER, "datamanager"),
    }
