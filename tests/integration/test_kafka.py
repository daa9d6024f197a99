"""The real KRaft broker: topic contract, keyed produce/consume, the wrapped tools."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource

from maritimeiq.topics import apply_topics

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent


def test_platform_topics_exist_with_declared_partitions_and_retention(kafka_broker):
    admin = AdminClient(kafka_broker.admin_config())
    metadata = admin.list_topics(timeout=10)
    for spec in kafka_broker.all_topics():
        assert spec.name in metadata.topics, spec.name
        assert len(metadata.topics[spec.name].partitions) == spec.partitions
    resource = ConfigResource(ConfigResource.Type.TOPIC, "maritime.ais.data")
    configs = admin.describe_configs([resource])[resource].result()
    assert len(metadata.topics["maritime.ais.data"].partitions) == 12
    assert configs["retention.ms"].value == str(7 * 24 * 60 * 60 * 1000)
    assert configs["cleanup.policy"].value == "delete"


def test_applying_topics_again_changes_nothing(kafka_broker):
    changes = apply_topics(kafka_broker)
    assert changes.created == [] and changes.partitions_added == {} and changes.configs_updated == []
    assert sorted(changes.unchanged) == sorted(t.name for t in kafka_broker.all_topics())


def test_thousand_keyed_messages_round_trip_in_per_key_order(kafka_broker, unique_topic):
    keys = [f"{219000000 + i:09d}" for i in range(20)]  # MMSIs as 9-digit strings
    sent = [(keys[i % len(keys)], f"{i}") for i in range(1000)]
    delivered: list[tuple[str, int]] = []

    def on_delivery(err, msg):
        assert err is None, err
        delivered.append((msg.key().decode(), msg.partition()))

    producer = Producer(kafka_broker.client_config(**{"enable.idempotence": True, "acks": "all"}))
    for key, value in sent:
        producer.produce(unique_topic, key=key, value=value, on_delivery=on_delivery)
        producer.poll(0)
    assert producer.flush(30) == 0
    assert len(delivered) == 1000
    # Same key, same partition: per-vessel order is preserved by construction.
    partitions_per_key = {}
    for key, partition in delivered:
        partitions_per_key.setdefault(key, set()).add(partition)
    assert all(len(p) == 1 for p in partitions_per_key.values())

    consumer = Consumer(
        kafka_broker.client_config(
            **{
                "group.id": f"test-{uuid.uuid4().hex[:8]}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
    )
    consumer.subscribe([unique_topic])
    received: list[tuple[str, str]] = []
    try:
        idle = 0
        while len(received) < 1000 and idle < 20:
            msg = consumer.poll(1.0)
            if msg is None:
                idle += 1
                continue
            assert msg.error() is None, msg.error()
            received.append((msg.key().decode(), msg.value().decode()))
        consumer.commit(asynchronous=False)
        committed = consumer.committed([TopicPartition(unique_topic, p) for p in range(3)], timeout=10)
    finally:
        consumer.close()

    assert sorted(received) == sorted(sent)
    for key in keys:
        assert [v for k, v in received if k == key] == [v for k, v in sent if k == key]
    assert sum(tp.offset for tp in committed) == 1000


def test_wrapped_kafka_tools_describe_topics_and_groups(kafka_broker, unique_topic):
    topics = subprocess.run(
        [
            str(BIN / "kafka-topics"),
            "--bootstrap-server",
            kafka_broker.bootstrap_servers,
            "--describe",
            "--topic",
            "maritime.ais.data",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "PartitionCount: 12" in topics
    assert "retention.ms=604800000" in topics

    group = f"tools-{uuid.uuid4().hex[:8]}"
    producer = Producer(kafka_broker.client_config())
    for i in range(10):
        producer.produce(unique_topic, value=b"x", partition=i % 3)  # 4, 3 and 3 messages
    assert producer.flush(10) == 0
    consumer = Consumer(kafka_broker.client_config(**{"group.id": group, "enable.auto.commit": False}))
    try:
        consumer.commit(
            offsets=[
                TopicPartition(unique_topic, 0, 2),
                TopicPartition(unique_topic, 1, 1),
                TopicPartition(unique_topic, 2, 0),
            ],
            asynchronous=False,
        )
    finally:
        consumer.close()

    described = subprocess.run(
        [
            str(BIN / "kafka-consumer-groups"),
            "--bootstrap-server",
            kafka_broker.bootstrap_servers,
            "--describe",
            "--group",
            group,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    rows = [line.split() for line in described.splitlines() if line.startswith(group)]
    assert len(rows) == 3  # one line per partition of the topic
    header = next(line.split() for line in described.splitlines() if "LAG" in line)
    lag = sum(int(row[header.index("LAG")]) for row in rows)
    assert lag == (4 - 2) + (3 - 1) + (3 - 0)
