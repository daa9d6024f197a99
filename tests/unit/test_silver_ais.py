from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from maritime_jobs.silver_ais import AisRules, transform
from maritimeiq.events import make_event

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
INGEST = T0 + timedelta(minutes=5)
BRONZE = ("key binary, value binary, topic string, partition int, offset long, kafka_timestamp timestamp, "
          "ingest_time timestamp")


def position(mmsi="219000001", when=T0, lat=55.0, lon=12.0, sog=10.0, msg_type=1, **extra):
    event = make_event("ais_position", "test", when, mmsi=mmsi, msg_type=msg_type, latitude=lat, longitude=lon,
                       sog_kn=sog)
    return {**event, **extra}


def bronze(spark, payloads):
    rows = []
    for offset, payload in enumerate(payloads):
        value = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        rows.append((None, bytearray(value), "maritime.ais.data", 0, offset, T0.replace(tzinfo=None),
                     INGEST.replace(tzinfo=None)))
    return spark.createDataFrame(rows, BRONZE)


def outcome(frame):
    return frame.select("offset", F.array_sort("rule_violations").alias("rules"), "is_duplicate", "mmsi_class")


def test_each_rule_is_named_and_classes_are_tagged_not_dropped(spark):
    payloads = [
        position(),                                                   # 0 valid
        position(mmsi="219000002", lat=95.0),                         # 1 latitude out of range
        position(mmsi="219000003", lon=-190.0),                       # 2 longitude out of range
        position(mmsi="219000004", sog=60.0),                         # 3 implausible for a merchant ship
        position(mmsi="257000005", sog=60.0),                         # 4 high-speed craft: allowed
        position(mmsi="219000006", sog=120.0),                        # 5 beyond the AIS range
        position(mmsi="2190", msg_type=1),                            # 6 MMSI not 9 digits
        position(mmsi="002190047"),                                   # 7 base station: tagged
        position(mmsi="992191234"),                                   # 8 aid to navigation: tagged
        position(mmsi="219000009", when=INGEST + timedelta(hours=2)),  # 9 in the future
        position(mmsi="219000010", when=datetime(1999, 12, 31, tzinfo=timezone.utc)),  # 10 before AIS
        b'{"event_type": "ais_position", "mmsi": "2190',              # 11 corrupt JSON
        position(mmsi="219000011", lat=None, lon=None, sog=None),     # 12 sentinels already null: valid
        make_event("vessel_static", "test", T0, mmsi="219000001", msg_type=5),  # other stream: not here
    ]
    high_speed = spark.createDataFrame([("257000005",)], "mmsi string")
    result = outcome(transform(bronze(spark, payloads), AisRules(), high_speed))
    expected = spark.createDataFrame([
        (0, [], False, "ship"),
        (1, ["latitude_range"], False, "ship"),
        (2, ["longitude_range"], False, "ship"),
        (3, ["implausible_speed"], False, "ship"),
        (4, [], False, "ship"),
        (5, ["implausible_speed", "sog_range"], False, "ship"),
        (6, ["mmsi_format"], False, None),
        (7, [], False, "coast_station"),
        (8, [], False, "aid_to_navigation"),
        (9, ["event_time_in_future"], False, "ship"),
        (10, ["event_time_too_old"], False, "ship"),
        (11, ["mmsi_format", "unparseable_payload"], False, None),
        (12, [], False, "ship"),
    ], "offset long, rules array<string>, is_duplicate boolean, mmsi_class string")
    assertDataFrameEqual(result, expected)


def test_duplicates_keep_the_earliest_offset(spark):
    payloads = [position(), position(sog=11.0), position(msg_type=3), position(when=T0 + timedelta(seconds=10))]
    result = outcome(transform(bronze(spark, payloads))).select("offset", "is_duplicate")
    # Offsets 0 and 1 share (MMSI, event time, type 1): the later one is the duplicate.
    assertDataFrameEqual(result, spark.createDataFrame(
        [(0, False), (1, True), (2, False), (3, False)], "offset long, is_duplicate boolean"))


def test_teleport_flags_the_spike_not_the_fix_after_it(spark):
    # 55.0 N -> 58.0 N is 180 nm; in ten minutes that is 1,080 kn. Back to 55.01 N ten minutes later.
    payloads = [
        position(when=T0, lat=55.0),
        position(when=T0 + timedelta(minutes=10), lat=58.0),
        position(when=T0 + timedelta(minutes=20), lat=55.01),
        position(when=T0 + timedelta(minutes=30), lat=55.04),  # 1.8 nm in 10 min = 10.8 kn
    ]
    result = outcome(transform(bronze(spark, payloads))).select("offset", "rules")
    assertDataFrameEqual(result, spark.createDataFrame(
        [(0, []), (1, ["teleport"]), (2, []), (3, [])], "offset long, rules array<string>"))


def _table_digest(spark, path):
    import hashlib

    rows = sorted(json.dumps(r.asDict(recursive=True), default=str, sort_keys=True)
                  for r in spark.read.format("delta").load(path).collect())
    return hashlib.sha256("\n".join(rows).encode()).hexdigest(), len(rows)


def test_promotion_is_idempotent_and_accounts_for_every_row(spark, tmp_path):
    from maritime_jobs.silver_ais import promote
    from maritime_jobs.silver_common import extract

    hour = timedelta(hours=1)
    payloads = [position(when=T0 + timedelta(minutes=i), lat=55.0 + i * 0.001) for i in range(20)]
    payloads += [position(when=T0 + timedelta(minutes=3))]                 # duplicate of an earlier key
    payloads += [position(mmsi="219000002", lat=95.0)]                     # quarantined
    payloads += [position(mmsi="219000003", when=T0 - timedelta(days=2))]  # late: an older event date
    payloads += [make_event("vessel_static", "test", T0, mmsi="219000001", msg_type=5)]
    rows = []
    for offset, payload in enumerate(payloads):
        ingest = INGEST + (hour if offset % 2 else timedelta(0))  # two ingest hours
        rows.append((None, bytearray(json.dumps(payload).encode()), "maritime.ais.data", 0, offset,
                     T0.replace(tzinfo=None), ingest.replace(tzinfo=None)))
    bronze_path, silver = str(tmp_path / "bronze"), str(tmp_path / "silver")
    spark.createDataFrame(rows, BRONZE).withColumn("ingest_date", F.to_date("ingest_time")) \
        .write.format("delta").partitionBy("ingest_date").save(bronze_path)

    def run(start):
        return promote(spark, extract(spark, bronze_path, start, start + hour), silver, start)

    first_hour, second_hour = T0.replace(minute=0), T0.replace(minute=0) + hour
    records = [run(first_hour), run(second_hour)]
    digests = {name: _table_digest(spark, f"{silver}/{name}")
               for name in ("ais_positions", "ais_positions_quarantine", "data_quality")}
    assert [run(first_hour), run(second_hour), run(first_hour)] == records + [records[0]]
    assert digests == {name: _table_digest(spark, f"{silver}/{name}") for name in digests}

    positions = 20 + 1 + 1 + 1  # position events in Bronze; the static event goes elsewhere
    assert sum(r["rows_in"] for r in records) == positions
    assert sum(r["valid"] + r["quarantined"] + r["duplicates"] for r in records) == positions
    assert digests["ais_positions"][1] == 21 and digests["ais_positions_quarantine"][1] == 1
    assert sum(r["duplicates"] for r in records) == 1
    late = spark.read.format("delta").load(f"{silver}/ais_positions").where("mmsi = '219000003'").collect()
    assert [str(r.event_date) for r in late] == ["2026-10-30"]


def test_haversine_matches_plain_python_and_keeps_nulls(spark):
    import math

    from maritime_jobs.silver_ais import haversine_nm

    def plain(lat1, lon1, lat2, lon2):
        p1, p2 = math.radians(lat1), math.radians(lat2)
        a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
        return 2 * 6371.0088 * math.asin(math.sqrt(a)) / 1.852

    pairs = [(55.0, 12.0, 55.0833, 12.0), (51.9, 4.4833, 1.2667, 103.8333), (0.0, 179.9, 0.0, -179.9),
             (55.0, 12.0, None, None)]
    frame = spark.createDataFrame(pairs, "a double, b double, c double, d double")
    got = [r.h for r in frame.select(haversine_nm(F.col("a"), F.col("b"), F.col("c"), F.col("d")).alias("h")).collect()]
    for value, (lat1, lon1, lat2, lon2) in zip(got, pairs):
        if lat2 is None:
            assert value is None
        else:
            assert value == pytest.approx(plain(lat1, lon1, lat2, lon2), rel=1e-12)
