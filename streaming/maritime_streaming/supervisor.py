"""`maritime-bronze`: start, stop and watch the Kafka-to-Bronze worker.

`start` runs a supervisor in the background (pid file and log under var/): it restarts
the worker with backoff when a query dies, and gives up when the worker refuses to
start (exit 2, e.g. a missing checkpoint). `stop` asks for a clean stop after the
current batch and kills what is left after a timeout. `run` is the worker in the
foreground, for containers whose runtime restarts it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

from maritimeiq.config import get_config
from maritimeiq.process import ManagedProcess, wait_until

SUPERVISOR = ManagedProcess("bronze-worker")
REFUSED = 2


def _worker_command(worker_args: list[str]) -> list[str]:
    return [sys.executable, "-m", "maritime_streaming.bronze", *worker_args]


def supervise(worker_args: list[str], max_backoff: float = 60.0) -> int:
    stopping = False
    child: subprocess.Popen | None = None

    def on_signal(*_):
        nonlocal stopping
        stopping = True
        if child and child.poll() is None:
            child.send_signal(signal.SIGTERM)  # the worker finishes its batch, then exits

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    backoff = 2.0
    while True:
        started = time.monotonic()
        child = subprocess.Popen(_worker_command(worker_args))
        code = child.wait()
        print(json.dumps({"event": "worker_exited", "code": code}), flush=True)
        if stopping or code == 0:
            return 0
        if code == REFUSED:
            return REFUSED
        backoff = 2.0 if time.monotonic() - started > 300 else min(max_backoff, backoff * 2)
        print(json.dumps({"event": "worker_restart", "in_seconds": backoff}), flush=True)
        deadline = time.monotonic() + backoff
        while time.monotonic() < deadline and not stopping:
            time.sleep(0.2)
        if stopping:
            return 0


def metrics_up(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _port(worker_args: list[str]) -> int:
    if "--metrics-port" in worker_args:
        return int(worker_args[worker_args.index("--metrics-port") + 1])
    return get_config().bronze.metrics_port


def start(worker_args: list[str], wait: bool = True) -> int:
    port = _port(worker_args)
    pid = SUPERVISOR.start(
        [sys.executable, "-m", "maritime_streaming.supervisor", "supervise", *worker_args], dict(os.environ)
    )
    if wait and port:
        wait_until(lambda: metrics_up(port), timeout=180, what="Bronze worker", process=SUPERVISOR)
    return pid


def stop(timeout: float = 120.0) -> bool:
    return SUPERVISOR.stop(timeout=timeout, leader_only=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="maritime-bronze", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["start", "stop", "status", "run", "supervise"])
    args, worker_args = parser.parse_known_args(argv)
    if args.command == "run":
        from maritime_streaming.bronze import main as worker_main

        return worker_main(worker_args)
    if args.command == "supervise":
        return supervise(worker_args)
    if args.command == "start":
        print(f"bronze worker supervisor pid {start(worker_args)}; log {SUPERVISOR.log_file}")
        return 0
    if args.command == "stop":
        print("stopped" if stop() else "not running")
        return 0
    pid = SUPERVISOR.pid()
    healthy = pid is not None and metrics_up(_port(worker_args))
    print(json.dumps({"pid": pid, "healthy": healthy, "log": str(SUPERVISOR.log_file)}))
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
