"""perfci's built-in checks, installed as the ``perfci.checks`` package.

Each module is an ordinary perfci plugin, registered through the ``perfci``
entry-point group exactly like a third-party one.
"""
