"""The WSGI entry point perfci gives gunicorn: builds the target from its factory.

The server process reads what to build from the environment that
``perfci.target.server.Server`` sets, so the same factory and overrides serve both
in-process checks and HTTP checks.
"""

from __future__ import annotations

import json
import os

from perfci.target.build import import_object

_spec = os.environ["PERFCI_TARGET_APP"]
_config = json.loads(os.environ.get("PERFCI_TARGET_CONFIG", "{}"))

application = import_object(_spec)(_config)
