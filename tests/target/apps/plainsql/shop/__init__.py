"""A module-level Flask app on plain SQLAlchemy: an engine in a module and a scoped_session."""
