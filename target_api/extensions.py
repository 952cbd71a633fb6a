"""The Flask extensions, created unbound and attached by :func:`target_api.create_app`."""

from __future__ import annotations

from flask_caching import Cache
from flask_compress import Compress
from flask_sqlalchemy import SQLAlchemy

from target_api.models import Base

db = SQLAlchemy(model_class=Base)
cache = Cache()
compress = Compress()
