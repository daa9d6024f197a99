"""Kafka-to-Bronze worker: one Spark application, one Structured Streaming query per topic.

Bronze keeps every Kafka message as it arrived (key and value as bytes, topic,
partition, offset, Kafka timestamp, headers) plus the ingest time, partitioned by
ingest date, append-only. Exactly once comes from the Delta sink and one checkpoint
per query: a batch's files and its offsets commit together, and a restarted query
resumes from its checkpoint. After each committed batch its end offsets are committed
to a Kafka consumer group, so standard tools and the lag checks see real lag.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from maritimeiq import catalog
from maritimeiq.config import KafkaConfig, PlatformConfig
from maritimeiq.logs import configure_logging

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.streaming import StreamingQuery

log = logging.getLogger("maritime.bronze")

DEFAULT_GROUP = "maritime-platform-consumers"


class CheckpointMissing(RuntimeError):
    """The table holds data but its checkpoint is gone: starting over would duplicate it."""


@dataclass(frozen=True)
class BronzeSettings:
    trigger_seconds: float = 30.0  # at low rates: a few files per minute per table, not hundreds
    max_offsets_per_trigger: int | None = 500_000
    fail_on_data_loss: bool = True
    consumer_group: str = DEFAULT_GROUP
    metrics_port: int | None = 9464
    write_partitions: int = 2
    topics: tuple[str, ...] = ()  # default: every source topic and its dead-letter topic


def spark_kafka_options(kafka: KafkaConfig) -> dict[str, str]:
    """The Java client's names for the platform's librdkafka settings (``kafka.client_config``,
    so the secure mode's generated credentials and forced hostname verification included)."""
    from maritimeiq.kafka_auth import SCRAM_MODULE, jaas

    client = kafka.client_config()
    options = {"kafka.bootstrap.servers": client.pop("bootstrap.servers")}
    username, password = client.pop("sasl.username", None), client.pop("sasl.password", None)
    mechanism = client.pop("sasl.mechanism", None) or client.pop("sasl.mechanisms", "")
    client.pop("sasl.mechanisms", None)  # librdkafka's alias
    if mechanism:
        options["kafka.sasl.mechanism"] = mechanism
    if username is not None:
        module = (
            SCRAM_MODULE if mechanism.startswith("SCRAM") else "org.apache.kafka.common.security.plain.PlainLoginModule"
        )
        options["kafka.sasl.jaas.config"] = jaas(username, password or "", module)
    if "ssl.ca.location" in client:  # PEM CA file: the Java client reads it as a PEM truststore
        options["kafka.ssl.truststore.type"] = "PEM"
        options["kafka.ssl.truststore.location"] = client.pop("ssl.ca.location")
    if client.get("ssl.endpoint.identification.algorithm") == "none":  # librdkafka's "off" is Java's ""
        client["ssl.endpoint.identification.algorithm"] = ""
    for key, value in client.items():
        options[f"kafka.{key}"] = str(value)
    return options


def bronze_frame(raw: DataFrame) -> DataFrame:
    """Kafka source rows as Bronze rows: nothing parsed, nothing dropped."""
    from pyspark.sql import functions as F

    return raw.select(
        "key",
        "value",
        "topic",
        "partition",
        "offset",
        F.col("timestamp").alias("kafka_timestamp"),
        F.col("timestampType").alias("kafka_timestamp_type"),
        "headers",
        F.current_timestamp().alias("ingest_time"),
    ).withColumn("ingest_date", F.to_date("ingest_time"))


def _has_data(spark: SparkSession, path: str) -> bool:
    from delta.tables import DeltaTable

    if not DeltaTable.isDeltaTable(spark, path):
        return False
    return spark.read.format("delta").load(path).limit(1).count() > 0


def _checkpoint_exists(spark: SparkSession, checkpoint: str) -> bool:
    jvm = spark.sparkContext._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(checkpoint + "/offsets")
    fs = hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return fs.exists(hadoop_path)


def next_offsets_from_table(spark: SparkSession, path: str, topic: str) -> str:
    """startingOffsets JSON resuming right after what the table already holds."""
    from pyspark.sql import functions as F

    rows = (
        spark.read.format("delta")
        .load(path)
        .where(F.col("topic") == topic)
        .groupBy("partition")
        .agg(F.max("offset").alias("last"))
        .collect()
    )
    return json.dumps({topic: {str(r["partition"]): int(r["last"]) + 1 for r in rows}})


def start_query(
    spark: SparkSession, config: PlatformConfig, topic: str, settings: BronzeSettings, reset: bool = False
) -> StreamingQuery:
    bronze_table = catalog.bronze_table(topic)
    table = bronze_table.path(config.lake.root)
    checkpoint = config.lake.checkpoint_path(f"bronze/{bronze_table.name}")
    starting = "earliest"
    if not _checkpoint_exists(spark, checkpoint) and _has_data(spark, table):
        if not reset:
            raise CheckpointMissing(
                f"{table} already holds data but its checkpoint {checkpoint} is missing: starting from the "
                "earliest offsets would land every message twice. Restore the checkpoint, or restart with "
                "--reset-checkpoint to resume after the highest offset per partition already in the table."
            )
        starting = next_offsets_from_table(spark, table, topic)
        log.warning({"event": "checkpoint_reset", "topic": topic, "starting_offsets": starting})
    reader = (
        spark.readStream.format("kafka")
        .options(**spark_kafka_options(config.kafka))
        .option("subscribe", topic)
        .option("startingOffsets", starting)
        .option("failOnDataLoss", str(settings.fail_on_data_loss).lower())
        .option("includeHeaders", "true")
    )
    if settings.max_offsets_per_trigger:
        reader = reader.option("maxOffsetsPerTrigger", str(settings.max_offsets_per_trigger))
    # One file per write task: a few tasks per batch instead of one per Kafka partition
    # keeps batches short and Bronze's file count sane.
    return (
        bronze_frame(reader.load())
        .coalesce(settings.write_partitions)
        .writeStream.format("delta")
        .queryName(f"bronze-{topic}")
        .outputMode("append")
        .partitionBy(*bronze_table.partition_by)
        .option("checkpointLocation", checkpoint)
        .trigger(processingTime=f"{settings.trigger_seconds} seconds")
        .start(table)
    )


class OffsetCommitter:
    """Commits each finished batch's end offsets to the consumer group (lag for standard tools).

    The group offsets only report progress (exactly once comes from the checkpoint), so a
    commit the coordinator cannot take yet is retried for a while, then given up: the next
    batch's commit carries the same offsets forward."""

    # The group coordinator answers these while it loads its log after a broker start or
    # moves to another broker (Kafka protocol error codes 14, 15, 16, 7).
    RETRIABLE = frozenset(
        {
            "COORDINATOR_LOAD_IN_PROGRESS",
            "COORDINATOR_NOT_AVAILABLE",
            "NOT_COORDINATOR",
            "REQUEST_TIMED_OUT",
            "_TIMED_OUT",
            "_TRANSPORT",
        }
    )

    def __init__(self, kafka: KafkaConfig, group: str, *, retry_for_s: float = 30.0, consumer: Any = None):
        from confluent_kafka import Consumer

        self._consumer = consumer or Consumer(kafka.client_config(**{"group.id": group, "enable.auto.commit": False}))
        self._retry_for_s = retry_for_s
        self._lock = threading.Lock()

    def commit(self, end_offsets: dict[str, dict[str, int]]) -> None:
        from confluent_kafka import KafkaException, TopicPartition

        offsets = [
            TopicPartition(topic, int(partition), int(offset))
            for topic, partitions in end_offsets.items()
            for partition, offset in partitions.items()
        ]
        if not offsets:
            return
        deadline = time.monotonic() + self._retry_for_s
        delay = 0.2
        while True:
            try:
                with self._lock:
                    self._consumer.commit(offsets=offsets, asynchronous=False)
                return
            except KafkaException as exc:
                error = exc.args[0]
                retriable = error.retriable() or error.name() in self.RETRIABLE
                if not retriable or time.monotonic() + delay > deadline:
                    raise
                log.warning({"event": "offset_commit_retry", "error": error.name(), "in_s": delay})
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def close(self) -> None:
        self._consumer.close()


class Metrics:
    """Per-batch numbers on a Prometheus endpoint."""

    def __init__(self, port: int | None):
        from prometheus_client import Counter, Gauge, start_http_server

        labels = ["topic"]
        self.input_rate = Gauge("bronze_input_rows_per_second", "Kafka rows/s offered to the last batch", labels)
        self.processed_rate = Gauge("bronze_processed_rows_per_second", "rows/s written by the last batch", labels)
        self.duration = Gauge("bronze_batch_duration_ms", "duration of the last batch", labels)
        self.rows = Counter("bronze_rows_total", "rows landed in Bronze", labels)
        self.behind = Gauge(
            "bronze_offsets_behind_latest", "latest offset minus the batch's end offset", ["topic", "partition"]
        )
        self.last_progress = Gauge("bronze_last_progress_timestamp_seconds", "when the query last reported", labels)
        if port:
            start_http_server(port, addr="127.0.0.1")


def progress_record(progress: dict[str, Any]) -> dict[str, Any]:
    """The structured-log view of one StreamingQueryProgress (as JSON dict)."""
    source = (progress.get("sources") or [{}])[0]
    end, latest = _offsets(source.get("endOffset")), _offsets(source.get("latestOffset"))
    behind = {f"{t}:{p}": latest[t][p] - end.get(t, {}).get(p, 0) for t in latest for p in latest[t]}
    return {
        "event": "batch",
        "query": progress.get("name"),
        "batch_id": progress.get("batchId"),
        "rows": progress.get("numInputRows", 0),
        "input_rows_per_second": round(progress.get("inputRowsPerSecond") or 0.0, 1),
        "processed_rows_per_second": round(progress.get("processedRowsPerSecond") or 0.0, 1),
        "batch_duration_ms": (progress.get("durationMs") or {}).get("triggerExecution"),
        "duration_breakdown_ms": progress.get("durationMs") or {},
        "offsets_behind_latest": behind,
        "end_offsets": end,
    }


def _offsets(raw: Any) -> dict[str, dict[str, int]]:
    if not raw:
        return {}
    data = json.loads(raw) if isinstance(raw, str) else raw
    return {topic: {str(p): int(o) for p, o in parts.items()} for topic, parts in data.items()}


def make_listener(committer: OffsetCommitter, metrics: Metrics):
    from confluent_kafka import KafkaException
    from pyspark.sql.streaming import StreamingQueryListener

    class BronzeProgressListener(StreamingQueryListener):
        def onQueryStarted(self, event):
            log.info({"event": "query_started", "query": event.name, "id": str(event.id)})

        def onQueryProgress(self, event):
            record = progress_record(json.loads(event.progress.json))
            topic = (record["query"] or "").removeprefix("bronze-")
            if record["rows"]:
                # onQueryProgress fires after the batch committed to Delta: safe to commit offsets.
                try:
                    committer.commit(record["end_offsets"])
                except KafkaException as exc:
                    log.error(
                        {
                            "event": "offset_commit_failed",
                            "query": record["query"],
                            "batch_id": record["batch_id"],
                            "error": str(exc),
                        }
                    )
                metrics.rows.labels(topic).inc(record["rows"])
            metrics.input_rate.labels(topic).set(record["input_rows_per_second"])
            metrics.processed_rate.labels(topic).set(record["processed_rows_per_second"])
            metrics.duration.labels(topic).set(record["batch_duration_ms"] or 0)
            metrics.last_progress.labels(topic).set(time.time())
            for key, behind in record["offsets_behind_latest"].items():
                t, p = key.rsplit(":", 1)
                metrics.behind.labels(t, p).set(behind)
            if record["rows"]:
                log.info(record)

        def onQueryIdle(self, event):
            pass

        def onQueryTerminated(self, event):
            log.info({"event": "query_terminated", "id": str(event.id), "exception": event.exception})

    return BronzeProgressListener()


def run_worker(
    config: PlatformConfig, settings: BronzeSettings, *, reset: bool = False, spark: SparkSession | None = None
) -> int:
    """Run until SIGTERM/SIGINT (exit 0) or until a query dies (exit 1, with the reason logged)."""
    from maritimeiq.spark import get_spark

    # Bronze commits often: a Delta checkpoint every 100 commits instead of 10 keeps batch
    # times flat (compaction and log cleanup belong to the maintenance DAG).
    spark = spark or get_spark(
        "maritime-bronze",
        config=config,
        extra_conf={
            "spark.databricks.delta.properties.defaults.checkpointInterval": "100",
        },
    )
    topics = list(settings.topics or catalog.TOPICS)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    committer = OffsetCommitter(config.kafka, settings.consumer_group)
    metrics = Metrics(settings.metrics_port)
    listener = make_listener(committer, metrics)
    spark.streams.addListener(listener)
    queries: list[StreamingQuery] = []
    try:
        for topic in topics:
            queries.append(start_query(spark, config, topic, settings, reset=reset))
        log.info({"event": "worker_started", "topics": topics, "at": datetime.now(UTC).isoformat()})
        while not stop.is_set():
            for query in queries:
                if not query.isActive:
                    log.error({"event": "query_failed", "query": query.name, "exception": str(query.exception())})
                    return 1
            stop.wait(1.0)
        _stop_after_current_batch(queries)
        log.info({"event": "worker_stopped", "reason": "signal"})
        return 0
    except CheckpointMissing as exc:
        log.error({"event": "refused_to_start", "reason": str(exc)})
        return 2
    finally:
        for query in queries:
            if query.isActive:
                query.stop()
        spark.streams.removeListener(listener)
        committer.close()


def _stop_after_current_batch(queries: list[StreamingQuery], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    for query in queries:
        while query.isActive and query.status.get("isTriggerActive") and time.monotonic() < deadline:
            time.sleep(0.2)
        query.stop()


def main(argv: list[str] | None = None) -> int:
    import argparse

    from maritimeiq.config import get_config

    config = get_config()
    defaults = config.bronze
    parser = argparse.ArgumentParser(prog="maritime-bronze run", description=__doc__.splitlines()[0])
    parser.add_argument("--trigger-seconds", type=float, default=defaults.trigger_seconds)
    parser.add_argument("--max-offsets-per-trigger", type=int, default=defaults.max_offsets_per_trigger)
    parser.add_argument(
        "--no-fail-on-data-loss",
        action="store_true",
        default=not defaults.fail_on_data_loss,
        help="tolerate offsets aged out of Kafka before they were read (data loss is then silent)",
    )
    parser.add_argument(
        "--group", default=defaults.consumer_group, help="consumer group the batch offsets are committed to"
    )
    parser.add_argument(
        "--metrics-port", type=int, default=defaults.metrics_port, help="Prometheus port on 127.0.0.1 (0: off)"
    )
    parser.add_argument("--topic", action="append", default=[], help="only these topics (repeatable)")
    parser.add_argument(
        "--reset-checkpoint",
        action="store_true",
        help="a table without checkpoint resumes after its highest offsets per partition",
    )
    args = parser.parse_args(argv)
    configure_logging("json")
    settings = BronzeSettings(
        trigger_seconds=args.trigger_seconds,
        max_offsets_per_trigger=args.max_offsets_per_trigger or None,
        fail_on_data_loss=not args.no_fail_on_data_loss,
        consumer_group=args.group,
        metrics_port=args.metrics_port or None,
        topics=tuple(args.topic),
    )
    return run_worker(config, settings, reset=args.reset_checkpoint)


if __name__ == "__main__":
    sys.exit(main())
