"""The built-in 'n_plus_one' check (being written; registers no check yet)."""
