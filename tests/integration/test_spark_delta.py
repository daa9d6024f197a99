"""Spark with the local Delta and Kafka jars: the lake operations every layer relies on."""

from __future__ import annotations

import pytest
from confluent_kafka import Producer
from pyspark.testing import assertDataFrameEqual

pytestmark = pytest.mark.integration

POSITIONS = "mmsi string, event_date string, sog double"


def test_delta_write_append_time_travel(spark, tmp_path):
    path = str(tmp_path / "positions")
    first = spark.createDataFrame([("219000001", "2026-11-01", 12.5), ("219000002", "2026-11-01", 0.1)], POSITIONS)
    second = spark.createDataFrame([("219000001", "2026-11-02", 13.0)], POSITIONS)
    first.write.format("delta").partitionBy("event_date").save(path)
    second.write.format("delta").mode("append").save(path)

    assert spark.read.format("delta").load(path).count() == 3
    assertDataFrameEqual(spark.read.format("delta").option("versionAsOf", 0).load(path), first)
    history = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").orderBy("version").collect()
    assert [h.operation for h in history] == ["WRITE", "WRITE"]
    assert [h.operationParameters["mode"] for h in history] == ["ErrorIfExists", "Append"]


def test_optimize_zorder_compacts_without_changing_data(spark, tmp_path):
    path = str(tmp_path / "metrics")
    rows = [(f"{219000000 + i:09d}", "2026-11-01", float(i % 30)) for i in range(200)]
    for chunk in range(4):  # four appends, several small files
        spark.createDataFrame(rows[chunk * 50 : (chunk + 1) * 50], POSITIONS).repartition(2).write.format("delta").mode(
            "append"
        ).save(path)
    before = spark.read.format("delta").load(path)
    files_before = len(before.inputFiles())

    result = spark.sql(f"OPTIMIZE delta.`{path}` ZORDER BY (mmsi)").collect()[0]
    after = spark.read.format("delta").load(path)

    assert files_before == 8
    assert len(after.inputFiles()) == 1
    assert result.metrics.numFilesRemoved == 8 and result.metrics.numFilesAdded == 1
    assert result.metrics.zOrderStats is not None
    assertDataFrameEqual(after, spark.createDataFrame(rows, POSITIONS))


def test_schema_evolution_with_merge_schema(spark, tmp_path):
    path = str(tmp_path / "readings")
    spark.createDataFrame([("219000001", "2026-11-01", 10.0)], POSITIONS).write.format("delta").save(path)
    wider = spark.createDataFrame([("219000002", "2026-11-01", 11.0, 87.5)], POSITIONS + ", engine_temp_c double")

    with pytest.raises(Exception, match="(?i)schema"):
        wider.write.format("delta").mode("append").save(path)
    wider.write.format("delta").mode("append").option("mergeSchema", True).save(path)

    table = spark.read.format("delta").load(path)
    assert table.columns == ["mmsi", "event_date", "sog", "engine_temp_c"]
    assertDataFrameEqual(
        table,
        spark.createDataFrame(
            [("219000001", "2026-11-01", 10.0, None), ("219000002", "2026-11-01", 11.0, 87.5)],
            POSITIONS + ", engine_temp_c double",
        ),
    )


def test_spark_reads_kafka_through_the_local_connector_jars(spark, kafka_broker, unique_topic):
    sent = {(f"{219000000 + i % 7:09d}", f"position-{i}") for i in range(300)}
    producer = Producer(kafka_broker.client_config())
    for key, value in sent:
        producer.produce(unique_topic, key=key, value=value)
    assert producer.flush(30) == 0

    frame = (
        spark.read.format("kafka")
        .option("kafka.bootstrap.servers", kafka_broker.bootstrap_servers)
        .option("subscribe", unique_topic)
        .option("startingOffsets", "earliest")
        .option("endingOffsets", "latest")
        .load()
    )
    rows = frame.selectExpr("CAST(key AS STRING) AS k", "CAST(value AS STRING) AS v", "partition", "offset").collect()
    assert {(r.k, r.v) for r in rows} == sent
    assert len(rows) == 300
    assert {r.partition for r in rows} <= {0, 1, 2}
    assert len({(r.partition, r.offset) for r in rows}) == 300
