"""Endpoint behaviour on both backends: shapes, filters, pagination, errors."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from target_api.seed import scaled_counts

SCALE = 0.02


def get_json(client: FlaskClient, url: str, status: int = 200) -> Any:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def test_health_needs_no_database(make_app: Any) -> None:
    app = make_app(seed=False)  # no tables at all
    assert get_json(app.test_client(), "/health") == {"status": "ok"}


def test_chefs_list_shape_and_booking_counts(client: FlaskClient) -> None:
    body = get_json(client, "/api/coocook/chefs")
    assert set(body) == {"chefs", "total", "page", "per_page", "pages"}
    assert body["page"] == 1
    assert body["per_page"] == 12
    assert len(body["chefs"]) == 12
    chef = body["chefs"][0]
    assert set(chef) == {
        "id", "name", "cuisine", "location", "price", "rating", "reviews", "booking_count",
    }  # fmt: skip
    detail = get_json(client, f"/api/coocook/chefs/{chef['id']}")
    assert detail["booking_count"] == chef["booking_count"]
    assert "bio" in detail
    assert len(detail["recent_bookings"]) == min(5, chef["booking_count"])


def test_chefs_pagination_covers_every_active_chef_once(client: FlaskClient) -> None:
    first = get_json(client, "/api/coocook/chefs?per_page=7")
    seen: list[int] = []
    for page in range(1, first["pages"] + 1):
        body = get_json(client, f"/api/coocook/chefs?per_page=7&page={page}")
        seen += [chef["id"] for chef in body["chefs"]]
    assert len(seen) == len(set(seen)) == first["total"]
    assert seen == sorted(seen)
    past_end = get_json(client, f"/api/coocook/chefs?per_page=7&page={first['pages'] + 1}")
    assert past_end["chefs"] == []
    assert past_end["total"] == first["total"]


def test_per_page_is_capped(client: FlaskClient, app: Flask) -> None:
    body = get_json(client, "/api/coocook/chefs?per_page=100000")
    assert body["per_page"] == app.config["PER_PAGE_MAX"]


def test_chef_filters(client: FlaskClient) -> None:
    everyone = get_json(client, "/api/coocook/chefs?per_page=100")["chefs"]
    cuisine, location = everyone[0]["cuisine"], everyone[0]["location"]
    by_cuisine = get_json(client, f"/api/coocook/chefs?cuisine={cuisine}&per_page=100")
    assert by_cuisine["chefs"]
    assert {chef["cuisine"] for chef in by_cuisine["chefs"]} == {cuisine}
    assert by_cuisine["total"] == sum(chef["cuisine"] == cuisine for chef in everyone)
    both = get_json(client, f"/api/coocook/chefs?cuisine={cuisine}&location={location}")
    assert {(c["cuisine"], c["location"]) for c in both["chefs"]} == {(cuisine, location)}
    assert get_json(client, "/api/coocook/chefs?cuisine=Martian")["chefs"] == []


def test_unknown_and_inactive_chef_are_404(client: FlaskClient) -> None:
    body = get_json(client, "/api/coocook/chefs/999999", status=404)
    assert body == {"error": "not_found", "message": "chef 999999 not found", "status": 404}


def test_bookings_filtered_by_user(client: FlaskClient) -> None:
    body = get_json(client, "/api/coocook/bookings?user_id=3&per_page=100")
    assert body["bookings"]
    assert {booking["user_id"] for booking in body["bookings"]} == {3}
    ids = [booking["id"] for booking in body["bookings"]]
    assert ids == sorted(ids, reverse=True)  # newest first
    everything = get_json(client, "/api/coocook/bookings")
    assert everything["total"] == scaled_counts(SCALE)["bookings"]


@pytest.mark.parametrize(
    ("url", "key", "field", "value"),
    [
        ("/api/sns/posts?status=draft", "posts", "status", "draft"),
        ("/api/sns/posts?account_id=2", "posts", "account_id", 2),
        ("/api/campaigns?status=active", "campaigns", "status", "active"),
        ("/api/ai/employees?user_id=0x", None, None, None),
        ("/api/ai/scenarios?category=sales", "scenarios", "category", "sales"),
    ],
)
def test_service_list_filters(
    client: FlaskClient, url: str, key: str | None, field: str | None, value: Any
) -> None:
    if key is None:
        get_json(client, url, status=400)
        return
    body = get_json(client, url + "&per_page=100")
    assert body[key]
    assert {item[field] for item in body[key]} == {value}


def test_products_and_joined_lists(client: FlaskClient) -> None:
    products = get_json(client, "/api/products")["products"]
    assert products
    assert "Legacy Plan" not in {product["name"] for product in products}  # inactive
    post = get_json(client, "/api/sns/posts")["posts"][0]
    assert post["handle"].startswith("@softfactory_")
    campaign = get_json(client, "/api/campaigns")["campaigns"][0]
    applications = get_json(client, f"/api/campaigns/{campaign['id']}/applications?per_page=100")
    assert applications["total"] == campaign["application_count"]
    assert all(item["applicant"].startswith("User ") for item in applications["applications"])
    employees = get_json(client, "/api/ai/employees?per_page=100")["employees"]
    assert sum(e["scenario_count"] for e in employees) > 0


def test_applications_of_missing_campaign_is_404(client: FlaskClient) -> None:
    assert get_json(client, "/api/campaigns/999999/applications", status=404)["status"] == 404


@pytest.mark.parametrize(
    "url",
    [
        "/api/coocook/chefs?per_page=abc",
        "/api/coocook/chefs?page=-1",
        "/api/coocook/chefs?page=0",
        "/api/coocook/chefs?per_page=1.5",
        "/api/coocook/bookings?user_id=abc",
        "/api/sns/posts?status=bogus",
        "/api/campaigns?status=bogus",
        "/api/campaigns/1/applications?status=bogus",
        "/api/coocook/chefs?cuisine=" + "x" * 200,
    ],
)
def test_bad_parameters_are_json_400(client: FlaskClient, url: str) -> None:
    body = get_json(client, url, status=400)
    assert body["error"] == "bad_request"
    assert body["status"] == 400
    assert body["message"].split(":")[0] in url


def test_unknown_route_and_wrong_method(client: FlaskClient) -> None:
    assert get_json(client, "/api/nope", status=404)["error"] == "not_found"
    response = client.delete("/api/coocook/chefs/1")
    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_unexpected_error_is_a_json_500_without_traceback(make_app: Any) -> None:
    app: Flask = make_app(seed=False, TESTING=False)

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert response.get_json()["error"] == "internal_server_error"
    assert "secret internals" not in text
    assert "Traceback" not in text


def test_missing_tables_are_a_json_500(make_app: Any) -> None:
    app = make_app(seed=False, TESTING=False)
    response = app.test_client().get("/api/products")
    assert response.status_code == 500
    assert "Traceback" not in response.get_data(as_text=True)
    assert response.get_json()["status"] == 500


def test_lists_compress_when_asked(client: FlaskClient) -> None:
    response = client.get("/api/coocook/chefs?per_page=50", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
