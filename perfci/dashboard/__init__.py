"""The perfci server's dashboard: server-rendered pages over the uploaded runs.

``dashboard_blueprint(data)`` serves the pages of any ``DashboardData`` (the
server's adapter over its history store); ``pages`` renders them (data in, HTML
out); ``run_url`` is a run page's address for links from GitHub.
"""

from __future__ import annotations

from perfci.dashboard.blueprint import CSP, dashboard_blueprint
from perfci.dashboard.data import DashboardData, ProjectInfo, RunRecord, RunRow, TrendEntry
from perfci.dashboard.urls import Urls, run_url

__all__ = [
    "CSP",
    "DashboardData",
    "ProjectInfo",
    "RunRecord",
    "RunRow",
    "TrendEntry",
    "Urls",
    "dashboard_blueprint",
    "run_url",
]
