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
