"""A measurement worker: one tree's target, built once, checks collected on request.

Run as ``python -P -m perfci.abtest.worker --config TREE/perfci.yaml``: the
target, seed, local plugins and files all come from the tree holding the config.
Protocol: one JSON object per line. The worker first answers
``{"ready": true}``, then for each ``{"collect": [check, ...]}`` it answers
``{"measurements": [...]}``; ``{"quit": true}`` or end of input ends it. A
failure is answered with ``{"error": message, "exit_code": code}``. stdout
carries only the protocol; anything else printed goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import IO, Any

from perfci.errors import ExitCode, PerfciError
from perfci.project import load_project
from perfci.runner import MeasureSession


def _terminate(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve(config_path: Path, protocol: IO[str], commands: IO[str], label: str) -> int:
    def send(message: dict[str, Any]) -> None:
        protocol.write(json.dumps(message) + "\n")
        protocol.flush()

    def progress(message: str) -> None:
        # stderr is the coordinator's progress channel (stdout carries the protocol).
        print(f"{label} | {message}", file=sys.stderr, flush=True)

    try:
        config, host = load_project(config_path)
        with MeasureSession(config, host, progress=progress) as session:
            send({"ready": True, "seeded": dict(session.context.seeded)})
            for line in commands:
                request = json.loads(line)
                if request.get("quit"):
                    break
                measurements = session.collect(request["collect"])
                send({"measurements": [m.to_dict() for m in measurements]})
    except PerfciError as error:
        send({"error": str(error), "exit_code": int(error.exit_code)})
        return int(error.exit_code)
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a bug: still one line to the coordinator, traceback on stderr
        import traceback

        traceback.print_exc()
        send({"error": f"worker crashed: {type(error).__name__}: {error}", "exit_code": 3})
        return int(ExitCode.TARGET)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--label", default="worker")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _terminate)
    # Keep the real stdout for the protocol; everything else printed goes to stderr.
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.exit(serve(args.config, protocol, sys.stdin, args.label))


if __name__ == "__main__":
    main()
