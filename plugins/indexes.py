"""The built-in 'indexes' check (being written; registers no check yet)."""
