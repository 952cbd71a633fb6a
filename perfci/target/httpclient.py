"""An HTTP client of the target that sends exactly what ``Endpoint.wire`` builds.

Used by the HTTP checks in the perfci process and by each Locust user of the
load check (so it imports neither Flask nor the target).
"""

from __future__ import annotations

import http.cookiejar
from collections.abc import Mapping

import requests

from perfci.errors import TargetError
from perfci.target.endpoint import Endpoint, Wire
from perfci.target.login import Reply


class HttpClient:
    """One HTTP client of the target: a keep-alive session and its own login's credentials.

    It keeps no cookies and follows no redirects, like the in-process test
    client: what is sent is exactly ``Endpoint.wire``, what is measured is the
    answer of the endpoint itself.
    """

    def __init__(
        self, session: requests.Session, base_url: str, shared_headers: Mapping[str, str]
    ) -> None:
        session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        self.session = session
        self.base_url = base_url
        self.shared_headers = shared_headers
        self.credentials: Mapping[str, str] = {}

    def prepared(self, endpoint: Endpoint) -> Endpoint:
        """``endpoint`` with ``target.headers`` and this client's credentials."""
        return endpoint.under_headers(self.shared_headers).with_credentials(self.credentials)

    def request(
        self, endpoint: Endpoint, headers: Mapping[str, str] | None = None, *, timeout: float = 30.0
    ) -> requests.Response:
        """Send ``endpoint`` with this client's credentials; requests' errors propagate."""
        return self.send_raw(self.prepared(endpoint).wire(headers), timeout)

    def send(self, wire: Wire) -> Reply:
        """Send ``wire`` as it is; TargetError when the server cannot be reached."""
        try:
            response = self.send_raw(wire, 30.0)
        except requests.RequestException as error:
            raise TargetError(f"{wire.method} {wire.target}: {type(error).__name__}") from None
        return Reply(
            status=response.status_code,
            location=response.headers.get("Location"),
            set_cookies=tuple(response.raw.headers.getlist("Set-Cookie")),
            body=response.content,
        )

    def send_raw(self, wire: Wire, timeout: float) -> requests.Response:
        """Send ``wire`` as it is (no credentials added); requests' errors propagate."""
        return self.session.request(
            wire.method,
            self.base_url + wire.target,
            headers=dict(wire.headers),
            data=wire.body,
            timeout=timeout,
            allow_redirects=False,
        )
