"""Sinks for canonical events: Kafka (idempotent, keyed by MMSI) or JSON lines (dry run),
and the loop that feeds a source into a sink with pacing, progress and clean stops."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import IO, Any, Protocol

from maritime_streaming import rejects
from maritime_streaming.rejects import Reject
from maritime_streaming.simulator import RawRecord
from maritimeiq import catalog
from maritimeiq.config import KafkaConfig
from maritimeiq.events import SCHEMA_VERSION, TOPIC_OF

# Bytes of an oversize record kept (as text) in its dead-letter message.
OVERSIZE_SAMPLE_BYTES = 4096


def _encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()


def _epoch_ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


class Sink(Protocol):
    def event(self, event: dict[str, Any]) -> None: ...
    def raw(self, record: RawRecord) -> None: ...
    def reject(self, reject: Reject, source_topic: str) -> None: ...
    def poll(self) -> None: ...
    def close(self) -> dict[str, Any]: ...


class ProducerMetrics:
    """Prometheus metrics of a producer: delivery latency (librdkafka's produce-to-ack
    time) and delivered/failed counts per topic, served on `port`."""

    def __init__(self, port: int):
        from prometheus_client import Counter as PromCounter
        from prometheus_client import Histogram, start_http_server

        self.latency = Histogram(
            "producer_delivery_latency_seconds",
            "produce() to broker acknowledgement",
            ["topic"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )
        self.delivered = PromCounter("producer_messages_delivered_total", "messages acknowledged", ["topic"])
        self.failed = PromCounter("producer_messages_failed_total", "messages not delivered", ["topic"])
        start_http_server(port, addr="127.0.0.1")


class KafkaSink:
    """confluent-kafka producer with the platform's delivery guarantees.

    acks=all with idempotence (librdkafka defaults it off), so retries never duplicate or
    reorder; key = MMSI keeps each vessel's messages in one partition, in order; the
    Kafka timestamp is the event time; headers carry source, event type and schema version.
    """

    def __init__(
        self,
        kafka: KafkaConfig,
        *,
        compression: str = "snappy",
        linger_ms: int = 20,
        client_id: str = "maritime-producer",
        metrics: ProducerMetrics | None = None,
    ):
        from confluent_kafka import Producer

        self.metrics = metrics
        self.delivered: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.too_large: Counter[str] = Counter()
        self._producer = Producer(
            kafka.client_config(
                **{
                    "acks": "all",
                    "enable.idempotence": True,
                    "compression.type": compression,
                    "batch.size": 32768,
                    "linger.ms": linger_ms,
                    "client.id": client_id,
                }
            )
        )

    def _on_delivery(self, err, msg) -> None:
        if err is None:
            self.delivered[msg.topic()] += 1
        else:
            self.failed[msg.topic()] += 1
            self.errors[str(err.name())] += 1
        if self.metrics:
            (self.metrics.delivered if err is None else self.metrics.failed).labels(msg.topic()).inc()
            if err is None and msg.latency() is not None:
                self.metrics.latency.labels(msg.topic()).observe(msg.latency())

    def _produce(
        self, topic: str, key: str | None, value: bytes, timestamp_ms: int | None, headers: list[tuple[str, bytes]]
    ) -> None:
        from confluent_kafka import KafkaError, KafkaException

        while True:
            try:
                self._producer.produce(
                    topic,
                    value=value,
                    key=key,
                    timestamp=timestamp_ms or 0,
                    headers=headers,
                    on_delivery=self._on_delivery,
                )
                break
            except BufferError:  # local queue full: serve delivery reports, then retry
                self._producer.poll(0.5)
            except KafkaException as exc:
                if exc.args[0].code() != KafkaError.MSG_SIZE_TOO_LARGE:
                    raise
                self._too_large(topic, value, headers)
                break
        self._producer.poll(0)

    def _too_large(self, topic: str, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        """A record above message.max.bytes cannot travel whole: its dead-letter message
        carries a sample and the reason, so it is counted instead of stopping the producer."""
        self.too_large[topic] += 1
        source = dict(headers).get("source", b"unknown").decode(errors="replace")
        source_topic = topic.removesuffix(catalog.DEAD_LETTER_SUFFIX)
        sample = value[:OVERSIZE_SAMPLE_BYTES].decode("utf-8", errors="replace")
        self.reject(
            Reject(
                rejects.MESSAGE_TOO_LARGE,
                sample,
                source,
                f"{len(value):,} bytes for {topic}, above the producer's message.max.bytes; "
                f"raw holds the first {OVERSIZE_SAMPLE_BYTES:,} bytes",
            ),
            source_topic,
        )

    def event(self, event: dict[str, Any]) -> None:
        event_type = event["event_type"]
        self._produce(
            TOPIC_OF[event_type],
            event.get("mmsi") or event.get("alert_id"),
            _encode(event),
            _epoch_ms(event["event_time"]),
            _headers(event["source"], event_type),
        )

    def raw(self, record: RawRecord) -> None:
        self._produce(
            record.topic,
            record.key,
            record.value,
            int(record.event_time.timestamp() * 1000),
            _headers("simulator", record.event_type),
        )

    def reject(self, reject: Reject, source_topic: str) -> None:
        headers = _headers(reject.source, "reject") + [("reason", reject.reason.encode())]
        self._produce(catalog.dead_letter_topic(source_topic), None, _encode(reject.as_record()), None, headers)

    def poll(self) -> None:
        self._producer.poll(0)

    def close(self, timeout: float = 60.0) -> dict[str, Any]:
        remaining = self._producer.flush(timeout)
        return {
            "delivered": dict(self.delivered),
            "failed": dict(self.failed),
            "delivery_errors": dict(self.errors),
            "too_large": dict(self.too_large),
            "undelivered_at_exit": remaining,
        }


class JsonLinesSink:
    """Dry run: canonical events and rejects as JSON lines, no Kafka involved."""

    def __init__(self, out: IO[str]):
        self.out = out
        self.written = 0

    def _write(self, record: dict[str, Any]) -> None:
        self.out.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.written += 1

    def event(self, event: dict[str, Any]) -> None:
        self._write(event)

    def raw(self, record: RawRecord) -> None:
        self._write(
            {
                "raw_record": True,
                "topic": record.topic,
                "key": record.key,
                "value": record.value.decode("utf-8", errors="replace"),
                "event_type": record.event_type,
            }
        )

    def reject(self, reject: Reject, source_topic: str) -> None:
        self._write({**reject.as_record(), "dead_letter_of": source_topic})

    def poll(self) -> None:
        pass

    def close(self) -> dict[str, Any]:
        self.out.flush()
        return {"written": self.written}


def _headers(source: str, event_type: str) -> list[tuple[str, bytes]]:
    return [
        ("source", source.encode()),
        ("event-type", event_type.encode()),
        ("schema-version", str(SCHEMA_VERSION).encode()),
    ]


class StopFlag:
    """Set by SIGTERM/SIGINT: the loop finishes the current record, then flushes and exits."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def install(self) -> StopFlag:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self._event.set())
        return self

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        return self._event.wait(seconds)


def pump(
    items: Iterable[dict[str, Any] | RawRecord | Reject],
    sink: Sink,
    *,
    stop: StopFlag,
    speed: float = 0.0,
    reject_topic: str = catalog.AIS_TOPIC,
    progress_every: float = 5.0,
    log: IO[str] = sys.stderr,
) -> Counter[str]:
    """Feed a source into a sink. `speed` > 0 replays at event time x speed; 0 is as fast as possible."""
    counts: Counter[str] = Counter()
    started = last_report = time.monotonic()
    first_event_ms: int | None = None
    for item in items:
        if stop.is_set():
            counts["stopped_early"] = 1
            break
        if isinstance(item, Reject):
            sink.reject(item, reject_topic)
            counts[f"reject:{item.reason}"] += 1
            continue
        event_ms = (
            int(item.event_time.timestamp() * 1000) if isinstance(item, RawRecord) else _epoch_ms(item["event_time"])
        )
        if speed > 0:
            first_event_ms = first_event_ms if first_event_ms is not None else event_ms
            due = started + (event_ms - first_event_ms) / 1000.0 / speed
            while (wait := due - time.monotonic()) > 0 and not stop.is_set():
                sink.poll()
                stop.wait(min(wait, 0.2))
        if isinstance(item, RawRecord):
            sink.raw(item)
            counts[f"bad_record:{item.event_type}"] += 1
        else:
            sink.event(item)
            counts[item["event_type"]] += 1
        counts["sent"] += 1
        now = time.monotonic()
        if now - last_report >= progress_every:
            rate = counts["sent"] / (now - started)
            log.write(
                f"progress: {counts['sent']:,} records, {rate:,.0f}/s, "
                f"{sum(v for k, v in counts.items() if k.startswith('reject:')):,} rejects\n"
            )
            log.flush()
            last_report = now
    counts["elapsed_ms"] = int((time.monotonic() - started) * 1000)
    return counts
