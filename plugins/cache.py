"""The built-in 'cache' check (being written; registers no check yet)."""
