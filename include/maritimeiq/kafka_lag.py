"""Consumer-group lag: committed offsets of a group against the partitions' high
watermarks, per topic-partition. A partition the group never committed counts its whole
retained log (low to high watermark) as lag. With ACLs, a topic the client may not
describe raises instead of counting as no lag."""

from __future__ import annotations

import time
from dataclasses import dataclass

from maritimeiq.config import KafkaConfig


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int | None
    high_watermark: int
    lag: int


def consumer_lag(kafka: KafkaConfig, group: str, topics: list[str], timeout: float = 10.0) -> list[PartitionLag]:
    from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

    probe = Consumer(kafka.client_config(**{"group.id": group, "enable.auto.commit": False}))
    try:
        metadata = probe.list_topics(timeout=timeout).topics
        # The broker leaves topics the principal may not describe out of a full metadata
        # answer, like missing ones: ask for those by name to tell the two apart.
        for topic in (t for t in topics if t not in metadata):
            error = probe.list_topics(topic, timeout=timeout).topics[topic].error
            if error is not None and error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED:
                raise KafkaException(error)
        partitions = [TopicPartition(t, p) for t in topics if t in metadata for p in sorted(metadata[t].partitions)]
        committed = {(tp.topic, tp.partition): tp.offset for tp in probe.committed(partitions, timeout=timeout)}
        lags = []
        for tp in partitions:
            low, high = probe.get_watermark_offsets(tp, timeout=timeout)
            offset = committed[(tp.topic, tp.partition)]
            known = offset if offset >= 0 else None  # librdkafka: -1001 = no committed offset
            lags.append(PartitionLag(tp.topic, tp.partition, known, high, high - (known if known is not None else low)))
        return lags
    finally:
        probe.close()


def wait_until_caught_up(
    kafka: KafkaConfig, group: str, topics: list[str], timeout: float = 900.0, progress=None, poll_seconds: float = 5.0
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        total = sum(p.lag for p in consumer_lag(kafka, group, topics))
        if total == 0:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"group {group} still {total:,} messages behind after {timeout:.0f}s")
        if progress:
            progress(f"Bronze worker {total:,} messages behind ...")
        time.sleep(poll_seconds)
