"""The target phase: the app built and seeded, served, called, and its SQL recorded.

``build`` imports the app factory and seeds the scratch database; ``server``
serves it with gunicorn (``wsgi`` is gunicorn's entry point); ``context`` is
the ``RunContext`` a check sees; ``recorder`` counts the statements each
request sends; ``endpoint`` is one configured request.
"""
