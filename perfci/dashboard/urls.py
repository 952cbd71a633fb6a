"""The dashboard's addresses, built in one place (pages, the blueprint's routes, publishers).

Every path segment and query value is percent-encoded here: a project name,
branch or metric from an upload can never turn into another path or parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

#: Where the blueprint serves its stylesheets and scripts (relative to its root).
ASSETS = "/dashboard-assets"


def _segment(text: str) -> str:
    return quote(text, safe="")


@dataclass(frozen=True)
class Urls:
    """Paths of the dashboard's pages under ``root`` ("" when mounted at the site's root)."""

    root: str = ""

    def home(self) -> str:
        return f"{self.root}/"

    def project(
        self,
        project: str,
        *,
        branch: str | None = None,
        status: str | None = None,
        before: int | None = None,
    ) -> str:
        """The runs page of ``project``, filtered by branch and status, from run ``before`` down."""
        query = {
            key: value
            for key, value in (("branch", branch), ("status", status), ("before", before))
            if value is not None
        }
        path = f"{self.root}/projects/{_segment(project)}/"
        return f"{path}?{urlencode(query)}" if query else path

    def run(self, project: str, run_id: int) -> str:
        return f"{self.root}/projects/{_segment(project)}/runs/{int(run_id)}"

    def trend(self, project: str, metric: str | None = None, *, branch: str | None = None) -> str:
        query = {k: v for k, v in (("metric", metric), ("branch", branch)) if v is not None}
        path = f"{self.root}/projects/{_segment(project)}/trend"
        return f"{path}?{urlencode(query)}" if query else path

    def pull(self, project: str, number: int) -> str:
        return f"{self.root}/projects/{_segment(project)}/pulls/{int(number)}"

    def asset(self, name: str) -> str:
        return f"{self.root}{ASSETS}/{name}"


def run_url(base_url: str, project: str, run_id: int) -> str:
    """The absolute address of a run's page, for links from outside (a commit status's
    ``target_url``, the sticky PR comment): ``https://perfci.example/projects/api/runs/42``.

    ``base_url`` is where the dashboard is served (scheme, host, any path prefix).
    """
    return Urls(base_url.rstrip("/")).run(project, run_id)
