"""The built-in 'load' check (being written; registers no check yet)."""
