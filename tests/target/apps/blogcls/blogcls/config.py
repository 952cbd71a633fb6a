"""The app's settings as a class, read at import like microblog's."""

from __future__ import annotations

import os


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY") or "blogcls-dev-secret"
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or "sqlite:///blogcls.db"
    POSTS_PER_PAGE = 10
