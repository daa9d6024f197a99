"""Producers against the real broker: what goes in comes out, keyed and in order."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from datetime import UTC
from pathlib import Path

import pytest
from confluent_kafka import TIMESTAMP_LOG_APPEND_TIME, Consumer, KafkaError, KafkaException, TopicPartition

from maritime_streaming.nmea import NmeaDecoder
from maritime_streaming.producer import KafkaSink, StopFlag, pump
from maritime_streaming.rejects import Reject
from maritime_streaming.sources import nmea_file
from tests.conftest import SHARED_DATA
from tests.integration.servers import free_port

pytestmark = pytest.mark.integration
PRODUCE = str(Path(sys.executable).parent / "maritime-produce")


_NO_LEADER_YET = {KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE}


def _watermarks(kafka, topic):
    consumer = Consumer(kafka.client_config(**{"group.id": f"probe-{uuid.uuid4().hex[:6]}"}))
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
                return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
            except KafkaException as error:
                # A broker that has just started may not have elected the topic's leaders yet.
                if error.args[0].code() not in _NO_LEADER_YET or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)  # poll interval of the wait, not a synchronisation sleep
    finally:
        consumer.close()


def _read(kafka, topic, start, end):
    consumer = Consumer(
        kafka.client_config(**{"group.id": f"read-{uuid.uuid4().hex[:6]}", "enable.auto.commit": False})
    )
    wanted = {p: end[p] - start.get(p, 0) for p in end}
    consumer.assign([TopicPartition(topic, p, start.get(p, 0)) for p in end if wanted[p] > 0])
    messages, deadline = [], time.monotonic() + 60
    try:
        while len(messages) < sum(wanted.values()) and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is not None and msg.error() is None:
                messages.append(msg)
    finally:
        consumer.close()
    return messages


@pytest.mark.skipif(not SHARED_DATA.exists(), reason="shared data not present")
def test_real_nmea_file_round_trips_keyed_by_mmsi_in_per_vessel_order(kafka_broker):
    path = SHARED_DATA / "dma-aislib-stream" / "stream_example.txt"
    events, rejects = [], []
    for item in nmea_file(path, NmeaDecoder("nmea:file")):
        (rejects if isinstance(item, Reject) else events).append(item)

    before = _watermarks(kafka_broker, "maritime.ais.data")
    dlq_before = _watermarks(kafka_broker, "maritime.ais.data.dlq")
    sink = KafkaSink(kafka_broker)
    produce_started_ms = int(time.time() * 1000)
    counts = pump([*events, *rejects], sink, stop=StopFlag())
    report = sink.close()
    produce_ended_ms = int(time.time() * 1000)
    assert report["failed"] == {} and report["undelivered_at_exit"] == 0
    assert report["delivered"]["maritime.ais.data"] == len(events) == counts["sent"]

    received = _read(kafka_broker, "maritime.ais.data", before, _watermarks(kafka_broker, "maritime.ais.data"))
    assert len(received) == len(events)
    sent_by_key, got_by_key = defaultdict(list), defaultdict(list)
    for event in events:
        sent_by_key[event["mmsi"]].append(event["raw"] + event["event_type"])
    for msg in sorted(received, key=lambda m: (m.partition(), m.offset())):
        value = json.loads(msg.value())
        assert msg.key().decode() == value["mmsi"]
        headers = dict(msg.headers())
        assert headers["event-type"].decode() == value["event_type"] and headers["schema-version"] == b"1"
        # The topic stamps arrival time (retention counts from arrival); the 2010 event time stays in the value.
        timestamp_type, timestamp_ms = msg.timestamp()
        assert timestamp_type == TIMESTAMP_LOG_APPEND_TIME
        assert produce_started_ms - 1000 <= timestamp_ms <= produce_ended_ms + 1000
        assert value["event_time"].startswith("2010-")
        got_by_key[value["mmsi"]].append(value["raw"] + value["event_type"])
    assert got_by_key == sent_by_key  # same messages per vessel, in the order sent

    dead = _read(kafka_broker, "maritime.ais.data.dlq", dlq_before, _watermarks(kafka_broker, "maritime.ais.data.dlq"))
    assert sorted(json.loads(m.value())["raw"] for m in dead) == sorted(r.raw for r in rejects)
    assert {dict(m.headers())["reason"].decode() for m in dead} == {r.reason for r in rejects}


def test_simulator_cli_stops_cleanly_on_sigterm_and_flushes(kafka_broker):
    before = sum(_watermarks(kafka_broker, "maritime.ais.data").values())
    proc = subprocess.Popen(
        [PRODUCE, "simulate", "--vessels", "20", "--hours", "48", "--speed", "600"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(6)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr[-2000:]
    summary = json.loads(stderr[stderr.index("{") :])
    assert summary["sent"]["stopped_early"] == 1
    delivered = summary["sink"]["delivered"]["maritime.ais.data"]
    assert delivered > 0 and summary["sink"]["undelivered_at_exit"] == 0
    assert sum(_watermarks(kafka_broker, "maritime.ais.data").values()) - before == delivered


@pytest.mark.parametrize(
    "args",
    [
        ["simulate", "--vessels", "5", "--hours", "6", "--rate", "0.05", "--interval-scale", "10"],
        ["nmea", "-"],
    ],
)
def test_dry_run_writes_json_lines_without_kafka(tmp_path, args):
    if args[-1] == "-":
        sample = tmp_path / "feed.nmea"
        sample.write_text("!AIVDM,1,1,,A,13RlIW?04F1beOVEFLB9bRvH0L0L,0*6C\n!AIVDM,1,1,,B,,0*25\n")
        args = ["nmea", str(sample)]
    out = tmp_path / "out.jsonl"
    run = subprocess.run(
        [PRODUCE, *args, "--dry-run", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"MARITIME__KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1", "PATH": ""},
    )
    assert run.returncode == 0, run.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert records
    if args[0] == "nmea":
        assert [r.get("event_type") or r["reason"] for r in records] == ["ais_position", "empty_payload"]


def test_producer_metrics_count_every_delivery_and_its_latency(kafka_broker):
    import urllib.request
    from datetime import datetime

    from maritime_streaming.producer import ProducerMetrics
    from maritimeiq.events import make_event

    port = free_port()
    sink = KafkaSink(kafka_broker, metrics=ProducerMetrics(port))
    for i in range(25):
        sink.event(make_event("alert", "test", datetime.now(UTC), alert_id=f"metrics-{i}", severity="P3", title="t"))
    report = sink.close()
    scraped = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    samples = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in scraped.splitlines()
        if line and not line.startswith("#")
    }
    topic = 'topic="maritime.alerts"'
    assert report["delivered"]["maritime.alerts"] == 25
    assert samples[f"producer_messages_delivered_total{{{topic}}}"] == 25
    assert samples[f"producer_delivery_latency_seconds_count{{{topic}}}"] == 25
    assert 0 < samples[f"producer_delivery_latency_seconds_sum{{{topic}}}"] < 25 * 10
