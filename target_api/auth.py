"""Bearer-token authentication for the write endpoint."""

from __future__ import annotations

import hmac

from flask import current_app, request
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized


def require_token() -> None:
    """Raise 401 unless the request carries ``Authorization: Bearer <API_TOKEN>``."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    expected = str(current_app.config["API_TOKEN"])
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), expected.encode()
    ):
        raise Unauthorized(
            description="a valid 'Authorization: Bearer <token>' header is required",
            www_authenticate=WWWAuthenticate("bearer", {"realm": "softfactory"}),
        )
