"""Endpoint strings from perfci.yaml: parsing, subjects, derived copies."""

from __future__ import annotations

import pytest

from perfci.endpoint import Endpoint


def test_parse_and_subject() -> None:
    endpoint = Endpoint.parse("get /api/coocook/chefs?cuisine=Korean&per_page=12")
    assert endpoint.method == "GET"
    assert endpoint.path == "/api/coocook/chefs"
    assert endpoint.query == (("cuisine", "Korean"), ("per_page", "12"))
    assert endpoint.subject == "GET /api/coocook/chefs?cuisine=Korean&per_page=12"


def test_method_defaults_to_get() -> None:
    assert Endpoint.parse("/health").subject == "GET /health"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FETCH /x", "unknown HTTP method"),
        ("GET http://host/x", "a path starting with '/'"),
        ("GET /x extra", "expected 'METHOD /path'"),
        ("GET x", "a path starting with '/'"),
    ],
)
def test_malformed(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Endpoint.parse(text)


def test_with_query_replaces_a_parameter() -> None:
    endpoint = Endpoint.parse("GET /chefs?per_page=12&cuisine=Korean")
    assert endpoint.with_query(per_page="1").subject == "GET /chefs?cuisine=Korean&per_page=1"


def test_with_headers_replaces_case_insensitively() -> None:
    endpoint = Endpoint.parse("GET /x", headers={"accept-encoding": "br", "X-A": "1"})
    changed = endpoint.with_headers({"Accept-Encoding": "gzip"})
    assert dict(changed.headers) == {"Accept-Encoding": "gzip", "X-A": "1"}
    assert changed.subject == endpoint.subject
    assert endpoint.with_headers({}) is endpoint


def test_expected_statuses() -> None:
    default = Endpoint.parse("GET /x")
    assert [default.expects(s) for s in (200, 204, 302, 401, 404, 500)] == [
        True, True, True, False, False, False,
    ]  # fmt: skip
    missing = Endpoint.parse("GET /x", expect=[404])
    assert missing.expects(404) and not missing.expects(200)
    assert missing.expected == "404" and default.expected == "2xx/3xx"
    # Kept through the copies the checks make; not part of the endpoint's identity.
    assert missing.with_query(per_page="1").expect == (404,)
    assert missing.with_headers({"A": "b"}).expect == (404,)
    assert missing == default
