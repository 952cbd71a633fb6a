"""gunicorn lifecycle: started on loopback, always stopped, clear errors."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import requests

from perfci.config.model import ServerConfig
from perfci.errors import TargetError
from perfci.target.server import Server

TOY = Path(__file__).parents[1] / "toy"


def make_server(
    tmp_path: Path, config: dict[str, object] | None = None, **settings: object
) -> Server:
    return Server(
        "toyapp:create_app",
        dict(config or {}),
        ServerConfig(workers=1, threads=2, startup_timeout=20, **settings),  # type: ignore[arg-type]
        root=TOY,
        log_path=tmp_path / "gunicorn.log",
    )


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is gone for our purposes.
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()


def children_of(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-g", str(pid)], capture_output=True, text=True, check=False)
    return [int(p) for p in out.stdout.split()]


def test_server_serves_and_stops_every_process(tmp_path: Path) -> None:
    with make_server(tmp_path) as server:
        assert requests.get(server.base_url + "/health", timeout=5).json() == {"ok": True}
        pid = server.pid
        assert pid is not None
        group = children_of(pid)
        assert len(group) >= 2  # arbiter and a worker
    assert not server.alive()
    for member in group:
        assert not process_exists(member)


def test_port_in_use_is_a_one_line_target_error(tmp_path: Path) -> None:
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    try:
        with pytest.raises(TargetError, match=f"port {port} on 127.0.0.1 is in use"):
            make_server(tmp_path, port=port).start()
    finally:
        blocker.close()


def test_a_target_that_crashes_at_startup_is_reported(tmp_path: Path) -> None:
    server = make_server(tmp_path, {"TOY_BROKEN": True})
    with pytest.raises(TargetError, match="gunicorn exited") as info:
        server.start()
    assert "toy app refuses to start" in str(info.value) or "Worker failed" in str(info.value)
    assert not server.alive()


def test_stop_is_idempotent(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    server.start()
    server.stop()
    server.stop()
    assert server.pid is None


def test_sigint_to_the_owner_leaves_no_server_behind(tmp_path: Path) -> None:
    """A process that owns a Server and gets Ctrl-C stops gunicorn on the way out."""
    script = tmp_path / "owner.py"
    pidfile = tmp_path / "pid"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys, time
            from pathlib import Path
            from perfci.config.model import ServerConfig
            from perfci.target.server import Server
            server = Server("toyapp:create_app", {{}}, ServerConfig(workers=1, threads=1),
                            root=Path({str(TOY)!r}), log_path=Path({str(tmp_path / "log")!r}))
            try:
                server.start()
                Path({str(pidfile)!r}).write_text(str(server.pid))
                time.sleep(60)
            finally:
                server.stop()
            """
        )
    )
    owner = subprocess.Popen([sys.executable, str(script)])
    deadline = time.monotonic() + 30
    while not pidfile.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pidfile.exists(), "the server did not start"
    pid = int(pidfile.read_text())
    group = children_of(pid)
    owner.send_signal(2)  # SIGINT, as Ctrl-C
    owner.wait(timeout=30)
    for member in [pid, *group]:
        assert not process_exists(member)


def test_a_tree_with_its_own_perfci_does_not_replace_the_running_one(tmp_path: Path) -> None:
    """perfci's own repository (and a base worktree of it) holds a perfci package too."""
    tree = tmp_path / "tree"
    (tree / "perfci").mkdir(parents=True)
    (tree / "perfci" / "__init__.py").write_text("raise ImportError('the tree copy of perfci')\n")
    (tree / "toyapp.py").write_text((TOY / "toyapp.py").read_text())
    server = Server(
        "toyapp:create_app",
        {},
        ServerConfig(workers=1, threads=2, startup_timeout=20),
        root=tree,
        log_path=tmp_path / "gunicorn.log",
    )
    with server:
        assert requests.get(server.base_url + "/health", timeout=5).json() == {"ok": True}
