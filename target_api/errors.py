"""JSON error responses for every status, without stack traces.

Body: ``{"error": "<code>", "message": "<text>", "status": <int>}``.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError

logger = logging.getLogger(__name__)


class InvalidParameter(BadRequest):
    """A query parameter or body field the API cannot accept (400)."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(description=f"{name}: {problem}")


def _code(error: HTTPException) -> str:
    return (error.name or "error").lower().replace(" ", "_").replace("'", "")


def handle_http_error(error: HTTPException) -> Response:
    response = error.get_response()
    status = error.code or 500
    body = jsonify(error=_code(error), message=error.description, status=status)
    body.status_code = status
    # Keep the headers the error needs (Allow on 405, WWW-Authenticate on 401).
    for name, value in response.headers.items():
        if name.lower() not in ("content-type", "content-length"):
            body.headers[name] = value
    return body


def handle_unexpected_error(error: Exception) -> Response:
    # Logged with its traceback for the operator; the client only learns it failed.
    logger.exception("unhandled error", exc_info=error)
    return handle_http_error(InternalServerError())


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected_error)
