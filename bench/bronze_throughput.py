"""Kafka-to-Bronze: sustained throughput and produce-to-queryable latency.

Usage: python bench/bronze_throughput.py [--messages 1000000] [--rate 5000] [--seconds 60]
Needs the broker (`maritime up kafka`); uses throw-away topics and a temporary lake.

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
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from maritime_streaming.bronze import table_name
from maritimeiq.config import get_config, load_config
from maritimeiq.spark import get_spark

GROUP = "bronze-bench"
PAYLOAD = "x" * 440  # with the JSON envelope, ~500 bytes per message


def make_topic(admin: AdminClient) -> str:
    name = f"bench.bronze.{uuid.uuid4().hex[:8]}"
    admin.create_topics([NewTopic(name, num_partitions=12, replication_factor=1)])[name].result()
    return name


def produce(kafka, topic: str, count: int, rate: float | None) -> None:
    producer = Producer(kafka.client_config(**{"acks": "all", "enable.idempotence": True, "linger.ms": 5,
                                               "compression.type": "snappy"}))
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
    return subprocess.Popen([sys.executable, "-m", "maritime_streaming.bronze", "--topic", topic,
                             "--trigger-seconds", str(trigger), "--metrics-port", "0", "--group", GROUP,
                             "--max-offsets-per-trigger", str(max_per_batch)],
                            env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def group_rss_mib(pgid: int) -> float:
    total = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                    total += next(int(l.split()[1]) for l in (entry / "status").read_text().splitlines()
                                  if l.startswith("VmRSS:"))
            except (FileNotFoundError, StopIteration, ProcessLookupError):
                pass
    return total / 1024


def stop(worker: subprocess.Popen) -> None:
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=120)
    finally:
        try:
            os.killpg(worker.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=5000.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    kafka = get_config().kafka
    admin = AdminClient(kafka.client_config())
    work = Path(tempfile.mkdtemp(prefix="bronze-bench-"))
    env = {"MARITIME__LAKE__ROOT": str(work / "lake"), "MARITIME__LAKE__CHECKPOINT_ROOT": str(work / "cp")}
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")

    # 1. Throughput on a backlog.
    topic = make_topic(admin)
    produce(kafka, topic, args.messages, None)
    # Batches of 200,000: the rate is measured over several commits, JVM start excluded.
    worker = start_worker(topic, env, 200_000, 1.0)
    first = None
    while (done := committed_total(kafka, topic)) < args.messages:
        if done and first is None:
            first = (time.monotonic(), done)
        time.sleep(0.5)
    finished = time.monotonic()
    rss = group_rss_mib(worker.pid)
    stop(worker)
    drained = args.messages - first[1]
    print(f"throughput: {args.messages:,} messages; {drained:,} after the first batch in "
          f"{finished - first[0]:.1f} s = {drained / (finished - first[0]):,.0f} msgs/s; worker RSS {rss:,.0f} MiB")

    # 2. Latency at a steady rate.
    topic = make_topic(admin)
    # Trigger 0: the next batch starts as soon as the previous one committed.
    worker = start_worker(topic, env, 500_000, 0.0)
    time.sleep(25)  # JVM and query start
    warmup = int(args.rate * 10)  # ten seconds at rate before measuring: code generation, first commits
    measured = int(args.rate * args.seconds)
    count = warmup + measured + int(args.rate * 10)  # and ten after, so the window is steady state
    produce(kafka, topic, count, args.rate)
    while committed_total(kafka, topic) < count:
        time.sleep(0.5)
    rss = group_rss_mib(worker.pid)
    stop(worker)

    config = load_config(environ=env)
    spark = get_spark("bronze-bench", config=config)
    path = config.lake.table_path("bronze", table_name(topic))
    from delta.tables import DeltaTable

    DeltaTable.forPath(spark, path).history().select("version", "timestamp").createOrReplaceTempView("v")
    adds = spark.read.json(f"{path}/_delta_log/*.json").where("add IS NOT NULL") \
        .selectExpr("add.path AS file", "CAST(regexp_extract(input_file_name(), '(\\\\d+)\\\\.json', 1) AS BIGINT) AS version")
    adds.createOrReplaceTempView("adds")
    spark.read.format("delta").load(path).selectExpr(
        "get_json_object(CAST(value AS STRING), '$.sent_ms') AS sent_ms",
        "CAST(get_json_object(CAST(value AS STRING), '$.seq') AS BIGINT) AS seq", "_metadata.file_path AS file_path"
    ).where(f"seq >= {warmup}").createOrReplaceTempView("rows")
    window = f"seq < {warmup + measured}"
    latencies = spark.sql("""
        SELECT r.seq, unix_millis(v.timestamp) - CAST(r.sent_ms AS BIGINT) AS latency_ms
        FROM rows r JOIN adds a ON substring_index(r.file_path, '/', -1) = substring_index(a.file, '/', -1)
        JOIN v ON v.version = a.version
    """)
    for label, rows in (("steady window", latencies.where(window)), ("including the final batches", latencies)):
        result = rows.selectExpr("percentile_approx(latency_ms, 0.5) AS p50", "percentile_approx(latency_ms, 0.99) AS p99",
                                 "max(latency_ms) AS max", "count(*) AS n").collect()[0]
        print(f"latency at {args.rate:,.0f} msgs/s, {label} ({result.n:,} rows): "
              f"p50 {result.p50} ms, p99 {result.p99} ms, max {result.max} ms")
    print(f"worker RSS during the latency run {rss:,.0f} MiB")
    spark.stop()


if __name__ == "__main__":
    main()
