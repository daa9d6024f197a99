"""`maritime-produce`: AIS and fleet events into Kafka, or as JSON lines with --dry-run.

maritime-produce nmea FILE|tcp://HOST:PORT
maritime-produce csv --format dma|noaa FILE
maritime-produce simulate --vessels N --hours H [--seed S] [--bad-rate R]
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from maritime_streaming.csv_sources import CsvDecoder
from maritime_streaming.nmea import NmeaDecoder
from maritime_streaming.producer import JsonLinesSink, KafkaSink, ProducerMetrics, StopFlag, pump
from maritime_streaming.simulator import FleetSimulator
from maritime_streaming.sources import csv_file, nmea_file, nmea_tcp
from maritimeiq.config import get_config


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="maritime-produce", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--dry-run",
        metavar="FILE",
        nargs="?",
        const="-",
        help="write events and rejects as JSON lines to FILE (default stdout) instead of Kafka",
    )
    common.add_argument(
        "--speed",
        type=float,
        default=0.0,
        help="replay at event time x SPEED (e.g. 1 = real time); 0 = as fast as possible",
    )
    common.add_argument("--compression", default="snappy", choices=["snappy", "zstd", "lz4", "gzip", "none"])
    common.add_argument("--linger-ms", type=int, default=20)
    common.add_argument(
        "--metrics-port", type=int, help="serve Prometheus metrics (delivery latency, counts) on 127.0.0.1:PORT"
    )
    sub = parser.add_subparsers(dest="source", required=True)

    nmea = sub.add_parser("nmea", parents=[common], help="NMEA 0183 AIS from a file or tcp://HOST:PORT")
    nmea.add_argument("location")
    nmea.add_argument("--source-name", help="source label in events (default nmea:file or nmea:tcp)")

    csv_parser = sub.add_parser("csv", parents=[common], help="AIS CSV export")
    csv_parser.add_argument("--format", required=True, choices=["dma", "noaa"])
    csv_parser.add_argument("path")

    sim = sub.add_parser("simulate", parents=[common], help="the deterministic fleet simulator")
    sim.add_argument("--vessels", type=int, default=200)
    sim.add_argument("--hours", type=float, default=24.0)
    sim.add_argument("--seed", type=int, default=42)
    sim.add_argument("--start", default="2026-11-01T00:00:00Z", help="simulated start time (UTC)")
    sim.add_argument(
        "--rate", "--bad-rate", dest="bad_rate", type=float, default=0.0, help="share of deliberately bad records (0-1)"
    )
    sim.add_argument(
        "--interval-scale", type=float, default=1.0, help="multiply AIS reporting intervals (1 = ITU-R M.1371 rates)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    stop = StopFlag().install()
    counters: dict[str, Any] = {}

    if args.source == "nmea":
        if args.location.startswith("tcp://"):
            host, _, port = args.location.removeprefix("tcp://").rpartition(":")
            decoder = NmeaDecoder(args.source_name or "nmea:tcp")
            items = nmea_tcp(host, int(port), decoder, stop)
        else:
            decoder = NmeaDecoder(args.source_name or "nmea:file")
            items = nmea_file(args.location, decoder)
        counters = decoder.counts
    elif args.source == "csv":
        decoder = CsvDecoder(args.format)
        items = csv_file(args.path, decoder)
        counters = decoder.counts
    else:
        start = datetime.fromisoformat(args.start.replace("Z", "+00:00")).astimezone(UTC)
        items = FleetSimulator(
            vessels=args.vessels,
            hours=args.hours,
            seed=args.seed,
            start=start,
            bad_rate=args.bad_rate,
            interval_scale=args.interval_scale,
        ).events()

    if args.dry_run is not None:
        out = sys.stdout if args.dry_run == "-" else open(args.dry_run, "w", encoding="utf-8")
        sink = JsonLinesSink(out)
    else:
        metrics = ProducerMetrics(args.metrics_port) if args.metrics_port else None
        sink = KafkaSink(get_config().kafka, compression=args.compression, linger_ms=args.linger_ms, metrics=metrics)
    try:
        counts = pump(items, sink, stop=stop, speed=args.speed)
    finally:
        delivery = sink.close()
    summary = {"sent": dict(sorted(counts.items())), "decoder": dict(sorted(counters.items())), "sink": delivery}
    sys.stderr.write(json.dumps(summary, indent=2) + "\n")
    failed = sum(delivery.get("failed", {}).values()) + delivery.get("undelivered_at_exit", 0)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
