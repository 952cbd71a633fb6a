"""Response caching: hits are visible, and a read after a write is never stale."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from flask_caching import cache_view_hit, cache_view_miss

BOOKING = {"user_id": 4, "booking_date": "2026-05-05", "duration_hours": 2}


def test_second_identical_read_is_a_hit(client: FlaskClient) -> None:
    first = client.get("/api/coocook/chefs?cuisine=Korean&per_page=5")
    again = client.get("/api/coocook/chefs?per_page=5&cuisine=Korean")  # same args, other order
    other = client.get("/api/coocook/chefs?cuisine=Korean&per_page=6")
    assert first.headers["X-Cache"] == "MISS"
    assert again.headers["X-Cache"] == "HIT"
    assert other.headers["X-Cache"] == "MISS"
    assert again.get_data() == first.get_data()


def test_hits_and_misses_are_signalled(app: Flask, client: FlaskClient) -> None:
    seen: list[tuple[str, str]] = []

    def on_hit(sender: Any, **extra: Any) -> None:
        seen.append(("hit", extra["cache_key"]))

    def on_miss(sender: Any, **extra: Any) -> None:
        seen.append(("miss", extra["cache_key"]))

    with cache_view_hit.connected_to(on_hit), cache_view_miss.connected_to(on_miss):
        for _ in range(3):
            client.get("/api/products")
    assert [kind for kind, _ in seen] == ["miss", "hit", "hit"]
    assert seen[0][1] == "view:/api/products"


def test_no_cache_request_header_bypasses_and_refreshes(client: FlaskClient) -> None:
    client.get("/api/products")
    bypass = client.get("/api/products", headers={"Cache-Control": "no-cache"})
    assert bypass.headers["X-Cache"] == "BYPASS"
    assert client.get("/api/products").headers["X-Cache"] == "HIT"


def test_errors_are_not_cached(client: FlaskClient) -> None:
    assert client.get("/api/coocook/chefs/999999").status_code == 404
    assert "X-Cache" not in client.get("/api/coocook/chefs/999999").headers


def _post(client: FlaskClient, auth: dict[str, str], chef_id: int) -> None:
    response = client.post(
        "/api/coocook/bookings", json={**BOOKING, "chef_id": chef_id}, headers=auth
    )
    assert response.status_code == 201, response.get_json()


def test_write_then_read_is_fresh(client: FlaskClient, auth: dict[str, str]) -> None:
    chefs = client.get("/api/coocook/chefs").get_json()["chefs"]
    chef = chefs[0]
    detail = client.get(f"/api/coocook/chefs/{chef['id']}").get_json()
    mine = client.get("/api/coocook/bookings?user_id=4").get_json()
    # All three are cached now.
    assert client.get("/api/coocook/chefs").headers["X-Cache"] == "HIT"

    _post(client, auth, chef["id"])

    fresh_list = client.get("/api/coocook/chefs")
    assert fresh_list.headers["X-Cache"] == "MISS"
    assert fresh_list.get_json()["chefs"][0]["booking_count"] == chef["booking_count"] + 1
    fresh_detail = client.get(f"/api/coocook/chefs/{chef['id']}").get_json()
    assert fresh_detail["booking_count"] == detail["booking_count"] + 1
    assert fresh_detail["recent_bookings"][0]["id"] > detail["recent_bookings"][0]["id"]
    assert client.get("/api/coocook/bookings?user_id=4").get_json()["total"] == mine["total"] + 1


def test_write_in_one_worker_invalidates_another(
    make_app: Callable[..., Flask], auth: dict[str, str]
) -> None:
    """Two apps on one database stand in for two gunicorn workers, each with its own cache."""
    worker_a = make_app().test_client()
    worker_b = make_app(seed=False).test_client()
    chef = worker_b.get("/api/coocook/chefs").get_json()["chefs"][0]
    assert worker_b.get("/api/coocook/chefs").headers["X-Cache"] == "HIT"

    _post(worker_a, auth, chef["id"])

    again = worker_b.get("/api/coocook/chefs")
    assert again.headers["X-Cache"] == "MISS"
    assert again.get_json()["chefs"][0]["booking_count"] == chef["booking_count"] + 1


def test_reseeding_invalidates(make_app: Callable[..., Flask]) -> None:
    from target_api.seed import seed_database

    app = make_app()
    client = app.test_client()
    client.get("/api/products")
    seed_database(app, 0.02)
    assert client.get("/api/products").headers["X-Cache"] == "MISS"
