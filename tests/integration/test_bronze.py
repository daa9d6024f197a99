"""The Kafka-to-Bronze worker against the real broker and Spark: exactly once through
crashes and a broker restart, raw fidelity, and the missing-checkpoint guard."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from maritime_stack import kafka as kafka_stack
from maritimeiq.catalog import bronze_table
from maritimeiq.process import stop_group
from tests.integration.servers import spark_scratch_env

pytestmark = pytest.mark.integration
GROUP = "bronze-test"


@pytest.fixture
def lake(tmp_path):
    return {
        "MARITIME__LAKE__ROOT": str(tmp_path / "lake"),
        "MARITIME__LAKE__CHECKPOINT_ROOT": str(tmp_path / "checkpoints"),
        "MARITIME__SPARK__DRIVER_MEMORY": "1g",
        "MARITIME__SPARK__SHUFFLE_PARTITIONS": "2",
    }


@pytest.fixture
def topic(kafka_broker):
    admin = AdminClient(kafka_broker.admin_config())
    name = f"bronze.test.{uuid.uuid4().hex[:8]}"
    admin.create_topics([NewTopic(name, num_partitions=12, replication_factor=1)])[name].result()
    yield name
    admin.delete_topics([name])[name].result()


class Worker:
    """The worker as a process of its own, in its own process group (Python + Spark JVM)."""

    def __init__(
        self, topic: str, env: dict[str, str], log_dir: Path, supervised: bool = False, extra: list[str] | None = None
    ):
        self.args = [
            "--topic",
            topic,
            "--trigger-seconds",
            "1",
            "--metrics-port",
            "0",
            "--group",
            GROUP,
            "--max-offsets-per-trigger",
            "50000",
            *(extra or []),
        ]
        module = "maritime_streaming.supervisor" if supervised else "maritime_streaming.bronze"
        self.command = [sys.executable, "-m", module, *(["supervise"] if supervised else []), *self.args]
        self.env = {**os.environ, **env, **spark_scratch_env(log_dir / "spark-scratch")}
        self.log_dir = log_dir
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = open(self.log_dir / f"worker-{self.starts}.log", "wb")
        self.proc = subprocess.Popen(
            self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self, timeout: float = 120) -> int:
        stop_group(self.proc.pid, timeout=timeout, leader_only=True)
        return self.proc.wait()

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.log_dir.glob("worker-*.log")))


def produce(kafka, topic: str, count: int, rate: float | None = None) -> None:
    producer = Producer(kafka.client_config(**{"enable.idempotence": True, "acks": "all", "linger.ms": 20}))
    started = time.monotonic()
    for i in range(count):
        while True:
            try:
                producer.produce(topic, key=f"{219000000 + i % 500:09d}", value=f'{{"seq": {i}}}')
                break
            except BufferError:
                producer.poll(0.2)
        producer.poll(0)
        if rate and i % 1000 == 0:
            ahead = i / rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)
    assert producer.flush(120) == 0


def end_offsets(kafka, topic: str) -> dict[int, int]:
    # Right after a broker restart or topic creation, leadership may still be moving:
    # retriable errors are retried for a while.
    deadline = time.monotonic() + 60
    while True:
        consumer = Consumer(kafka.client_config(**{"group.id": "probe"}))
        try:
            parts = consumer.list_topics(topic, timeout=10).topics[topic].partitions
            return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in parts}
        except KafkaException as exc:
            error = exc.args[0]
            moving = error.code() in (
                KafkaError.NOT_LEADER_FOR_PARTITION,
                KafkaError.LEADER_NOT_AVAILABLE,
                KafkaError.UNKNOWN_TOPIC_OR_PART,
                KafkaError._TRANSPORT,
                KafkaError._TIMED_OUT,
            )
            if not (moving or error.retriable()) or time.monotonic() > deadline:
                raise
            time.sleep(1)
        finally:
            consumer.close()


def committed_offsets(kafka, topic: str, partitions) -> dict[int, int]:
    consumer = Consumer(kafka.client_config(**{"group.id": GROUP}))
    try:
        return {
            tp.partition: tp.offset
            for tp in consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
        }
    finally:
        consumer.close()


def wait_for_commits(kafka, topic: str, worker: Worker, timeout: float = 240) -> dict[int, int]:
    target = end_offsets(kafka, topic)
    filled = {p: end for p, end in target.items() if end > 0}  # empty partitions get no commit
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if committed_offsets(kafka, topic, filled) == filled:
            return target
        assert worker.proc.poll() is None, f"worker exited {worker.proc.returncode}:\n{worker.log()}"
        time.sleep(2)
    raise AssertionError(f"group offsets never reached {target}:\n{worker.log()}")


def assert_exactly_once(spark, lake, topic, target):
    path = bronze_table(topic).path(lake["MARITIME__LAKE__ROOT"])
    bronze = spark.read.format("delta").load(path)
    stats = bronze.groupBy("partition").agg({"offset": "min", "*": "count"}).collect()
    total = sum(target.values())
    assert bronze.count() == total
    assert bronze.select("topic", "partition", "offset").distinct().count() == total  # no duplicate
    assert len(stats) == sum(1 for end in target.values() if end)
    for row in stats:  # no gap: offsets 0..end-1 all present
        assert row["min(offset)"] == 0 and row["count(1)"] == target[row["partition"]]


def test_crash_recovery_lands_every_message_exactly_once(spark, kafka_broker, topic, lake, tmp_path):
    worker = Worker(topic, lake, tmp_path)
    producer = threading.Thread(target=produce, args=(kafka_broker, topic, 200_000, 2500.0))
    worker.start()
    producer.start()
    rng = random.Random(20261128)
    for _ in range(5):
        time.sleep(rng.uniform(8, 20))
        worker.kill()  # SIGKILL to the worker's whole group: Python and the Spark JVM
        worker.start()
    producer.join()
    target = wait_for_commits(kafka_broker, topic, worker)
    assert worker.stop() == 0, worker.log()
    assert sum(target.values()) == 200_000
    assert_exactly_once(spark, lake, topic, target)


def test_worker_recovers_from_a_broker_restart(spark, kafka_broker, topic, lake, tmp_path, platform_config):
    worker = Worker(topic, lake, tmp_path, supervised=True)
    worker.start()
    producer = threading.Thread(target=produce, args=(kafka_broker, topic, 40_000, 1000.0))
    producer.start()
    # Restart the broker once the worker has committed work, so recovery starts from a checkpoint;
    # the broker is down from its stop until its start has elected leaders again.
    deadline = time.monotonic() + 240
    while not any(offset > 0 for offset in committed_offsets(kafka_broker, topic, range(12)).values()):
        assert time.monotonic() < deadline, f"no offset committed before the restart:\n{worker.log()}"
        assert worker.proc.poll() is None, f"worker exited {worker.proc.returncode}:\n{worker.log()}"
        time.sleep(1)
    kafka_stack.stop()
    kafka_stack.start(platform_config)
    producer.join()
    target = wait_for_commits(kafka_broker, topic, worker, timeout=300)
    assert worker.stop() == 0, worker.log()
    assert sum(target.values()) == 40_000
    assert_exactly_once(spark, lake, topic, target)


def test_raw_bytes_land_unchanged(spark, kafka_broker, topic, lake, tmp_path):
    records = [
        (b"219000001", b"\xff\xfe\x00not utf-8 \xc3\x28"),
        (b"219000002", b""),
        (None, b'{"mmsi": "219000003"}'),
        # Close to librdkafka's default message.max.bytes (1,000,000), the platform producers' limit.
        (b"219000004", bytes(range(256)) * 3900),
    ]
    failed = []
    producer = Producer(kafka_broker.client_config())
    for key, value in records:
        producer.produce(
            topic,
            key=key,
            value=value,
            partition=0,
            headers=[("source", b"test")],
            on_delivery=lambda err, msg: err and failed.append(err),
        )
    assert producer.flush(30) == 0
    assert not failed, failed
    worker = Worker(topic, lake, tmp_path)
    worker.start()
    wait_for_commits(kafka_broker, topic, worker)
    assert worker.stop() == 0

    rows = (
        spark.read.format("delta")
        .load(bronze_table(topic).path(lake["MARITIME__LAKE__ROOT"]))
        .orderBy("offset")
        .collect()
    )
    landed = [(r.key if r.key is None else bytes(r.key), bytes(r.value)) for r in rows]
    # Digests, not the values: a mismatch reports which record differs, not a megabyte of bytes.
    assert [(k, len(v), hashlib.sha256(v).hexdigest()) for k, v in landed] == [
        (k, len(v), hashlib.sha256(v).hexdigest()) for k, v in records
    ]
    assert all(r.headers[0].key == "source" and bytes(r.headers[0].value) == b"test" for r in rows)
    assert all(r.ingest_date == r.ingest_time.date() for r in rows)


def test_missing_checkpoint_refuses_to_start_until_explicit_reset(spark, kafka_broker, topic, lake, tmp_path):
    produce(kafka_broker, topic, 3000)
    worker = Worker(topic, lake, tmp_path)
    worker.start()
    wait_for_commits(kafka_broker, topic, worker)
    assert worker.stop() == 0

    checkpoint = Path(lake["MARITIME__LAKE__CHECKPOINT_ROOT"]) / "bronze" / bronze_table(topic).name
    subprocess.run(["rm", "-rf", str(checkpoint)], check=True)
    refused_dir = tmp_path / "refused"
    refused_dir.mkdir()
    refused = Worker(topic, lake, refused_dir)
    refused.start()
    assert refused.proc.wait(timeout=180) == 2
    assert "checkpoint" in refused.log() and "--reset-checkpoint" in refused.log()

    produce(kafka_broker, topic, 1000)
    reset_dir = tmp_path / "reset"
    reset_dir.mkdir()
    reset = Worker(topic, lake, reset_dir, extra=["--reset-checkpoint"])
    reset.start()
    target = wait_for_commits(kafka_broker, topic, reset)
    assert reset.stop() == 0
    assert sum(target.values()) == 4000
    assert_exactly_once(spark, lake, topic, target)
