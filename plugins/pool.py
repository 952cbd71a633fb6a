"""The built-in 'pool' check (being written; registers no check yet)."""
