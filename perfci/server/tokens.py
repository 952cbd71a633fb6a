"""Write tokens of ``perfci server`` projects: shown once, stored as a SHA-256 digest.

A token is 32 random bytes (``secrets.token_urlsafe``) behind a ``pci_``
prefix, so a leaked one is recognisable in a secret scanner. The store keeps
only ``digest(token)``; the server looks the digest up and compares it again
with ``hmac.compare_digest``.
"""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "pci_"


def new_token() -> str:
    """A fresh token (``pci_`` and 43 URL-safe characters)."""
    return PREFIX + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """The SHA-256 hex digest stored for ``token`` (64 characters)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
