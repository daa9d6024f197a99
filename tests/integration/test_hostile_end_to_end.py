"""A fixed corpus of hostile records through the real path: producer → Kafka → Bronze
worker → Silver. Nothing crashes, nothing executes, nothing is lost: Bronze holds every
record byte for byte, the source's rejects and an oversize record are in the dead-letter
topic with their reason, and Silver has the valid records and quarantines the rest."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from maritime_streaming import rejects
from maritime_streaming.nmea import MAX_LINE_LENGTH, NmeaDecoder, nmea_checksum
from maritime_streaming.producer import OVERSIZE_SAMPLE_BYTES, KafkaSink, StopFlag, pump
from maritime_streaming.simulator import RawRecord
from maritime_streaming.sources import nmea_file
from maritimeiq.catalog import AIS_TOPIC, bronze_table, dead_letter_topic
from maritimeiq.events import make_event
from maritimeiq.process import stop_group

pytestmark = pytest.mark.integration

SQL = "'; DROP TABLE silver.ais_positions; --"


def sentence(body: str, tag: str | None = None) -> bytes:
    line = f"!{body}*{nmea_checksum(body):02X}"
    return (f"\\{tag}*{nmea_checksum(tag):02X}\\{line}" if tag else line).encode()


# Type 1 position reports of 237836700 (pyais's sample sentence), its receiving station
# an SQL-looking tag-block value, and of 219000010.
VALID_NMEA = [
    sentence("AIVDM,1,1,,A,13RlIW?04F1beOVEFLB9bRvH0L0L,0", tag=f"s:{SQL}"),
    sentence("AIVDM,1,1,,B,13@ndjgP1@0qcJ0Ol8P3Q2l1P000,0"),
]
HOSTILE_NMEA = [
    b"!AIVDM," + b"A" * 2_000_000,  # a 2 MB line
    bytes(b for b in range(256) if b != 0x0A) * 8,  # binary garbage
    b"!AIVDM,1,1,,A,\xc3\x28\xff\xfe,0*00",  # invalid UTF-8
    SQL.encode(),  # SQL-looking line
    sentence("AIVDM,NaN,Infinity,,A,13RlIW?04F1beOVEFLB9bRvH0L0L,0"),  # NaN and infinity as counts
    b"!AIVDM,1,1,,A,13RlIW?04F1beOVEFLB9bRvH0L0L,0*6D",  # checksum off by one
]


def json_records(when: datetime) -> tuple[bytes, dict[bytes, set[str]], bytes]:
    """The valid JSON record, the hostile ones with the rules Silver must name, a 5 MB one."""

    def position(mmsi: str, **fields) -> bytes:
        event = make_event(
            "ais_position", "hostile-test", when, mmsi=mmsi, msg_type=1, latitude=55.5, longitude=12.5, sog_kn=10.0
        )
        return json.dumps({**event, **fields}).encode()  # NaN and Infinity as bare tokens

    hostile = {
        b"[" * 10_000 + b"]" * 10_000: {"unparseable_payload"},  # 10,000-deep nesting
        position("219000021", latitude=float("nan"), sog_kn=float("inf")): {"latitude_not_finite", "sog_kn_not_finite"},
        position("219000022", latitude="55.0"): {"field_type_mismatch"},  # a number as a string
        position("219000023", msg_type="1", heading_deg=1e30): {"field_type_mismatch", "missing_msg_type"},
        b"\xff\xfe\x00garbage\xc3\x28": {"unparseable_payload"},  # invalid UTF-8
        position(SQL): {"mmsi_format"},  # SQL as the MMSI
        SQL.encode(): {"unparseable_payload"},  # SQL as the record
    }
    return position("219000020", station=SQL), hostile, position("219000024", station="x" * 5_000_000)


class IsolatedSink(KafkaSink):
    """The producer's sink, with the AIS topic's events sent to the test's own topic."""

    def __init__(self, kafka, topic: str):
        super().__init__(kafka, linger_ms=5, client_id="hostile-test")
        self._topic = topic

    def _produce(self, topic, *args) -> None:
        super()._produce(self._topic if topic == AIS_TOPIC else topic, *args)


@pytest.fixture
def dead_letters(kafka_broker, unique_topic):
    admin = AdminClient(kafka_broker.admin_config())
    name = dead_letter_topic(unique_topic)
    admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])[name].result()
    yield name
    admin.delete_topics([name])[name].result()


def read_topic(kafka, topic: str) -> dict[tuple[int, int], tuple]:
    """Every message of a topic: (partition, offset) -> (key, value, headers)."""
    consumer = Consumer(
        kafka.client_config(**{"group.id": f"probe-{uuid.uuid4().hex[:8]}", "enable.auto.commit": False})
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        messages: dict[tuple[int, int], tuple] = {}
        deadline = time.monotonic() + 60
        while len(messages) < sum(ends.values()) and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            assert msg.error() is None, msg.error()
            messages[(msg.partition(), msg.offset())] = (msg.key(), msg.value(), dict(msg.headers() or []))
        assert len(messages) == sum(ends.values())
        return messages
    finally:
        consumer.close()


def committed(kafka, group: str, topic: str, partitions) -> dict[int, int]:
    consumer = Consumer(kafka.client_config(**{"group.id": group}))
    try:
        return {
            tp.partition: tp.offset
            for tp in consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
        }
    finally:
        consumer.close()


def run_bronze_worker(kafka, topics: dict[str, dict], lake: dict[str, str], log_path) -> None:
    """The worker as its own process until it has committed every message, then SIGTERM
    (and the wait for its Spark JVM to clean up after itself)."""
    group = f"hostile-test-{uuid.uuid4().hex[:8]}"
    args = ["--trigger-seconds", "1", "--metrics-port", "0", "--group", group]
    for topic in topics:
        args += ["--topic", topic]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "maritime_streaming.bronze", *args],
            env={**os.environ, **lake},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        targets = {
            topic: {p: 1 + max(o for q, o in messages if q == p) for p, _ in messages}
            for topic, messages in topics.items()
        }
        deadline = time.monotonic() + 300
        while any(committed(kafka, group, t, target) != target for t, target in targets.items()):
            assert proc.poll() is None, f"worker exited {proc.returncode}:\n{log_path.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"worker never caught up:\n{log_path.read_text()[-3000:]}"
            time.sleep(2)
    finally:
        stop_group(proc.pid, timeout=120, leader_only=True)
    assert proc.wait() == 0, log_path.read_text()[-3000:]


def test_hostile_corpus_lands_raw_in_bronze_and_quarantined_in_silver(
    spark, kafka_broker, unique_topic, dead_letters, tmp_path
):
    from maritime_jobs.silver_ais import promote
    from maritime_jobs.silver_common import extract

    now = datetime.now(UTC)
    valid_json, hostile_json, oversize_json = json_records(now - timedelta(minutes=2))
    # -- producer: NMEA through the file source and decoder, JSON records as raw records.
    feed = tmp_path / "hostile.nmea"
    feed.write_bytes(b"\n".join([HOSTILE_NMEA[0], VALID_NMEA[0], *HOSTILE_NMEA[1:], VALID_NMEA[1]]) + b"\n")
    first, *others = hostile_json
    raw_values = [first, valid_json, *others, oversize_json]  # the valid record in between
    records = [RawRecord(unique_topic, None, value, "hostile", now) for value in raw_values]
    decoder = NmeaDecoder("nmea:hostile-test")
    sink = IsolatedSink(kafka_broker, unique_topic)
    counts = pump(itertools.chain(nmea_file(feed, decoder), records), sink, stop=StopFlag(), reject_topic=unique_topic)
    delivery = sink.close()
    assert delivery["failed"] == {} and delivery["undelivered_at_exit"] == 0, delivery
    assert delivery["too_large"] == {unique_topic: 1}
    assert counts["ais_position"] == len(VALID_NMEA)
    assert sum(v for k, v in counts.items() if k.startswith("reject:")) == len(HOSTILE_NMEA)

    source = read_topic(kafka_broker, unique_topic)
    dlq = read_topic(kafka_broker, dead_letters)
    assert len(source) == len(VALID_NMEA) + len(raw_values) - 1  # the oversize record went to the DLQ
    assert sorted(v for _, v, headers in source.values() if headers["event-type"] == b"hostile") == sorted(
        raw_values[:-1]
    )

    # -- dead letters: one per rejected line and one for the oversize record, each with its reason.
    letters = [(json.loads(value), headers) for _, value, headers in dlq.values()]
    assert all(
        body["reject"] and body["reason"] and headers["reason"] == body["reason"].encode() for body, headers in letters
    )
    reasons = sorted(body["reason"] for body, _ in letters)
    assert reasons == sorted(
        [
            rejects.LINE_TOO_LONG,
            rejects.NOT_ASCII,
            rejects.NOT_ASCII,
            rejects.MALFORMED_SENTENCE,
            rejects.MALFORMED_SENTENCE,
            rejects.BAD_CHECKSUM,
            rejects.MESSAGE_TOO_LARGE,
        ]
    )
    by_reason = {body["reason"]: body for body, _ in letters}
    assert by_reason[rejects.LINE_TOO_LONG]["raw"] == (b"!AIVDM," + b"A" * (MAX_LINE_LENGTH - 7)).decode()
    assert by_reason[rejects.LINE_TOO_LONG]["detail"] == f"{len(HOSTILE_NMEA[0]):d} characters"
    oversize = by_reason[rejects.MESSAGE_TOO_LARGE]
    assert oversize["raw"] == oversize_json[:OVERSIZE_SAMPLE_BYTES].decode()
    assert f"{len(oversize_json):,} bytes" in oversize["detail"] and oversize["source"] == "simulator"
    assert {body["raw"] for body, _ in letters} >= {SQL, HOSTILE_NMEA[-1].decode()}

    # -- Bronze: every message of both topics, byte for byte.
    lake = {
        "MARITIME__LAKE__ROOT": str(tmp_path / "lake"),
        "MARITIME__LAKE__CHECKPOINT_ROOT": str(tmp_path / "checkpoints"),
        "MARITIME__SPARK__DRIVER_MEMORY": "1g",
        "MARITIME__SPARK__SHUFFLE_PARTITIONS": "2",
    }
    run_bronze_worker(kafka_broker, {unique_topic: source, dead_letters: dlq}, lake, tmp_path / "worker.log")
    bronze_path = bronze_table(unique_topic).path(lake["MARITIME__LAKE__ROOT"])
    for topic, messages in ((unique_topic, source), (dead_letters, dlq)):
        rows = spark.read.format("delta").load(bronze_table(topic).path(lake["MARITIME__LAKE__ROOT"])).collect()
        assert {(r.partition, r.offset): (None if r.key is None else bytes(r.key), bytes(r.value)) for r in rows} == {
            at: (key, value) for at, (key, value, _) in messages.items()
        }

    # -- Silver: the valid records promoted, every hostile one quarantined with its rule.
    lake_root = lake["MARITIME__LAKE__ROOT"]
    start = now.replace(minute=0, second=0, microsecond=0)
    record = promote(spark, extract(spark, bronze_path, start, start + timedelta(hours=2)), lake_root, start)
    assert record["rows_in"] == len(source)
    assert record["valid"] + record["quarantined"] + record["duplicates"] == record["rows_in"]
    assert (record["valid"], record["quarantined"], record["duplicates"]) == (3, len(hostile_json), 0)

    positions = {r.mmsi: r for r in spark.read.format("delta").load(f"{lake_root}/silver/ais_positions").collect()}
    assert set(positions) == {"237836700", "219000010", "219000020"}
    assert positions["237836700"].station == SQL and positions["219000020"].station == SQL  # data, not SQL

    offsets = {value: at for at, (_, value, _) in source.items()}
    quarantined = {
        (r.partition, r.offset): r
        for r in spark.read.format("delta").load(f"{lake_root}/silver/ais_positions_quarantine").collect()
    }
    assert set(quarantined) == {offsets[value] for value in hostile_json}
    for value, rules in hostile_json.items():
        row = quarantined[offsets[value]]
        assert rules <= set(row.rule_violations), (value[:80], row.rule_violations)
        assert row.payload == value.decode("utf-8", errors="replace")
    assert quarantined[offsets[SQL.encode()]].payload == SQL
    assert {r.mmsi for r in quarantined.values()} >= {SQL}
