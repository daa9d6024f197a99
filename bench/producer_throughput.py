"""Producer throughput into the local broker: pre-built events, and the simulator live.

Usage: python bench/producer_throughput.py [--events N] [--compression snappy] [--json PATH]
Needs the broker (`maritime up kafka`). Sends to throw-away copies of the platform topics
(same partitions), deleted afterwards, so the platform's own topics stay untouched.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import time

from benchlib import BenchTopics, RenamingSink, write_json
from maritime_streaming.producer import StopFlag, pump
from maritime_streaming.simulator import FleetSimulator
from maritimeiq.config import get_config


def run(label: str, items, kafka, names: dict[str, str], compression: str) -> float:
    sink = RenamingSink(kafka, names, compression=compression, linger_ms=20)
    started = time.perf_counter()
    counts = pump(items, sink, stop=StopFlag(), progress_every=1e9)
    report = sink.close()
    elapsed = time.perf_counter() - started
    delivered = sum(report["delivered"].values())
    assert delivered == counts["sent"] and not report["failed"], report
    print(f"{label:38} {delivered:>9,} msgs {elapsed:6.1f} s {delivered / elapsed:>10,.0f} msgs/s", flush=True)
    return delivered / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--compression", default="snappy")
    parser.add_argument("--json", help="write the results as JSON to this file")
    args = parser.parse_args()
    kafka = get_config().kafka
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"compression {args.compression}"
    )

    simulator = FleetSimulator(vessels=200, hours=48, seed=1, interval_scale=1)
    prebuilt = list(itertools.islice(simulator.events(), args.events))
    with BenchTopics(kafka, "producer") as topics:
        prebuilt_rate = run("pre-built simulator events", prebuilt, kafka, topics.names, args.compression)
        live = FleetSimulator(vessels=200, hours=48, seed=2, interval_scale=1).events()
        live_rate = run(
            "simulator generating while producing",
            itertools.islice(live, args.events),
            kafka,
            topics.names,
            args.compression,
        )
    write_json(
        args.json,
        {
            "events": args.events,
            "compression": args.compression,
            "prebuilt_msgs_per_s": prebuilt_rate,
            "live_msgs_per_s": live_rate,
        },
    )


if __name__ == "__main__":
    main()
