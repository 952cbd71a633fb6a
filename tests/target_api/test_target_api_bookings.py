"""The write endpoint: authentication, validation, limits, and concurrent writers."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

BOOKING = {"chef_id": 1, "user_id": 2, "booking_date": "2026-03-01", "duration_hours": 3}


def active_chef(client: FlaskClient) -> dict[str, Any]:
    return client.get("/api/coocook/chefs?per_page=1").get_json()["chefs"][0]  # type: ignore[no-any-return]


def test_create_booking(client: FlaskClient, auth: dict[str, str]) -> None:
    chef = active_chef(client)
    response = client.post(
        "/api/coocook/bookings", json={**BOOKING, "chef_id": chef["id"]}, headers=auth
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "pending"
    assert body["total_price"] == chef["price"] * 3
    assert response.headers["Location"].endswith("/api/coocook/bookings?user_id=2")


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic dGVzdA=="}],
)
def test_write_needs_the_token(client: FlaskClient, headers: dict[str, str]) -> None:
    response = client.post("/api/coocook/bookings", json=BOOKING, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].lower().startswith("bearer")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**BOOKING, "chef_id": "1"}, "chef_id"),
        ({**BOOKING, "chef_id": True}, "chef_id"),
        ({**BOOKING, "user_id": -4}, "user_id"),
        ({**BOOKING, "user_id": 999999}, "user_id"),
        ({**BOOKING, "booking_date": "tomorrow"}, "booking_date"),
        ({**BOOKING, "booking_date": "1900-01-01"}, "booking_date"),
        ({**BOOKING, "duration_hours": 0}, "duration_hours"),
        ({**BOOKING, "notes": 5}, "notes"),
        ({**BOOKING, "surprise": 1}, "surprise"),
    ],
)
def test_invalid_bodies_are_400(
    client: FlaskClient, auth: dict[str, str], body: dict[str, Any], field: str
) -> None:
    body = {**body, "chef_id": body["chef_id"] if field == "chef_id" else active_chef(client)["id"]}
    response = client.post("/api/coocook/bookings", json=body, headers=auth)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["message"].startswith(field)


def test_not_json_is_400(client: FlaskClient, auth: dict[str, str]) -> None:
    assert client.post("/api/coocook/bookings", data="x", headers=auth).status_code == 400
    malformed = client.post(
        "/api/coocook/bookings", data="{", headers={**auth, "Content-Type": "application/json"}
    )
    assert malformed.status_code == 400
    assert client.post("/api/coocook/bookings", json=[1], headers=auth).status_code == 400


def test_unknown_chef_is_404(client: FlaskClient, auth: dict[str, str]) -> None:
    response = client.post(
        "/api/coocook/bookings", json={**BOOKING, "chef_id": 999999}, headers=auth
    )
    assert response.status_code == 404


def test_oversized_body_is_413(client: FlaskClient, auth: dict[str, str]) -> None:
    response = client.post(
        "/api/coocook/bookings",
        json={**BOOKING, "notes": "x" * 100_000},
        headers=auth,
    )
    assert response.status_code == 413
    assert response.get_json()["error"] == "request_entity_too_large"


def test_twenty_concurrent_writers_lose_nothing(app: Flask, auth: dict[str, str]) -> None:
    """20 threads POST at once: no "database is locked", every booking stored."""
    client = app.test_client()
    chef = active_chef(client)
    before = client.get("/api/coocook/bookings?per_page=1").get_json()["total"]
    barrier = threading.Barrier(20)
    statuses: list[int] = []
    errors: list[str] = []

    def write(user_id: int) -> None:
        own_client = app.test_client()
        barrier.wait()
        for _ in range(3):
            response = own_client.post(
                "/api/coocook/bookings",
                json={**BOOKING, "chef_id": chef["id"], "user_id": user_id},
                headers=auth,
            )
            statuses.append(response.status_code)
            if response.status_code != 201:
                errors.append(response.get_data(as_text=True))

    threads = [threading.Thread(target=write, args=(user,)) for user in range(1, 21)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert statuses == [201] * 60
    after = client.get("/api/coocook/bookings?per_page=1").get_json()["total"]
    assert after == before + 60
    detail = client.get(f"/api/coocook/chefs/{chef['id']}").get_json()
    assert detail["booking_count"] == chef["booking_count"] + 60
