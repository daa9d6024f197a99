"""Kafka-to-Bronze: sustained throughput and produce-to-queryable latency.

Usage: python bench/bronze_throughput.py [--messages 1000000] [--batch 200000] [--rate 5000] [--seconds 60]
                                         [--json PATH]
Needs the broker (`maritime up kafka`); uses throw-away topics (deleted afterwards) and a
temporary lake.

1. Throughput: a backlog of ~500-byte messages in a 12-partition topic, drained by the
   worker (1 s trigger); rows per second from the first committed batch to the last.
2. Latency: a producer at a steady rate stamps each message with its send time; a row
   is queryable when the Delta commit that added its file is written. Latency =
   commit time - send time, over every row after a ten-second warm-up; the worker runs
   with trigger 0 (each batch starts when the previous one committed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from benchlib import group_rss_mib, write_json
from maritimeiq.catalog import bronze_table
from maritimeiq.config import get_config, load_config
from maritimeiq.process import stop_group
from maritimeiq.spark import get_spark

GROUP = "bronze-bench"
PAYLOAD = "x" * 440  # with the JSON envelope, ~500 bytes per message


def make_topic(admin: AdminClient) -> str:
    name = f"bench.bronze.{uuid.uuid4().hex[:8]}"
    admin.create_topics([NewTopic(name, num_partitions=12, replication_factor=1)])[name].result()
    return name


def produce(kafka, topic: str, count: int, rate: float | None) -> None:
    producer = Producer(
        kafka.client_config(**{"acks": "all", "enable.idempotence": True, "linger.ms": 5, "compression.type": "snappy"})
    )
    started = time.monotonic()
    for i in range(count):
        value = json.dumps({"seq": i, "sent_ms": int(time.time() * 1000), "pad": PAYLOAD})
        while True:
            try:
                producer.produce(topic, key=f"{219000000 + i % 2000:09d}", value=value)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
        if rate and i % 50 == 0 and (ahead := i / rate - (time.monotonic() - started)) > 0:
            time.sleep(ahead)
    producer.flush(120)


def committed_total(kafka, topic: str) -> int:
    consumer = Consumer(kafka.client_config(**{"group.id": GROUP}))
    try:
        tps = [TopicPartition(topic, p) for p in range(12)]
        return sum(max(tp.offset, 0) for tp in consumer.committed(tps, timeout=10))
    finally:
        consumer.close()


def start_worker(topic: str, env: dict[str, str], max_per_batch: int, trigger: float) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "maritime_streaming.bronze",
            "--topic",
            topic,
            "--trigger-seconds",
            str(trigger),
            "--metrics-port",
            "0",
            "--group",
            GROUP,
            "--max-offsets-per-trigger",
            str(max_per_batch),
        ],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_committed(kafka, topic: str, count: int, worker: subprocess.Popen, first_batch: list | None = None) -> None:
    """Until the worker committed `count` offsets; `first_batch` receives (time, offsets) of
    the first commit seen. Fails if the worker exits first."""
    while (done := committed_total(kafka, topic)) < count:
        if worker.poll() is not None:
            raise RuntimeError(f"the Bronze worker exited with {worker.returncode} after {done:,} of {count:,}")
        if done and first_batch is not None and not first_batch:
            first_batch.append((time.monotonic(), done))
        time.sleep(0.5)


def stop(worker: subprocess.Popen) -> None:
    stop_group(worker.pid, timeout=120, leader_only=True)
    worker.wait()


def throughput(args, kafka, admin: AdminClient, env: dict[str, str], topics: list[str]) -> dict:
    topic = make_topic(admin)
    topics.append(topic)
    produce(kafka, topic, args.messages, None)
    print(f"backlog of {args.messages:,} messages produced; draining", flush=True)
    # Several batches: the rate is measured over several commits, JVM start excluded.
    worker = start_worker(topic, env, args.batch, 1.0)
    first: list[tuple[float, int]] = []
    try:
        wait_committed(kafka, topic, args.messages, worker, first)
        finished = time.monotonic()
        rss, _ = group_rss_mib(worker.pid)
    finally:
        stop(worker)
    if not first:
        raise SystemExit(f"the backlog was drained in one batch: lower --batch below {args.messages:,}")
    started, first_committed = first[0]
    drained = args.messages - first_committed
    rate = drained / (finished - started)
    print(
        f"throughput: {args.messages:,} messages; {drained:,} after the first batch in "
        f"{finished - started:.1f} s = {rate:,.0f} msgs/s; worker RSS {rss:,.0f} MiB",
        flush=True,
    )
    return {"messages": args.messages, "batch": args.batch, "throughput_msgs_per_s": rate, "drain_rss_mib": rss}


def latency(args, kafka, admin: AdminClient, env: dict[str, str], topics: list[str]) -> dict:
    topic = make_topic(admin)
    topics.append(topic)
    # Trigger 0: the next batch starts as soon as the previous one committed.
    worker = start_worker(topic, env, 500_000, 0.0)
    warmup = int(args.rate * 10)  # ten seconds at rate before measuring: code generation, first commits
    measured = int(args.rate * args.seconds)
    count = warmup + measured + int(args.rate * 10)  # and ten after, so the window is steady state
    try:
        time.sleep(25)  # JVM and query start
        print(f"producing {count:,} messages at {args.rate:,.0f} msgs/s", flush=True)
        produce(kafka, topic, count, args.rate)
        wait_committed(kafka, topic, count, worker)
        rss, _ = group_rss_mib(worker.pid)
    finally:
        stop(worker)

    config = load_config(environ=env)
    spark = get_spark("bronze-bench", config=config)
    path = bronze_table(topic).path(config.lake.root)
    from delta.tables import DeltaTable

    DeltaTable.forPath(spark, path).history().select("version", "timestamp").createOrReplaceTempView("v")
    adds = (
        spark.read.json(f"{path}/_delta_log/*.json")
        .where("add IS NOT NULL")
        .selectExpr(
            "add.path AS file", "CAST(regexp_extract(input_file_name(), '(\\\\d+)\\\\.json', 1) AS BIGINT) AS version"
        )
    )
    adds.createOrReplaceTempView("adds")
    spark.read.format("delta").load(path).selectExpr(
        "get_json_object(CAST(value AS STRING), '$.sent_ms') AS sent_ms",
        "CAST(get_json_object(CAST(value AS STRING), '$.seq') AS BIGINT) AS seq",
        "_metadata.file_path AS file_path",
    ).where(f"seq >= {warmup}").createOrReplaceTempView("rows")
    window = f"seq < {warmup + measured}"
    latencies = spark.sql("""
        SELECT r.seq, unix_millis(v.timestamp) - CAST(r.sent_ms AS BIGINT) AS latency_ms
        FROM rows r JOIN adds a ON substring_index(r.file_path, '/', -1) = substring_index(a.file, '/', -1)
        JOIN v ON v.version = a.version
    """)
    result = {"latency_rate_msgs_per_s": args.rate, "latency_seconds": args.seconds, "latency_rss_mib": rss}
    for key, label, rows in (
        ("latency_steady", "steady window", latencies.where(window)),
        ("latency_all", "including the final batches", latencies),
    ):
        row = rows.selectExpr(
            "percentile_approx(latency_ms, 0.5) AS p50",
            "percentile_approx(latency_ms, 0.99) AS p99",
            "max(latency_ms) AS max",
            "count(*) AS n",
        ).collect()[0]
        print(
            f"latency at {args.rate:,.0f} msgs/s, {label} ({row.n:,} rows): "
            f"p50 {row.p50} ms, p99 {row.p99} ms, max {row.max} ms"
        )
        result[key] = {"p50_ms": row.p50, "p99_ms": row.p99, "max_ms": row.max, "rows": row.n}
    print(f"worker RSS during the latency run {rss:,.0f} MiB")
    spark.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=200_000, help="max offsets per trigger of the backlog run")
    parser.add_argument("--rate", type=float, default=5000.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--json", help="write the results as JSON to this file")
    args = parser.parse_args()
    kafka = get_config().kafka
    admin = AdminClient(kafka.admin_config())
    work = Path(tempfile.mkdtemp(prefix="bronze-bench-"))
    env = {"MARITIME__LAKE__ROOT": str(work / "lake"), "MARITIME__LAKE__CHECKPOINT_ROOT": str(work / "cp")}
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    topics: list[str] = []
    try:
        result = {**throughput(args, kafka, admin, env, topics), **latency(args, kafka, admin, env, topics)}
    finally:
        if topics:
            for future in admin.delete_topics(topics).values():
                future.result()
        shutil.rmtree(work, ignore_errors=True)
    write_json(args.json, result)


if __name__ == "__main__":
    main()
