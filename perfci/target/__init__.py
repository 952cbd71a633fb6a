"""The target phase: the app built and seeded, served, called, and its SQL recorded.

``recipe`` builds the app in whatever shape it takes (factory or object,
Flask-SQLAlchemy or a named engine) the same way in every process;
``build`` adds the schema (``schema``: the seed's, or Alembic's head) and the
seed data; ``guard`` runs the target's own code (errors, exits, hangs);
``server`` serves it with gunicorn (``wsgi`` is gunicorn's entry point);
``context`` is the ``RunContext`` a check sees; ``recorder`` counts the
statements each request sends; ``endpoint`` is one configured request;
``discover`` finds a project's app and models for ``perfci init``.
"""
