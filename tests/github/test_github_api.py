"""The API client against the fake server: retries, Retry-After, 403s, pagination, no token."""

from __future__ import annotations

import email.utils
import socket
from collections.abc import Iterator

import pytest

from perfci.errors import ExitCode, PublishError
from perfci.github.api import GitHubAPI, Secret
from tests.github.fake_github import TOKEN, FakeGitHub, RunningFake

STATUS_PATH = "/repos/acme/shop/statuses/" + "a" * 40
PAYLOAD = {"state": "success", "context": "perfci", "description": "PASSED"}


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def api(fake_github: FakeGitHub, sleeps: list[float]) -> Iterator[GitHubAPI]:
    with GitHubAPI(
        fake_github.url, Secret(TOKEN), sleep=sleeps.append, clock=lambda: 1000.0
    ) as client:
        yield client


def test_500_then_201_is_retried_after_a_backoff(
    api: GitHubAPI, fake_github: FakeGitHub, sleeps: list[float]
) -> None:
    fake_github.fail("POST", "/statuses/", 500)
    response = api.request("POST", STATUS_PATH, json=PAYLOAD, what="status")
    assert response.status_code == 201
    assert fake_github.lines() == [f"POST {STATUS_PATH}"] * 2
    assert [r.body for r in fake_github.requests] == [PAYLOAD, PAYLOAD]
    assert sleeps == [1.0]


def test_backoff_doubles_then_gives_up_in_one_line(
    api: GitHubAPI, fake_github: FakeGitHub, sleeps: list[float]
) -> None:
    fake_github.fail("POST", "/statuses/", 502, times=10, message="Server Error")
    with pytest.raises(PublishError) as caught:
        api.request("POST", STATUS_PATH, json=PAYLOAD, what="status")
    assert len(fake_github.requests) == 5
    assert sleeps == [1.0, 2.0, 4.0, 8.0]
    message = str(caught.value)
    assert message == f"POST {STATUS_PATH}: 502 Bad Gateway (Server Error) (gave up after retrying)"
    assert caught.value.exit_code == ExitCode.PUBLISH


def test_429_honours_retry_after_seconds(
    api: GitHubAPI, fake_github: FakeGitHub, sleeps: list[float]
) -> None:
    fake_github.fail("POST", "/statuses/", 429, headers={"Retry-After": "7"})
    assert api.request("POST", STATUS_PATH, json=PAYLOAD).status_code == 201
    assert sleeps == [7.0]


def test_retry_after_as_an_http_date(
    api: GitHubAPI, fake_github: FakeGitHub, sleeps: list[float]
) -> None:
    when = email.utils.formatdate(1030.0, usegmt=True)  # the fake clock says 1000
    fake_github.fail("POST", "/statuses/", 503, headers={"Retry-After": when})
    assert api.request("POST", STATUS_PATH, json=PAYLOAD).status_code == 201
    assert sleeps == [30.0]


def test_403_rate_limit_waits_for_the_reset(
    api: GitHubAPI, fake_github: FakeGitHub, sleeps: list[float]
) -> None:
    fake_github.fail(
        "POST",
        "/statuses/",
        403,
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1012"},
        message="API rate limit exceeded",
    )
    assert api.request("POST", STATUS_PATH, json=PAYLOAD).status_code == 201
    assert sleeps == [12.0]


def test_secondary_rate_limit_403_with_retry_after(
    api: GitHubAPI, fake_github: FakeGitHub, sleeps: list[float]
) -> None:
    fake_github.fail(
        "POST",
        "/statuses/",
        403,
        headers={"Retry-After": "3"},
        message="You have exceeded a secondary rate limit",
    )
    assert api.request("POST", STATUS_PATH, json=PAYLOAD).status_code == 201
    assert sleeps == [3.0]


def test_a_retry_after_too_long_gives_up_without_waiting(
    api: GitHubAPI, fake_github: FakeGitHub, sleeps: list[float]
) -> None:
    fake_github.fail("POST", "/statuses/", 429, headers={"Retry-After": "3600"})
    with pytest.raises(PublishError, match="asks to wait 3600 s"):
        api.request("POST", STATUS_PATH, json=PAYLOAD)
    assert sleeps == []


@pytest.mark.parametrize(
    ("what", "permission"),
    [("status", "statuses: write"), ("comment", "pull-requests: write")],
)
def test_403_without_rate_limit_is_explained_in_one_line_and_not_retried(
    api: GitHubAPI, fake_github: FakeGitHub, sleeps: list[float], what: str, permission: str
) -> None:
    fake_github.fail("POST", "/statuses/", 403, message="Resource not accessible by integration")
    with pytest.raises(PublishError) as caught:
        api.request("POST", STATUS_PATH, json=PAYLOAD, what=what)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"POST {STATUS_PATH}: 403 Forbidden")
    assert f"permissions: {permission}" in message
    assert "workflow_run" in message
    assert len(fake_github.requests) == 1
    assert sleeps == []


def test_422_is_final(api: GitHubAPI, fake_github: FakeGitHub, sleeps: list[float]) -> None:
    fake_github.fail("POST", "/statuses/", 422, message="Validation Failed")
    with pytest.raises(PublishError, match=r"422 Unprocessable Entity \(Validation Failed\)$"):
        api.request("POST", STATUS_PATH, json=PAYLOAD)
    assert len(fake_github.requests) == 1


def test_the_token_is_sent_but_never_shown(
    api: GitHubAPI, fake_github: FakeGitHub, sleeps: list[float]
) -> None:
    api.request("POST", STATUS_PATH, json=PAYLOAD)
    assert fake_github.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in repr(api)
    assert TOKEN not in repr(Secret(TOKEN)) + str(Secret(TOKEN)) + f"{Secret(TOKEN)}"
    # Even a server that echoes the token in its message does not get it printed.
    fake_github.fail("POST", "/statuses/", 400, message=f"bad token {TOKEN}")
    with pytest.raises(PublishError) as caught:
        api.request("POST", STATUS_PATH, json=PAYLOAD)
    assert TOKEN not in str(caught.value)
    assert "bad token ***" in str(caught.value)
    assert TOKEN not in repr(caught.value)


def test_connection_errors_are_retried_then_reported(sleeps: list[float]) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = GitHubAPI(f"http://127.0.0.1:{port}", Secret(TOKEN), sleep=sleeps.append)
    with client, pytest.raises(PublishError, match=r"^POST /repos/x/y/statuses/1: ConnectionError"):
        client.request("POST", "/repos/x/y/statuses/1", json=PAYLOAD)
    assert sleeps == [1.0, 2.0, 4.0, 8.0]


def test_paginate_follows_next_links(api: GitHubAPI, fake_github: FakeGitHub) -> None:
    fake_github.page_size = 2
    for i in range(5):
        fake_github.add_comment(3, f"comment {i}")
    bodies = [c["body"] for c in api.paginate("/repos/acme/shop/issues/3/comments")]
    assert bodies == [f"comment {i}" for i in range(5)]
    assert [r.query for r in fake_github.requests] == [
        {"per_page": "100"},
        {"per_page": "2", "page": "2"},
        {"per_page": "2", "page": "3"},
    ]


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        (TOKEN + "\n", "starts or ends with whitespace (a trailing newline?)"),
        (" " + TOKEN, "starts or ends with whitespace (a trailing newline?)"),
        ("tök€n", "holds non-ASCII characters"),
        ("to ken", "holds characters a GitHub token never has"),
        ("", "holds characters a GitHub token never has"),
    ],
)
def test_a_malformed_token_is_refused_up_front_without_its_value(
    fake_github: FakeGitHub, sleeps: list[float], token: str, problem: str
) -> None:
    with pytest.raises(PublishError) as caught:
        GitHubAPI(fake_github.url, Secret(token), sleep=sleeps.append)
    message = str(caught.value)
    assert message.startswith(f"GITHUB_TOKEN {problem}")
    assert (token.strip() or "\0") not in message
    assert fake_github.requests == [] and sleeps == []


def test_every_rendering_of_the_token_is_scrubbed() -> None:
    renderings = Secret("a b\n/é").renderings()
    assert {"a b\n/é", "a b\\n/é", "a%20b%0A%2F%C3%A9", "a+b%0A%2F%C3%A9"} <= set(renderings)


def test_a_next_link_to_another_host_never_gets_the_token(
    api: GitHubAPI, fake_github: FakeGitHub
) -> None:
    elsewhere = RunningFake()
    try:
        link = f'<{elsewhere.fake.url}/repos/acme/shop/issues/3/comments?page=2>; rel="next"'
        fake_github.fail("GET", "/comments", 200, headers={"Link": link}, body=[{"body": "x"}])
        with pytest.raises(PublishError, match="refusing to send the token to 127.0.0.1:"):
            list(api.paginate("/repos/acme/shop/issues/3/comments"))
    finally:
        elsewhere.stop()
    assert elsewhere.fake.requests == []
