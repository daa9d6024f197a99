"""Idle memory of the local stack: resident memory per component after it settles.

Usage: python bench/stack_footprint.py [--settle SECONDS] [--running-only] [--json PATH]
Starts the stack if it is not running (and stops it again afterwards), waits for it
to settle, then sums the RSS of every process in each component's process group. With
`--running-only` it never starts anything: it measures a running stack or fails.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from benchlib import group_rss_mib, write_json
from maritime_stack import airflow as airflow_stack
from maritime_stack import kafka as kafka_stack
from maritime_stack import mlflow as mlflow_stack
from maritime_streaming import supervisor as bronze

MARITIME = str(Path(sys.executable).parent / "maritime")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settle", type=float, default=60.0)
    parser.add_argument("--running-only", action="store_true", help="fail instead of starting the stack")
    parser.add_argument("--json", help="write the results as JSON to this file")
    args = parser.parse_args()

    processes = [kafka_stack.BROKER, bronze.SUPERVISOR, mlflow_stack.SERVER, *airflow_stack.PROCESSES.values()]
    stopped = [p.name for p in processes if not p.running()]
    if stopped and args.running_only:
        raise SystemExit(f"not running: {', '.join(stopped)}")
    started_here = bool(stopped)
    if started_here:
        t0 = time.monotonic()
        subprocess.run([MARITIME, "up"], check=True)
        print(f"stack start (warm): {time.monotonic() - t0:.0f}s")
    try:
        time.sleep(args.settle)
        print(
            f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}"
        )
        print(f"{'component':24} {'processes':>9} {'RSS MiB':>9}")
        components = []
        for proc in processes:
            pid = proc.pid()
            rss, count = group_rss_mib(pid) if pid else (0.0, 0)
            components.append({"name": proc.name, "processes": count, "rss_mib": rss})
            print(f"{proc.name:24} {count:>9} {rss:>9.0f}")
        total = sum(c["rss_mib"] for c in components)
        print(f"{'total':24} {'':>9} {total:>9.0f}")
    finally:
        if started_here:
            subprocess.run([MARITIME, "down"], check=True)
    write_json(args.json, {"settle_seconds": args.settle, "components": components, "total_mib": total})


if __name__ == "__main__":
    main()
