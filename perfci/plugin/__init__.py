"""The plugin layer: hook specifications (``spec``) and the manager that registers plugins."""
