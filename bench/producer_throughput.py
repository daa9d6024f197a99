"""Producer throughput into the local broker: pre-built events, and the simulator live.

Usage: python bench/producer_throughput.py [--events N] [--compression snappy]
Needs the broker (`maritime up kafka`). Sends to the platform topics, so run it on a
development stack, not against data you keep.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import time

from maritime_streaming.producer import KafkaSink, StopFlag, pump
from maritime_streaming.simulator import FleetSimulator
from maritimeiq.config import get_config


def run(label: str, items, kafka, compression: str) -> None:
    sink = KafkaSink(kafka, compression=compression, linger_ms=20)
    started = time.perf_counter()
    counts = pump(items, sink, stop=StopFlag(), progress_every=1e9)
    report = sink.close()
    elapsed = time.perf_counter() - started
    delivered = sum(report["delivered"].values())
    assert delivered == counts["sent"] and not report["failed"], report
    print(f"{label:38} {delivered:>9,} msgs {elapsed:6.1f} s {delivered / elapsed:>10,.0f} msgs/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--compression", default="snappy")
    args = parser.parse_args()
    kafka = get_config().kafka
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"compression {args.compression}")

    simulator = FleetSimulator(vessels=200, hours=48, seed=1, interval_scale=1)
    prebuilt = list(itertools.islice(simulator.events(), args.events))
    run("pre-built simulator events", prebuilt, kafka, args.compression)
    live = FleetSimulator(vessels=200, hours=48, seed=2, interval_scale=1).events()
    run("simulator generating while producing", itertools.islice(live, args.events), kafka, args.compression)


if __name__ == "__main__":
    main()
