from __future__ import annotations

import json
from datetime import datetime

import pytest
from pyspark.sql import types as T

from maritime_streaming.bronze import bronze_frame, progress_record, spark_kafka_options
from maritimeiq.config import load_config


def test_kafka_security_settings_reach_the_java_client():
    config = load_config(
        environ={
            "MARITIME__KAFKA__CLIENT__SECURITY_PROTOCOL": "SASL_SSL",
            "MARITIME__KAFKA__CLIENT__SASL_MECHANISM": "SCRAM-SHA-512",
            "MARITIME__KAFKA__CLIENT__SASL_USERNAME": "bronze",
            "MARITIME__KAFKA__CLIENT__SASL_PASSWORD": "s3cret",
            "MARITIME__KAFKA__CLIENT__SSL_CA_LOCATION": "/etc/kafka/ca.pem",
        }
    )
    options = spark_kafka_options(config.kafka)
    assert options == {
        "kafka.bootstrap.servers": "127.0.0.1:9092",
        "kafka.security.protocol": "SASL_SSL",
        "kafka.sasl.mechanism": "SCRAM-SHA-512",
        "kafka.sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule required "
        'username="bronze" password="s3cret";',
        "kafka.ssl.truststore.type": "PEM",
        "kafka.ssl.truststore.location": "/etc/kafka/ca.pem",
    }


def test_bronze_rows_keep_the_kafka_record_whole(spark):
    kafka_schema = T.StructType(
        [
            T.StructField("key", T.BinaryType()),
            T.StructField("value", T.BinaryType()),
            T.StructField("topic", T.StringType()),
            T.StructField("partition", T.IntegerType()),
            T.StructField("offset", T.LongType()),
            T.StructField("timestamp", T.TimestampType()),
            T.StructField("timestampType", T.IntegerType()),
            T.StructField(
                "headers",
                T.ArrayType(
                    T.StructType([T.StructField("key", T.StringType()), T.StructField("value", T.BinaryType())])
                ),
            ),
        ]
    )
    raw = spark.createDataFrame(
        [
            (
                None,
                bytearray(b"\xff\x00"),
                "maritime.alerts",
                3,
                42,
                datetime(2026, 11, 1, 12),
                0,
                [("source", bytearray(b"sim"))],
            )
        ],
        kafka_schema,
    )
    (row,) = bronze_frame(raw).collect()
    assert row.key is None and bytes(row.value) == b"\xff\x00"
    assert (row.topic, row.partition, row.offset) == ("maritime.alerts", 3, 42)
    assert row.kafka_timestamp == datetime(2026, 11, 1, 12) and row.kafka_timestamp_type == 0
    assert row.headers[0].key == "source" and bytes(row.headers[0].value) == b"sim"
    assert row.ingest_date == row.ingest_time.date()


def test_progress_record_reports_lag_per_partition():
    progress = {
        "name": "bronze-maritime.ais.data",
        "batchId": 7,
        "numInputRows": 1500,
        "inputRowsPerSecond": 1234.56,
        "processedRowsPerSecond": 2345.67,
        "durationMs": {"triggerExecution": 640},
        "sources": [
            {
                "endOffset": json.dumps({"maritime.ais.data": {"0": 1000, "1": 500}}),
                "latestOffset": json.dumps({"maritime.ais.data": {"0": 1200, "1": 500}}),
            }
        ],
    }
    record = progress_record(progress)
    assert record["rows"] == 1500 and record["batch_duration_ms"] == 640
    assert record["offsets_behind_latest"] == {"maritime.ais.data:0": 200, "maritime.ais.data:1": 0}
    assert record["end_offsets"] == {"maritime.ais.data": {"0": 1000, "1": 500}}
    assert record["input_rows_per_second"] == 1234.6


class _Coordinator:
    """Stands in for the group coordinator: refuses the first ``refusals`` commits with ``error``."""

    def __init__(self, error: int, refusals: int):
        self.error, self.refusals, self.commits = error, refusals, []

    def commit(self, offsets, asynchronous):
        from confluent_kafka import KafkaError, KafkaException

        if self.refusals:
            self.refusals -= 1
            raise KafkaException(KafkaError(self.error))
        self.commits.append({(tp.topic, tp.partition): tp.offset for tp in offsets})


def test_offset_commit_waits_for_a_loading_coordinator():
    from confluent_kafka import KafkaError

    from maritime_streaming.bronze import OffsetCommitter

    coordinator = _Coordinator(KafkaError.COORDINATOR_LOAD_IN_PROGRESS, refusals=2)
    committer = OffsetCommitter(load_config(environ={}).kafka, "g", retry_for_s=5, consumer=coordinator)
    committer.commit({"maritime.ais.data": {"0": 1480, "1": 1922}})
    assert coordinator.refusals == 0
    assert coordinator.commits == [{("maritime.ais.data", 0): 1480, ("maritime.ais.data", 1): 1922}]


def test_offset_commit_gives_up_on_a_coordinator_that_stays_away_and_on_authorization():
    from confluent_kafka import KafkaError, KafkaException

    from maritime_streaming.bronze import OffsetCommitter

    kafka = load_config(environ={}).kafka
    away = _Coordinator(KafkaError.NOT_COORDINATOR, refusals=1000)
    with pytest.raises(KafkaException, match="NOT_COORDINATOR"):
        OffsetCommitter(kafka, "g", retry_for_s=0.5, consumer=away).commit({"t": {"0": 1}})
    # Backoff 0.2 s, then 0.4 s: the second wait would end past the 0.5 s budget, so two attempts.
    assert 1000 - away.refusals == 2 and away.commits == []

    refused = _Coordinator(KafkaError.GROUP_AUTHORIZATION_FAILED, refusals=1000)
    with pytest.raises(KafkaException, match="GROUP_AUTHORIZATION_FAILED"):
        OffsetCommitter(kafka, "g", retry_for_s=5, consumer=refused).commit({"t": {"0": 1}})
    assert 1000 - refused.refusals == 1, "an authorization error is not retried"
