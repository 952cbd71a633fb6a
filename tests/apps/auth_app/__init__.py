"""The auth app (session login with CSRF, token API, create-then-get) as a perfci project."""

from __future__ import annotations

import shutil
from pathlib import Path

from perfci.pytest_plugin import PerfciProject

HERE = Path(__file__).parent

SESSION_AUTH = """
  auth:
    request: POST /auth/login
    data: {username: alice, password: "${AUTH_PASSWORD:-correct horse}"}
    csrf:
      from: GET /auth/login
      regex: 'name="csrf_token" value="([^"]+)"'
"""

TOKEN_AUTH = """
  auth:
    request: POST /api/tokens
    basic: {username: alice, password: "correct horse"}
    token: $.token
"""

SESSION_ENDPOINTS = """
  endpoints:
    - GET /index
"""

TOKEN_ENDPOINTS = """
  endpoints:
    - GET /api/me/posts
    - request: GET /api/posts/{post_id}
      needs:
        post_id: "POST /api/posts -> $.id"
    - request: POST /api/posts
      json: {body: "created by perfci"}
      expect: [201]
"""


def auth_config(
    database: str = "sqlite",
    *,
    auth: str = SESSION_AUTH,
    endpoints: str = SESSION_ENDPOINTS,
    checks: str = "  n_plus_one: {}\n  payload: {}\n",
    extra: str = "",
) -> str:
    """A perfci.yaml for the auth app: ``auth`` and ``endpoints`` are target sections."""
    return (
        "suite: auth\n"
        "target:\n"
        "  app: authapp:create_app\n"
        "  seed: authapp:seed\n"
        f"  database: {database!r}\n"
        "  config:\n"
        "    AUTH_EXTRA_QUERIES: ${AUTH_EXTRA_QUERIES:-0}\n"
        "  server: {workers: 1, threads: 2}\n"
        f"{auth}{endpoints}"
        f"checks:\n{checks}"
        "baselines: {required: false}\n"
        "history: {enabled: false}\n"
        f"{extra}"
    )


def make_auth_project(project: PerfciProject, config: str) -> PerfciProject:
    """Copy the auth app into ``project`` and write ``config``."""
    shutil.copy(HERE / "authapp.py", project.path / "authapp.py")
    project.write_config(config)
    return project
