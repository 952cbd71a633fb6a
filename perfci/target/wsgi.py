"""The WSGI entry point perfci gives gunicorn: builds the target as the in-process run does.

The server process reads what to build from the environment that
``perfci.target.server.Server`` sets (the ``AppRecipe`` and the overrides), and
builds it with the same ``make_app``, so in-process and HTTP checks see the
same app.
"""

from __future__ import annotations

import json
import os

from perfci.target.recipe import AppRecipe, make_app

_recipe = AppRecipe.from_dict(json.loads(os.environ["PERFCI_TARGET_RECIPE"]))
_config = json.loads(os.environ.get("PERFCI_TARGET_CONFIG", "{}"))

application = make_app(_recipe, _config).app
