"""Idle memory of the local stack: resident memory per component after it settles.

Usage: python bench/stack_footprint.py [--settle SECONDS]
Starts the stack if it is not running (and stops it again afterwards), waits for it
to settle, then sums the RSS of every process in each component's process group.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from maritime_streaming import supervisor as bronze
from maritimeiq.stack import airflow as airflow_stack
from maritimeiq.stack import kafka as kafka_stack
from maritimeiq.stack import mlflow as mlflow_stack

MARITIME = str(Path(sys.executable).parent / "maritime")


def group_rss_mib(pgid: int) -> tuple[float, int]:
    total_kib, count = 0, 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
                    count += 1
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total_kib / 1024, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settle", type=float, default=60.0)
    args = parser.parse_args()

    processes = [kafka_stack.BROKER, bronze.SUPERVISOR, mlflow_stack.SERVER, *airflow_stack.PROCESSES.values()]
    started_here = not all(p.running() for p in processes)
    if started_here:
        t0 = time.monotonic()
        subprocess.run([MARITIME, "up"], check=True)
        print(f"stack start (warm): {time.monotonic() - t0:.0f}s")
    try:
        time.sleep(args.settle)
        print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}")
        print(f"{'component':24} {'processes':>9} {'RSS MiB':>9}")
        total = 0.0
        for proc in processes:
            pid = proc.pid()
            rss, count = group_rss_mib(pid) if pid else (0.0, 0)
            total += rss
            print(f"{proc.name:24} {count:>9} {rss:>9.0f}")
        print(f"{'total':24} {'':>9} {total:>9.0f}")
    finally:
        if started_here:
            subprocess.run([MARITIME, "down"], check=True)


if __name__ == "__main__":
    main()
