"""The built-in 'pytest_benchmark' check (being written; registers no check yet)."""
