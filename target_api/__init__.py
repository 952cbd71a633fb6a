"""The SoftFactory API: the Flask + SQLAlchemy service perfci checks and demonstrates on.

``create_app()`` builds it; ``target_api.seed.seed_database(app)`` fills it;
``gunicorn -c target_api/gunicorn_conf.py 'target_api:create_app()'`` serves it.
"""

from __future__ import annotations

from target_api.app import create_app
from target_api.extensions import cache, compress, db

__all__ = ["cache", "compress", "create_app", "db"]
