"""Logging in: the login page, the token exchange and the lockout after repeated failures."""

import pytest
from django.conf import settings

from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def login(client, password, ip="10.9.8.7"):
    return client.post(
        "/accounts/login/", {"username": "coordinator", "password": password}, REMOTE_ADDR=ip
    )


def test_login_with_the_right_password_reaches_the_dashboard(client, coordinator):
    response = login(client, PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_wrong_password_says_so_and_stays_on_the_form(client, coordinator):
    response = login(client, "wrong")
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


def test_repeated_failures_lock_the_account_even_for_the_right_password(client, coordinator):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "wrong")
    locked = login(client, PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed log-in attempts" in locked.content.decode()
    assert client.get("/").status_code == 302  # still not logged in


def test_repeated_token_failures_lock_the_api_too(client, coordinator):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            "/api/auth/token/", {"username": "coordinator", "password": "x"}, REMOTE_ADDR="10.1.1.1"
        )
    response = client.post(
        "/api/auth/token/",
        {"username": "coordinator", "password": PASSWORD},
        REMOTE_ADDR="10.1.1.1",
    )
    assert response.status_code == 429
    assert "locked" in response.json()["detail"]


def test_rotating_x_forwarded_for_does_not_escape_the_token_throttle(client, coordinator):
    """No proxy is trusted (NUM_PROXIES 0): the throttle counts the connection's address."""
    answers = [
        client.post(
            "/api/auth/token/",
            {"username": f"nobody-{n}", "password": "x"},
            REMOTE_ADDR="10.2.2.2",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        ).status_code
        for n in range(12)
    ]
    assert answers[:10] == [400] * 10 and answers[10:] == [429, 429]  # 10 a minute


def test_the_counters_are_in_the_database_not_in_redis(settings):
    """A Redis outage cannot touch the login throttle or the signature lockout."""
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    from django.core.cache import cache

    cache.set("probe", 1)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM inkt_cache")
        assert cursor.fetchone()[0] == 1
