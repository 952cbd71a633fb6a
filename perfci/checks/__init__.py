"""perfci's built-in checks: one plugin module (or package) per check.

Each is an ordinary perfci plugin (it implements ``perfci_checks``), registered
by the plugin manager from :data:`BUILTIN_PLUGINS` before any entry-point or
local plugin, the way pytest registers its ``default_plugins``.
"""

#: The built-in plugins, by module; the plugin name is the last part (``plugins.disable: [pool]``).
BUILTIN_PLUGINS: tuple[str, ...] = (
    "perfci.checks.cache",
    "perfci.checks.indexes",
    "perfci.checks.instructions",
    "perfci.checks.latency",
    "perfci.checks.load",
    "perfci.checks.n_plus_one",
    "perfci.checks.payload",
    "perfci.checks.pool",
    "perfci.checks.pytest_benchmark",
)
