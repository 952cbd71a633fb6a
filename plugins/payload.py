"""The built-in 'payload' check (being written; registers no check yet)."""
