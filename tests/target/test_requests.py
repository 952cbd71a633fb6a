"""One request builder for every client: bodies, headers, needs, logins, login redirects."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request

from perfci.config.load import read_config
from perfci.config.model import AuthConfig
from perfci.errors import ConfigError, TargetError
from perfci.target.context import RunContext
from perfci.target.endpoint import Endpoint, Need, Wire
from perfci.target.login import (
    Reply,
    cookie_header,
    cookies_of,
    extract,
    extract_text,
    login,
    parse_path,
)
from perfci.testing import run_context

# --- Endpoint.wire: the bytes every client sends ------------------------------------


def test_a_form_body_is_urlencoded_with_its_content_type() -> None:
    endpoint = Endpoint.parse("POST /login", data={"user": "a b", "n": 2, "remember": True})
    wire = endpoint.wire()
    assert wire.body == b"user=a+b&n=2&remember=y"
    assert ("Content-Type", "application/x-www-form-urlencoded") in wire.headers


def test_a_json_body_is_serialized_with_its_content_type() -> None:
    wire = Endpoint.parse("POST /x", json={"k": [1]}).wire()
    assert wire.body == b'{"k": [1]}'
    assert dict(wire.headers) == {"Content-Type": "application/json"}


def test_json_and_data_together_are_refused() -> None:
    with pytest.raises(ValueError, match="either json or data"):
        Endpoint.parse("POST /x", json={}, data={"a": "1"})


def test_headers_credentials_then_endpoint_then_check() -> None:
    endpoint = (
        Endpoint.parse("GET /x", headers={"X-Own": "endpoint", "authorization": "Bearer own"})
        .under_headers({"X-Own": "target", "X-Shared": "target"})
        .with_credentials({"Authorization": "Bearer login", "Cookie": "s=1"})
    )
    headers = dict(endpoint.wire({"x-shared": "check"}).headers)
    assert headers == {
        "Cookie": "s=1",
        "authorization": "Bearer own",
        "X-Own": "endpoint",
        "x-shared": "check",
    }


def test_credentials_stay_out_of_the_subject_repr_and_equality() -> None:
    plain = Endpoint.parse("GET /x")
    logged_in = plain.with_credentials({"Authorization": "Bearer s3cret"})
    assert logged_in == plain
    assert "s3cret" not in repr(logged_in)
    assert logged_in.subject == "GET /x"


def test_needs_fill_the_path_but_not_the_subject() -> None:
    need = Need("post_id", Endpoint.parse("POST /posts"), "$.id")
    endpoint = Endpoint.parse("GET /posts/{post_id}?of={post_id}", needs=[need])
    assert endpoint.subject == "GET /posts/{post_id}?of=%7Bpost_id%7D"
    resolved = endpoint.with_values({"post_id": "7/8"})
    assert resolved.target == "/posts/7%2F8?of=7%2F8"
    assert resolved.wire().target == resolved.target
    with pytest.raises(ValueError, match="was not resolved"):
        _ = endpoint.target


@pytest.mark.parametrize(
    ("text", "needs", "message"),
    [
        ("GET /posts/{pid}", ["post_id"], "unknown variable {pid}"),
        ("GET /posts/1", ["post_id"], "needs.post_id is not used"),
    ],
)
def test_variables_and_needs_must_match(text: str, needs: list[str], message: str) -> None:
    declared = [Need(name, Endpoint.parse("POST /posts"), "$.id") for name in needs]
    with pytest.raises(ValueError, match=message):
        Endpoint.parse(text, needs=declared)


# --- login redirects are not answers ---------------------------------------------


@pytest.mark.parametrize(
    "location", ["/auth/login?next=/index", "http://x/login", "/accounts/sign-in/", "/signin"]
)
def test_a_redirect_to_a_login_page_is_not_expected(location: str) -> None:
    endpoint = Endpoint.parse("GET /index")
    assert not endpoint.expects(302, location)
    problem = endpoint.problem(302, location)
    assert problem is not None and "redirect to the login page" in problem


def test_other_redirects_and_expected_ones_pass() -> None:
    assert Endpoint.parse("GET /old").expects(301, "/new")
    assert Endpoint.parse("GET /logout").expects(302, "/")
    assert Endpoint.parse("GET /index", expect=[302]).expects(302, "/auth/login")
    assert not Endpoint.parse("GET /index").expects(401)
    assert "configure target.auth" in (Endpoint.parse("GET /a").problem(401) or "")


# --- JSON paths and cookies --------------------------------------------------------


def test_json_path_subset() -> None:
    document = {"items": [{"id": 3}, {"id": 4}], "weird key": {"x": "y"}}
    assert parse_path("$.items[0].id") == ("items", 0, "id")
    assert extract(document, "$.items[-1].id") == 4
    assert extract(document, "$['weird key'].x") == "y"
    assert extract(document, "$") == document
    with pytest.raises(LookupError):
        extract(document, "$.items[2]")
    with pytest.raises(LookupError):
        extract_text(b'{"id": {"nested": 1}}', "$.id")  # not a string or number
    with pytest.raises(LookupError):
        extract_text(b"<html>", "$.id")


@pytest.mark.parametrize("path", ["id", "$..id", "$.items[*]", "$.a[?(@.b)]"])
def test_json_paths_outside_the_subset_are_refused(path: str) -> None:
    with pytest.raises(ValueError, match="JSON path"):
        parse_path(path)


def test_cookies_are_kept_by_name_and_sent_back() -> None:
    jar = cookies_of(["session=abc; Path=/; HttpOnly", "theme=dark", "session=def; Path=/"])
    assert jar == {"session": "def", "theme": "dark"}
    assert cookie_header(jar) == {"Cookie": "session=def; theme=dark"}
    assert cookie_header({}) == {}


# --- the login step, with any client ----------------------------------------------


class FakeClient:
    """Answers by method and path; records what was sent."""

    def __init__(self, answers: dict[str, Reply]) -> None:
        self.answers = answers
        self.sent: list[Wire] = []

    def __call__(self, wire: Wire) -> Reply:
        self.sent.append(wire)
        return self.answers[f"{wire.method} {wire.target}"]


def test_a_session_login_posts_the_csrf_token_with_the_form_page_cookie() -> None:
    auth = AuthConfig.model_validate(
        {
            "request": "POST /login",
            "data": {"user": "alice"},
            "csrf": {"from": "GET /login", "regex": 'value="([^"]+)"'},
        }
    )
    client = FakeClient(
        {
            "GET /login": Reply(200, None, ("pre=1; Path=/",), b'<input value="tok">'),
            "POST /login": Reply(302, "/home", ("session=s; Path=/",), b""),
        }
    )
    credentials = login(auth, client, {"X-Team": "perf"})
    assert credentials == {"Cookie": "pre=1; session=s"}
    post = client.sent[1]
    assert post.body == b"user=alice&csrf_token=tok"
    assert dict(post.headers)["Cookie"] == "pre=1"
    assert dict(post.headers)["X-Team"] == "perf"


def test_a_token_login_sends_basic_auth_and_keeps_the_token_as_a_header() -> None:
    auth = AuthConfig.model_validate(
        {"request": "POST /tokens", "basic": {"username": "a", "password": "b"}, "token": "$.t"}
    )
    client = FakeClient({"POST /tokens": Reply(200, None, (), b'{"t": "xyz"}')})
    assert login(auth, client, {}) == {"Authorization": "Bearer xyz"}
    assert dict(client.sent[0].headers)["Authorization"] == "Basic YTpi"


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"POST /tokens": Reply(401, None, (), b"")}, "POST /tokens answered HTTP 401"),
        ({"POST /tokens": Reply(200, None, (), b"{}")}, r"target.auth.token: \$.t matched nothing"),
    ],
)
def test_a_failed_login_names_the_step_and_status(answers: dict[str, Reply], message: str) -> None:
    auth = AuthConfig.model_validate({"request": "POST /tokens", "token": "$.t"})
    with pytest.raises(TargetError, match=message):
        login(auth, FakeClient(answers), {})


def test_a_login_that_sets_nothing_is_an_error() -> None:
    auth = AuthConfig.model_validate({"request": "POST /login"})
    client = FakeClient({"POST /login": Reply(200, None, (), b"ok")})
    with pytest.raises(TargetError, match="set no cookie"):
        login(auth, client, {})


# --- the in-process client sends the Cookie header it is given ----------------------


@pytest.fixture
def echo_ctx(tmp_path: Path) -> Iterator[RunContext]:
    app = Flask("echo")

    @app.route("/echo", methods=["GET", "POST"])
    def echo() -> Any:
        return {"cookies": dict(request.cookies), "form": dict(request.form)}

    with run_context(app, tmp_path, endpoints=["GET /echo"]) as ctx:
        yield ctx


def test_the_in_process_client_keeps_a_cookie_header(echo_ctx: RunContext) -> None:
    """Werkzeug's client replaced it by its own empty jar: the page was measured logged out."""
    endpoint = Endpoint.parse("GET /echo", headers={"Cookie": "session=abc"})
    assert echo_ctx.call(endpoint).get_json()["cookies"] == {"session": "abc"}
    echo_ctx.credentials = {"Cookie": "session=login"}
    assert echo_ctx.call(Endpoint.parse("GET /echo")).get_json()["cookies"] == {"session": "login"}


def test_the_in_process_client_sends_form_bodies(echo_ctx: RunContext) -> None:
    endpoint = Endpoint.parse("POST /echo", data={"a": "1"})
    assert echo_ctx.call(endpoint).get_json()["form"] == {"a": "1"}


# --- perfci.yaml: file:line errors ---------------------------------------------------


def config_error(tmp_path: Path, target: str) -> str:
    path = tmp_path / "perfci.yaml"
    path.write_text(
        "target:\n  app: app:create_app\n" + textwrap.indent(textwrap.dedent(target), "  ")
    )
    with pytest.raises(ConfigError) as info:
        read_config(path, {})
    return str(info.value)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            """\
              endpoints:
                - request: GET /posts/{pid}
                  needs: {post_id: "POST /posts -> $.id"}
            """,
            "perfci.yaml:4: target.endpoints[0]: unknown variable {pid}",
        ),
        (
            """\
              endpoints:
                - request: GET /posts/{post_id}
                  needs: {post_id: "POST /posts -> $..id"}
            """,
            "perfci.yaml:4: target.endpoints[0]: needs.post_id: unsupported JSON path",
        ),
        (
            """\
              endpoints:
                - request: GET /posts/{post_id}
                  needs: {post_id: "POST /posts"}
            """,
            "perfci.yaml:4: target.endpoints[0]: needs.post_id: expected 'METHOD /path -> $",
        ),
        (
            """\
              auth:
                request: POST /login
                csrf: {from: GET /login, regex: 'value=".+"'}
            """,
            "perfci.yaml:5: target.auth.csrf.regex: the regex needs a group",
        ),
        (
            """\
              auth: {request: POST /tokens, token: "token"}
            """,
            "perfci.yaml:3: target.auth: a JSON path starts with '$'",
        ),
        (
            """\
              headers: {"Bad Name": x}
            """,
            "perfci.yaml:3: target.headers: header name 'Bad Name' is not an HTTP token",
        ),
    ],
)
def test_config_errors_name_file_and_line(tmp_path: Path, target: str, message: str) -> None:
    assert config_error(tmp_path, target).startswith(message)


def test_target_headers_go_under_each_endpoints_own(tmp_path: Path) -> None:
    from perfci.config.load import build_endpoints

    path = tmp_path / "perfci.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            target:
              app: app:create_app
              headers: {X-Api: "2", Accept: application/json}
              endpoints:
                - GET /a
                - request: GET /b
                  headers: {x-api: "3"}
                - request: GET /posts/{post_id}
                  needs: {post_id: "POST /posts -> $.id"}
                - request: POST /posts
                  json: {title: t}
            """
        )
    )
    model, source = read_config(path, {})
    a, b, post, create = build_endpoints(model, source.where)
    assert dict(a.headers) == {"X-Api": "2", "Accept": "application/json"}
    assert dict(b.headers) == {"x-api": "3", "Accept": "application/json"}
    # A need named like a configured endpoint sends that endpoint's body (and target headers).
    (need,) = post.needs
    assert need.request.json == {"title": "t"} and need.path == "$.id"
    assert dict(need.request.headers)["X-Api"] == "2"
    assert create.json == {"title": "t"}
