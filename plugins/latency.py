"""The built-in 'latency' check (being written; registers no check yet)."""
