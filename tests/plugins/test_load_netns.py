"""Distributed load for real: Locust workers in their own network namespaces (and the
Kubernetes example that documents the same master/worker setup).

The runner (the Locust master) stays in this namespace; two workers run in
two others (``ip netns`` + a veth pair each), reach the master and the target
only through the veth links, and the target sees their traffic come from
their own addresses. The test creates every namespace and link and removes
them all, whatever happens.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from perfci.checks.load import RUNNER_COMMAND, LoadOptions, build_spec, run_load
from perfci.target.endpoint import Endpoint

needs_netns = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None,
    reason="needs root and iproute2's `ip` to create network namespaces",
)


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


class Namespace:
    """A network namespace joined to this one by a veth pair on a /30 of its own."""

    def __init__(self, tag: str, subnet: int) -> None:
        self.name = f"perfci-{tag}"
        self.host_link, self.inner_link = f"pcih{tag}", f"pcin{tag}"
        self.host_address = f"10.251.{subnet}.1"
        self.inner_address = f"10.251.{subnet}.2"

    def create(self) -> None:
        ip("netns", "add", self.name)
        ip("link", "add", self.host_link, "type", "veth", "peer", "name", self.inner_link)
        ip("link", "set", self.inner_link, "netns", self.name)
        ip("addr", "add", f"{self.host_address}/30", "dev", self.host_link)
        ip("link", "set", self.host_link, "up")
        inner = ("netns", "exec", self.name, "ip")
        ip(*inner, "addr", "add", f"{self.inner_address}/30", "dev", self.inner_link)
        ip(*inner, "link", "set", self.inner_link, "up")
        ip(*inner, "link", "set", "lo", "up")
        # Every address of this namespace (the other links' too) is reached through ours.
        ip(*inner, "route", "add", "default", "via", self.host_address)

    def remove(self) -> None:
        # Deleting the namespace deletes its end of the pair, and with it the other end.
        for command in (("netns", "del", self.name), ("link", "del", self.host_link)):
            subprocess.run(["ip", *command], capture_output=True, timeout=30)

    def exists(self) -> bool:
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        return any(line.split()[0] == self.name for line in listed.splitlines() if line)


@pytest.fixture
def namespaces() -> Iterator[list[Namespace]]:
    tag = f"{os.getpid() % 10000:04d}"
    made = [Namespace(f"{tag}{i}", 1 + (os.getpid() * 2 + i) % 250) for i in range(2)]
    try:
        for namespace in made:
            namespace.create()
        yield made
    finally:
        for namespace in made:
            namespace.remove()
        assert not any(namespace.exists() for namespace in made)


class Recording(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    clients: set[str] = set()

    def do_GET(self) -> None:
        self.clients.add(self.client_address[0])
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.mark.slow
@needs_netns
def test_workers_in_other_network_namespaces_generate_the_load(
    namespaces: list[Namespace], tmp_path: Path
) -> None:
    # The target and the master listen on the first link's host address (all host
    # addresses belong to this namespace, so both workers can reach it via their link).
    address = namespaces[0].host_address
    server = ThreadingHTTPServer((address, 0), Recording)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    master_port = free_port(address)
    worker = [sys.executable, *RUNNER_COMMAND, "worker", "--master-host", address]
    worker += ["--master-port", str(master_port)]
    workers = [
        subprocess.Popen(
            ["ip", "netns", "exec", namespace.name, *worker],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for namespace in namespaces
    ]
    try:
        options = LoadOptions(
            host=f"http://{address}:{server.server_address[1]}",
            stages=[4],
            duration=2,
            wait_time=0.01,
            master_bind=f"{address}:{master_port}",
            external_workers=2,
            worker_timeout=60,
        )
        spec = build_spec(str(options.host), [Endpoint.parse("/ok")], options)
        ((result, _cpu),) = run_load(spec, tmp_path, progress=lambda _: None, timeout=120)
    finally:
        for process in workers:
            try:
                process.wait(timeout=15)  # they quit when the master does
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        server.shutdown()
        server.server_close()
    assert result.workers == 2 and result.requests > 0 and result.failures == 0
    # The requests came from the workers' namespaces, not from this one.
    assert Recording.clients == {n.inner_address for n in namespaces}


def free_port(address: str) -> int:
    """A free TCP port on ``address`` (bound, then released for the master to take)."""
    with socket.socket() as probe:
        probe.bind((address, 0))
        port: int = probe.getsockname()[1]
        return port


def test_the_kubernetes_example_runs_the_documented_worker_command() -> None:
    manifests = Path(__file__).parents[2] / "docs" / "kubernetes" / "perfci-load.yaml"
    documents = {d["kind"]: d for d in yaml.safe_load_all(manifests.read_text()) if d}
    assert set(documents) == {"Service", "Job", "Deployment"}
    deployment, job = documents["Deployment"], documents["Job"]
    (worker,) = deployment["spec"]["template"]["spec"]["containers"]
    assert worker["command"] == [
        "python",
        *RUNNER_COMMAND,
        "worker",
        "--master-host",
        documents["Service"]["metadata"]["name"],
        "--master-port",
        "5557",
    ]
    (master,) = job["spec"]["template"]["spec"]["containers"]
    assert {"name": "PERFCI_LOAD_WORKERS", "value": str(deployment["spec"]["replicas"])} in (
        master["env"]
    )
    selector = documents["Service"]["spec"]["selector"]
    assert selector.items() <= job["spec"]["template"]["metadata"]["labels"].items()
