"""Whole-pipeline wall time for one simulated day, without Airflow: simulator → Kafka →
Bronze → Silver → Gold → voyages → emissions, stage by stage, with peak memory.

Usage: python bench/pipeline_day.py [--vessels 200] [--hours 24] [--day 2026-11-01] [--json PATH]
       [--keep-lake DIR]

Needs the broker (`maritime up kafka`). The fleet goes to throw-away copies of the
platform topics (deleted afterwards) and everything lands in a temporary lake (removed
afterwards unless `--keep-lake` keeps it); alerts are only logged. Stages, in the order
the DAGs run them:

1. the simulator (1 % bad records, like the demo) producing while it generates;
2. the Spark session (JVM) start, counted once;
3. Kafka → Bronze: the worker's query per topic (same frame, sink and partitioning) with
   an available-now trigger, so it stops when every topic is drained;
4. the reference ports table, then every Silver promotion over one interval (whole hours)
   covering the day's arrival in Bronze, Gold daily metrics and fleet KPIs for the day,
   voyages and emissions/CII for its year: each job's `main([...])`, in-process.

Peak memory is the largest sampled RSS (every 0.5 s) summed over this process and its
children (the Spark JVM), and the same plus the Kafka broker's process group when the
broker is the local stack's.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from benchlib import BenchTopics, PeakSampler, RenamingSink, group_rss_mib, tree_rss_mib, write_json


def memory() -> dict[str, float]:
    """RSS of this process tree, and with the local broker when the stack runs one."""
    from maritime_stack import kafka as kafka_stack

    pipeline = tree_rss_mib(os.getpid())
    broker_pid = kafka_stack.BROKER.pid()
    return {"pipeline": pipeline, **({"with_broker": pipeline + group_rss_mib(broker_pid)[0]} if broker_pid else {})}


def simulate(config, names: dict[str, str], vessels: int, hours: float, day: date) -> int:
    from maritime_streaming.producer import StopFlag, pump
    from maritime_streaming.simulator import FleetSimulator

    sink = RenamingSink(config.kafka, names)
    simulator = FleetSimulator(
        vessels=vessels, hours=hours, seed=42, bad_rate=0.01, start=datetime(day.year, day.month, day.day, tzinfo=UTC)
    )
    counts = pump(simulator.events(), sink, stop=StopFlag(), progress_every=10.0)
    report = sink.close()
    if report["failed"] or report["undelivered_at_exit"]:
        raise RuntimeError(f"simulated day not fully delivered: {report}")
    return counts["sent"]


def land_bronze(spark, config, names: dict[str, str], lake: str, checkpoints: str) -> None:
    """Every topic drained into its Bronze table with the worker's frame; returns when all are."""
    from maritime_streaming.bronze import BronzeSettings, bronze_frame, spark_kafka_options
    from maritimeiq.catalog import bronze_table

    queries = []
    for platform_topic, topic in names.items():
        table = bronze_table(platform_topic)
        raw = (
            spark.readStream.format("kafka")
            .options(**spark_kafka_options(config.kafka))
            .option("subscribe", topic)
            .option("startingOffsets", "earliest")
            .option("maxOffsetsPerTrigger", str(config.bronze.max_offsets_per_trigger))
            .option("includeHeaders", "true")
            .load()
        )
        queries.append(
            bronze_frame(raw)
            .coalesce(BronzeSettings().write_partitions)
            .writeStream.format("delta")
            .queryName(f"bench-bronze-{platform_topic}")
            .outputMode("append")
            .partitionBy(*table.partition_by)
            .option("checkpointLocation", f"{checkpoints}/{table.key}")
            .trigger(availableNow=True)
            .start(table.path(lake))
        )
    for query in queries:
        query.awaitTermination()


class StageFailed(Exception):
    def __init__(self, stage: str, error: str):
        super().__init__(f"{stage}: {error}")
        self.stage, self.error = stage, error


def hour_floor(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vessels", type=int, default=200)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument(
        "--day",
        type=date.fromisoformat,
        default=date(2026, 11, 1),
        help="first simulated day (UTC); it must lie in the past, or Silver quarantines it",
    )
    parser.add_argument("--json", help="write the results as JSON to this file")
    parser.add_argument(
        "--keep-lake",
        type=Path,
        metavar="DIR",
        help="move the lake here at the end instead of removing it (DIR must not exist)",
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="pipeline-bench-"))
    lake = str(work / "lake")
    # Every job's defaults point into the temporary lake; alerts go to the log only.
    os.environ["MARITIME__LAKE__ROOT"] = lake
    os.environ["MARITIME__LAKE__CHECKPOINT_ROOT"] = str(work / "checkpoints")
    os.environ["MARITIME__ALERTING__STATE_PATH"] = str(work / "alerts.sqlite")
    os.environ["MARITIME__ALERTING__CHANNELS__WEBHOOK__ENABLED"] = "false"
    os.environ["MARITIME__ALERTING__CHANNELS__KAFKA__ENABLED"] = "false"

    from maritime_jobs import (
        gold_fleet_daily,
        gold_vessel_daily,
        reference_ports,
        silver_ais,
        silver_streams,
        voyage_analytics,
    )
    from maritime_jobs.emissions_compliance.__main__ import main as emissions_compliance
    from maritimeiq.config import get_config
    from maritimeiq.spark import get_spark

    config = get_config()
    day = args.day
    stages: list[dict] = []
    context: dict = {}

    def stage(name: str, step: Callable[[], object]) -> None:
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        try:
            step()
        except (Exception, SystemExit) as error:  # a job refusing its arguments exits
            # Later stages read what this one writes: the run ends here, its stages so far recorded.
            first_line = (str(error).splitlines() or [""])[0][:300]
            raise StageFailed(name, f"{type(error).__name__}: {first_line}") from error
        seconds = time.perf_counter() - started
        peak = sampler.stage_peak()
        stages.append({"name": name, "seconds": seconds, "peak_rss_mib": peak["pipeline"]})
        print(f"== {name}: {seconds:,.1f} s, peak RSS {peak['pipeline']:,.0f} MiB", flush=True)

    def silver_window() -> list[str]:
        start, end = hour_floor(context["ingest_from"]), hour_floor(context["ingest_to"]) + timedelta(hours=1)
        return ["--start", start.isoformat(), "--end", end.isoformat()]

    def streams(*names: str) -> list[str]:
        return [arg for name in names for arg in ("--stream", name)]

    def bronze() -> None:
        context["ingest_from"] = datetime.now(UTC)
        land_bronze(context["spark"], config, topics.names, lake, config.lake.checkpoint_root)
        context["ingest_to"] = datetime.now(UTC)

    days = [day + timedelta(days=n) for n in range(math.ceil(args.hours / 24))]
    gold_days = ["--start", days[0].isoformat(), "--end", (days[-1] + timedelta(days=1)).isoformat()]
    failed: StageFailed | None = None
    try:
        with PeakSampler(memory) as sampler, BenchTopics(config.kafka, "pipeline") as topics:
            sampler.stage_peak()
            stage(
                "simulate → Kafka",
                lambda: context.update(events=simulate(config, topics.names, args.vessels, args.hours, day)),
            )
            stage("Spark session start", lambda: context.update(spark=get_spark("pipeline-bench", config=config)))
            stage("Kafka → Bronze", bronze)
            stage("reference ports", lambda: reference_ports.main([]))
            stage(
                "Silver: vessel static",
                lambda: silver_streams.main([*silver_window(), *streams("vessel_static_reports", "ais_other")]),
            )
            stage("Silver: AIS positions", lambda: silver_ais.main(silver_window()))
            stage(
                "Silver: sensors, maintenance",
                lambda: silver_streams.main(
                    [*silver_window(), *streams("environmental_readings", "maintenance_events")]
                ),
            )
            stage(
                "Silver: voyage events, fuel reports",
                lambda: silver_streams.main([*silver_window(), *streams("voyage_events", "fuel_reports")]),
            )
            stage("Gold: vessel daily metrics", lambda: gold_vessel_daily.main(gold_days))
            stage("Gold: fleet daily KPIs", lambda: gold_fleet_daily.main(gold_days))
            stage("voyages", lambda: voyage_analytics.main(gold_days))
            stage(
                "emissions and CII",
                lambda: emissions_compliance(
                    ["--compliance-check", "imo-2030", "--year", str(day.year), "--reports-dir", str(work / "reports")]
                ),
            )
    except StageFailed as error:
        traceback.print_exception(error.__cause__)
        failed = error
    finally:
        if "spark" in context:
            context["spark"].stop()
        if args.keep_lake and Path(lake).exists():
            shutil.move(lake, args.keep_lake)
        shutil.rmtree(work, ignore_errors=True)

    total = sum(s["seconds"] for s in stages)
    result = {
        "vessels": args.vessels,
        "hours": args.hours,
        "day": day,
        "events": context.get("events"),
        "stages": stages,
        "total_seconds": total,
        "peak_rss_mib": sampler.peak["pipeline"],
        "peak_rss_with_broker_mib": sampler.peak.get("with_broker"),
    }
    if failed:
        write_json(args.json, {**result, "failed_stage": failed.stage, "error": f"stage {failed}"})
        raise SystemExit(f"stage {failed}")
    print(
        f"one simulated day ({args.vessels} vessels, {args.hours:g} h, {context['events']:,} events): "
        f"{total:,.0f} s; peak RSS {sampler.peak['pipeline']:,.0f} MiB",
        flush=True,
    )
    write_json(args.json, result)


if __name__ == "__main__":
    main()
