"""Runs the target under gunicorn on loopback, and always stops it."""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

from perfci.config.model import ServerConfig
from perfci.errors import TargetError
from perfci.process import start_process_group, stop_process_group
from perfci.target.recipe import PROBE_PATH, AppRecipe

#: gunicorn's start: perfci from this installation first, then the target's tree on sys.path.
#: A tree that holds a copy of perfci (perfci's own repository, a base worktree of it) must
#: not replace the running perfci's WSGI entry point with its own version.
_BOOT = (
    "import sys, perfci.target; "
    "sys.path.insert(0, sys.argv[1]); sys.argv = ['gunicorn', *sys.argv[2:]]; "
    "from gunicorn.app.wsgiapp import run; run()"
)


class Server:
    """gunicorn serving ``app_spec`` (``target.app`` or its whole recipe) built with
    ``app_config``; use as a context manager.

    The listening socket is bound here and handed to gunicorn as a file
    descriptor, so a free port cannot be taken between choosing and binding.
    """

    def __init__(
        self,
        app_spec: str | AppRecipe,
        app_config: dict[str, Any],
        settings: ServerConfig,
        *,
        root: Path,
        log_path: Path,
        extra_env: dict[str, str] | None = None,
        health: str | None = None,
    ) -> None:
        self.recipe = app_spec if isinstance(app_spec, AppRecipe) else AppRecipe(app_spec)
        self.app_spec = self.recipe.app
        #: The readiness probe: ``settings.health``, else ``health``, else perfci's own route.
        self.health = settings.health or health or PROBE_PATH
        self.app_config = app_config
        self.settings = settings
        self.root = root
        self.log_path = log_path
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self._socket: socket.socket | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        self._socket = self._bind()
        self.port = self._socket.getsockname()[1]
        command = [
            sys.executable,
            "-P",  # nothing of the tree's on sys.path before perfci is imported (_BOOT)
            "-c",
            _BOOT,
            str(self.root),
            "--bind",
            f"fd://{self._socket.fileno()}",
            "--workers",
            str(self.settings.workers),
            "--threads",
            str(self.settings.threads),
            "--graceful-timeout",
            "5",
            "--log-level",
            "warning",
        ]
        if self.settings.config:
            config_path = Path(self.settings.config)
            if not config_path.is_absolute():
                config_path = self.root / config_path
            if not config_path.is_file():
                raise TargetError(f"target.server.config: no such file {config_path}")
            command += ["--config", str(config_path)]
        command.append("perfci.target.wsgi:application")
        env = dict(os.environ)
        env.update(self.extra_env)
        env["PERFCI_TARGET_RECIPE"] = json.dumps(self.recipe.to_dict())
        env["PERFCI_TARGET_CONFIG"] = json.dumps(self.app_config)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = start_process_group(  # its own process group: stopped as a whole
                command,
                cwd=self.root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(self._socket.fileno(),),
            )
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise

    def _bind(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", self.settings.port))
        except OSError as error:
            sock.close()
            if error.errno == errno.EADDRINUSE:
                raise TargetError(
                    f"target.server.port: port {self.settings.port} on 127.0.0.1 is in use "
                    "(set port: 0 for a free one)"
                ) from None
            raise TargetError(f"cannot bind 127.0.0.1:{self.settings.port}: {error}") from None
        sock.listen(2048)
        sock.set_inheritable(True)
        return sock

    def _wait_healthy(self) -> None:
        assert self.process is not None
        url = self.base_url + self.health
        deadline = time.monotonic() + self.settings.startup_timeout
        last_error = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise TargetError(
                    f"gunicorn exited with code {self.process.returncode} while starting: "
                    f"{self.log_tail()}"
                )
            try:
                response = requests.get(url, timeout=2)
            except requests.RequestException as error:
                last_error = type(error).__name__
            else:
                if response.status_code == 200:
                    return
                last_error = f"HTTP {response.status_code}"
            time.sleep(0.1)
        raise TargetError(
            f"the target did not answer {self.health} within "
            f"{self.settings.startup_timeout:g}s ({last_error}): {self.log_tail()}"
        )

    def log_tail(self, lines: int = 3) -> str:
        """The last lines of the server log, joined on one line."""
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no server log)"
        tail = [line.strip() for line in text[-lines:] if line.strip()]
        return " | ".join(tail) or "(empty server log)"

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM the process group, then SIGKILL what is left; safe to call twice."""
        process, self.process = self.process, None
        if process is not None:
            stop_process_group(process)  # gunicorn's workers too: they belong to its group
        if self._socket is not None:
            self._socket.close()
            self._socket = None
