"""Real AIS through Bronze → Silver → Gold, checked against independent computations:
pandas on the raw NOAA export, and the test suite's own bit decoder on raw NMEA."""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from pyspark.sql import functions as F

from maritime_jobs import gold_vessel_daily
from maritime_jobs.silver_ais import AisRules, high_speed_craft, promote, transform
from maritime_jobs.silver_common import extract
from maritime_jobs.silver_streams import STREAMS
from maritime_jobs.silver_streams import promote as promote_stream
from maritime_streaming.csv_sources import CsvDecoder
from maritime_streaming.nmea import NmeaDecoder
from maritime_streaming.sources import csv_file, nmea_file
from tests import ais_reference as ref
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.integration
NY = SHARED_DATA / "noaa-nyharbor-tracktable" / "NYHarbor_2020_06_30_first_hour.csv"
NMEA_FILES = [SHARED_DATA / "dma-aislib-stream" / "stream_example.txt", SHARED_DATA / "noaadata-uscg" / "test.ais"]
INGESTED = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
BRONZE = (
    "key binary, value binary, topic string, partition int, offset long, kafka_timestamp timestamp, "
    "ingest_time timestamp"
)


def plain_haversine_nm(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a)) / 1.852


def land_in_bronze(spark, events, path):
    """Events as the Bronze worker stores them: raw JSON value, offset, ingest time."""
    at = INGESTED.replace(tzinfo=None)
    rows = [(None, bytearray(json.dumps(e).encode()), "maritime.ais.data", 0, i, at, at) for i, e in enumerate(events)]
    spark.createDataFrame(rows, BRONZE).withColumn("ingest_date", F.to_date("ingest_time")).write.format(
        "delta"
    ).partitionBy("ingest_date").save(path)


def promote_hour(spark, bronze_path, lake):
    end = INGESTED + timedelta(hours=1)
    promote_stream(spark, extract(spark, bronze_path, INGESTED, end), lake, INGESTED, STREAMS["vessel_static_reports"])
    return promote(spark, extract(spark, bronze_path, INGESTED, end), lake, INGESTED)


@pytest.mark.skipif(not NY.exists(), reason="shared data not present")
def test_noaa_new_york_harbor_hour_matches_pandas(spark, tmp_path):
    events = [e for e in csv_file(NY, CsvDecoder("noaa")) if isinstance(e, dict)]
    bronze_path, lake = str(tmp_path / "bronze"), str(tmp_path)
    land_in_bronze(spark, events, bronze_path)
    record = promote_hour(spark, bronze_path, lake)
    assert record["rows_in"] == sum(e["event_type"] == "ais_position" for e in events)
    assert record["valid"] + record["quarantined"] + record["duplicates"] == record["rows_in"]

    gold = gold_vessel_daily.transform(
        spark.read.format("delta").load(f"{lake}/silver/ais_positions").where(F.col("event_date") == date(2020, 6, 30))
    )
    ours = {r.mmsi: r for r in gold.collect()}
    quarantined = {r.mmsi for r in spark.read.format("delta").load(f"{lake}/silver/ais_positions_quarantine").collect()}

    # Independently: the raw export in pandas, with the AIS range rules and de-duplication.
    raw = pd.read_csv(NY, dtype={"MMSI": str})
    raw["mmsi"] = raw["MMSI"].str.zfill(9)
    raw["time"] = pd.to_datetime(raw["BaseDateTime"], utc=True)
    usable = raw[raw["LAT"].between(-90, 90) & raw["LON"].between(-180, 180) & raw["mmsi"].str.fullmatch(r"\d{9}")]
    usable = usable.drop_duplicates(["mmsi", "time"], keep="first").sort_values(["mmsi", "time"], kind="stable")
    expected = {}
    for mmsi, track in usable.groupby("mmsi"):
        points = list(zip(track["LAT"], track["LON"]))
        expected[mmsi] = (len(points), sum(plain_haversine_nm(*a, *b) for a, b in zip(points, points[1:])))

    compared = [m for m in expected if m not in quarantined]
    assert len(compared) >= 0.95 * len(expected) and len(expected) > 100
    assert set(compared) <= set(ours)
    for mmsi in compared:
        positions, distance = expected[mmsi]
        assert ours[mmsi].positions == positions, mmsi
        assert ours[mmsi].distance_nm == pytest.approx(distance, rel=1e-3, abs=1e-9), mmsi


@pytest.mark.skipif(not all(p.exists() for p in NMEA_FILES), reason="shared data not present")
@pytest.mark.parametrize("path", NMEA_FILES, ids=lambda p: p.parent.name)
def test_raw_nmea_positions_per_vessel_match_an_independent_decoder(spark, tmp_path, path):
    events = [e for e in nmea_file(path, NmeaDecoder("nmea:file")) if isinstance(e, dict)]
    bronze_path, lake = str(tmp_path / "bronze"), str(tmp_path)
    land_in_bronze(spark, events, bronze_path)
    record = promote_hour(spark, bronze_path, lake)
    assert record["valid"] + record["quarantined"] + record["duplicates"] == record["rows_in"]

    # Types 1-3 with a position, per vessel, from the suite's own decoder of the raw sentences.
    reference = Counter()
    for bits in ref.assembled_messages(ref.sentences(path)):
        if ref.uint(bits, 0, 6) in (1, 2, 3) and len(bits) >= 168:
            report = ref.position_report(bits)
            if abs(report["latitude"]) <= 90 and abs(report["longitude"]) <= 180:
                reference[(report["mmsi"], round(report["latitude"], 6), round(report["longitude"], 6))] += 1

    # Every such report is in Silver, or quarantined, or a dropped duplicate: nothing lost.
    def counted(frame):
        return Counter(
            (r.mmsi, round(r.latitude, 6), round(r.longitude, 6))
            for r in frame.where(
                F.col("msg_type").isin(1, 2, 3) & F.col("latitude").isNotNull() & F.col("longitude").isNotNull()
            ).collect()
        )

    silver_rows = counted(spark.read.format("delta").load(f"{lake}/silver/ais_positions"))
    bronze_slice = extract(spark, bronze_path, INGESTED, INGESTED + timedelta(hours=1))
    result = transform(bronze_slice, AisRules(), high_speed_craft(bronze_slice, lake))
    dropped = counted(result.where(F.col("is_duplicate") | (F.size("rule_violations") > 0)))
    assert len(reference) > 50
    assert silver_rows + dropped == reference
    assert sum(silver_rows.values()) >= 0.9 * sum(reference.values())
