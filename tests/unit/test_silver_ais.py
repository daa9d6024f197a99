from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from maritime_jobs.silver_ais import AisRules, transform
from maritimeiq.events import make_event

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
INGEST = T0 + timedelta(minutes=5)
BRONZE = (
    "key binary, value binary, topic string, partition int, offset long, kafka_timestamp timestamp, "
    "ingest_time timestamp"
)


def position(mmsi="219000001", when=T0, lat=55.0, lon=12.0, sog=10.0, msg_type=1, **extra):
    event = make_event(
        "ais_position", "test", when, mmsi=mmsi, msg_type=msg_type, latitude=lat, longitude=lon, sog_kn=sog
    )
    return {**event, **extra}


def bronze(spark, payloads):
    rows = []
    for offset, payload in enumerate(payloads):
        value = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        rows.append(
            (
                None,
                bytearray(value),
                "maritime.ais.data",
                0,
                offset,
                T0.replace(tzinfo=None),
                INGEST.replace(tzinfo=None),
            )
        )
    return spark.createDataFrame(rows, BRONZE)


def outcome(frame):
    return frame.select("offset", F.array_sort("rule_violations").alias("rules"), "is_duplicate", "mmsi_class")


def test_each_rule_is_named_and_classes_are_tagged_not_dropped(spark):
    payloads = [
        position(),  # 0 valid
        position(mmsi="219000002", lat=95.0),  # 1 latitude out of range
        position(mmsi="219000003", lon=-190.0),  # 2 longitude out of range
        position(mmsi="219000004", sog=60.0),  # 3 implausible for a merchant ship
        position(mmsi="257000005", sog=60.0),  # 4 high-speed craft: allowed
        position(mmsi="219000006", sog=120.0),  # 5 beyond the AIS range
        position(mmsi="2190", msg_type=1),  # 6 MMSI not 9 digits
        position(mmsi="002190047"),  # 7 base station: tagged
        position(mmsi="992191234"),  # 8 aid to navigation: tagged
        position(mmsi="219000009", when=INGEST + timedelta(hours=2)),  # 9 in the future
        position(mmsi="219000010", when=datetime(1999, 12, 31, tzinfo=UTC)),  # 10 before AIS
        b'{"event_type": "ais_position", "mmsi": "2190',  # 11 corrupt JSON
        position(mmsi="219000011", lat=None, lon=None, sog=None),  # 12 sentinels already null: valid
        make_event("vessel_static", "test", T0, mmsi="219000001", msg_type=5),  # other stream: not here
    ]
    high_speed = spark.createDataFrame([("257000005",)], "mmsi string")
    result = outcome(transform(bronze(spark, payloads), AisRules(), high_speed))
    expected = spark.createDataFrame(
        [
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
        ],
        "offset long, rules array<string>, is_duplicate boolean, mmsi_class string",
    )
    assertDataFrameEqual(result, expected)


def test_duplicates_keep_the_earliest_offset(spark):
    payloads = [position(), position(sog=11.0), position(msg_type=3), position(when=T0 + timedelta(seconds=10))]
    result = outcome(transform(bronze(spark, payloads))).select("offset", "is_duplicate")
    # Offsets 0 and 1 share (MMSI, event time, type 1): the later one is the duplicate.
    assertDataFrameEqual(
        result,
        spark.createDataFrame([(0, False), (1, True), (2, False), (3, False)], "offset long, is_duplicate boolean"),
    )


def test_teleport_flags_the_spike_not_the_fix_after_it(spark):
    # 55.0 N -> 58.0 N is 180 nm; in ten minutes that is 1,080 kn. Back to 55.01 N ten minutes later.
    payloads = [
        position(when=T0, lat=55.0),
        position(when=T0 + timedelta(minutes=10), lat=58.0),
        position(when=T0 + timedelta(minutes=20), lat=55.01),
        position(when=T0 + timedelta(minutes=30), lat=55.04),  # 1.8 nm in 10 min = 10.8 kn
    ]
    result = outcome(transform(bronze(spark, payloads))).select("offset", "rules")
    assertDataFrameEqual(
        result,
        spark.createDataFrame([(0, []), (1, ["teleport"]), (2, []), (3, [])], "offset long, rules array<string>"),
    )


def _table_digest(spark, path):
    import hashlib

    rows = sorted(
        json.dumps(r.asDict(recursive=True), default=str, sort_keys=True)
        for r in spark.read.format("delta").load(path).collect()
    )
    return hashlib.sha256("\n".join(rows).encode()).hexdigest(), len(rows)


def test_promotion_is_idempotent_and_accounts_for_every_row(spark, tmp_path):
    from maritime_jobs.silver_ais import promote
    from maritime_jobs.silver_common import extract

    hour = timedelta(hours=1)
    payloads = [position(when=T0 + timedelta(minutes=i), lat=55.0 + i * 0.001) for i in range(20)]
    payloads += [position(when=T0 + timedelta(minutes=3))]  # duplicate of an earlier key
    payloads += [position(mmsi="219000002", lat=95.0)]  # quarantined
    payloads += [position(mmsi="219000003", when=T0 - timedelta(days=2))]  # late: an older event date
    payloads += [make_event("vessel_static", "test", T0, mmsi="219000001", msg_type=5)]
    rows = []
    for offset, payload in enumerate(payloads):
        ingest = INGEST + (hour if offset % 2 else timedelta(0))  # two ingest hours
        rows.append(
            (
                None,
                bytearray(json.dumps(payload).encode()),
                "maritime.ais.data",
                0,
                offset,
                T0.replace(tzinfo=None),
                ingest.replace(tzinfo=None),
            )
        )
    bronze_path, lake = str(tmp_path / "bronze"), str(tmp_path)
    spark.createDataFrame(rows, BRONZE).withColumn("ingest_date", F.to_date("ingest_time")).write.format(
        "delta"
    ).partitionBy("ingest_date").save(bronze_path)

    def run(start):
        return promote(spark, extract(spark, bronze_path, start, start + hour), lake, start)

    first_hour, second_hour = T0.replace(minute=0), T0.replace(minute=0) + hour
    records = [run(first_hour), run(second_hour)]
    digests = {
        name: _table_digest(spark, f"{lake}/silver/{name}")
        for name in ("ais_positions", "ais_positions_quarantine", "data_quality")
    }
    assert [run(first_hour), run(second_hour), run(first_hour)] == records + [records[0]]
    assert digests == {name: _table_digest(spark, f"{lake}/silver/{name}") for name in digests}

    positions = 20 + 1 + 1 + 1  # position events in Bronze; the static event goes elsewhere
    assert sum(r["rows_in"] for r in records) == positions
    assert sum(r["valid"] + r["quarantined"] + r["duplicates"] for r in records) == positions
    assert digests["ais_positions"][1] == 21 and digests["ais_positions_quarantine"][1] == 1
    assert sum(r["duplicates"] for r in records) == 1
    late = spark.read.format("delta").load(f"{lake}/silver/ais_positions").where("mmsi = '219000003'").collect()
    assert [str(r.event_date) for r in late] == ["2026-10-30"]


def test_haversine_matches_plain_python_and_keeps_nulls(spark):
    import math

    from maritime_jobs.silver_ais import haversine_nm

    def plain(lat1, lon1, lat2, lon2):
        p1, p2 = math.radians(lat1), math.radians(lat2)
        a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
        return 2 * 6371.0088 * math.asin(math.sqrt(a)) / 1.852

    pairs = [
        (55.0, 12.0, 55.0833, 12.0),
        (51.9, 4.4833, 1.2667, 103.8333),
        (0.0, 179.9, 0.0, -179.9),
        (55.0, 12.0, None, None),
    ]
    frame = spark.createDataFrame(pairs, "a double, b double, c double, d double")
    got = [r.h for r in frame.select(haversine_nm(F.col("a"), F.col("b"), F.col("c"), F.col("d")).alias("h")).collect()]
    for value, (lat1, lon1, lat2, lon2) in zip(got, pairs):
        if lat2 is None:
            assert value is None
        else:
            assert value == pytest.approx(plain(lat1, lon1, lat2, lon2), rel=1e-12)


# -- implied speed judged against the last accepted fix ------------------------------------------
def _haversine_nm(lat1, lon1, lat2, lon2):
    """Independent of the code under test: haversine, R = 6371.0088 km, 1 nm = 1.852 km."""
    import math

    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a)) / 1.852


def _last_accepted_reference(fixes, limit_kn=50.0, min_nm=1.0):
    """AISdb-style cleaner, written separately: the first fix is accepted, every later one
    is judged by its implied speed from the last accepted fix."""
    flags, last = [False], fixes[0]
    for minutes, lat, lon in fixes[1:]:
        hop = _haversine_nm(last[1], last[2], lat, lon)
        hours = (minutes - last[0]) / 60
        bad = hop > min_nm and (hours == 0 or hop / hours > limit_kn)
        flags.append(bad)
        if not bad:
            last = (minutes, lat, lon)
    return flags


START = T0 - timedelta(hours=2)  # tracks end before ingest: no fix is in the future


# Good fixes steam north at 12 kn: 2 nm (1/30 of a degree of latitude) every 10 minutes.
def _northbound(start_minute, count, lat0, start_index):
    return [(start_minute + 10 * i, lat0 + (start_index + i) / 30, 12.0) for i in range(count)]


RUN_OF_TWO = _northbound(0, 3, 55.0, 0) + [(30, 58.1, 12.0), (40, 58.1, 12.01)] + _northbound(50, 3, 55.0, 5)
RUN_OF_THREE = (
    _northbound(0, 3, 55.0, 0) + [(30, 58.1, 12.0), (40, 58.1, 12.01), (50, 58.11, 12.01)] + _northbound(60, 4, 55.0, 6)
)
FAST_CRAFT = [(10 * i, 60.0 + i * (40 / 6) / 60, 5.0) for i in range(6)]  # 40 kn: 6.67 nm per 10 min


def test_scenarios_hold_by_independent_arithmetic():
    # The bad fixes lie 182 nm (3.03 degrees of latitude) off the track: over 1,000 kn from
    # the last good fix ten minutes before.
    assert _haversine_nm(55.0 + 2 / 30, 12.0, 58.1, 12.0) == pytest.approx(182.1, abs=0.1)
    assert _haversine_nm(55.0 + 2 / 30, 12.0, 58.1, 12.0) / (10 / 60) > 1000
    # The runs are consistent among themselves (0.32 nm and 0.6 nm hops: under the 1 nm slack) ...
    assert _haversine_nm(58.1, 12.0, 58.1, 12.01) < 1.0 and _haversine_nm(58.1, 12.01, 58.11, 12.01) < 1.0
    # ... and the fix after a run is 12 kn from the last good one: 6 nm in 30 minutes, 8 nm in 40.
    assert _haversine_nm(55.0 + 2 / 30, 12.0, 55.0 + 5 / 30, 12.0) / 0.5 == pytest.approx(12.0, rel=1e-3)
    assert _haversine_nm(55.0 + 2 / 30, 12.0, 55.0 + 6 / 30, 12.0) / (40 / 60) == pytest.approx(12.0, rel=1e-3)
    assert _haversine_nm(*FAST_CRAFT[0][1:], *FAST_CRAFT[1][1:]) * 6 == pytest.approx(40.0, rel=1e-3)
    assert _last_accepted_reference(RUN_OF_TWO) == [False] * 3 + [True] * 2 + [False] * 3
    assert _last_accepted_reference(RUN_OF_THREE) == [False] * 3 + [True] * 3 + [False] * 4
    assert _last_accepted_reference(FAST_CRAFT) == [False] * 6


def test_runs_of_outliers_are_judged_against_the_last_accepted_fix(spark):
    tracks = {"219000001": RUN_OF_TWO, "219000002": RUN_OF_THREE, "219000003": FAST_CRAFT}
    payloads, expected = [], []
    for mmsi, fixes in tracks.items():
        flags = _last_accepted_reference(fixes)
        for (minutes, lat, lon), bad in zip(fixes, flags):
            sog = 40.0 if mmsi == "219000003" else 12.0
            payloads.append(position(mmsi=mmsi, when=START + timedelta(minutes=minutes), lat=lat, lon=lon, sog=sog))
            expected.append((len(expected), ["teleport"] if bad else []))
    # A spike test against raw neighbours passes these: each bad fix has a close bad neighbour.
    assert sum(1 for _, rules in expected if rules) == 5
    result = outcome(transform(bronze(spark, payloads))).select("offset", "rules")
    assertDataFrameEqual(result, spark.createDataFrame(expected, "offset long, rules array<string>"))


def test_bad_first_fix_is_judged_and_an_unresolvable_pair_is_not(spark):
    # A bad first fix (58.1 N) before four good ones: the good ones agree, so it is the outlier.
    first_bad = [(0, 58.1, 12.0)] + _northbound(10, 4, 55.0, 1)
    # Two fixes 186 nm apart in ten minutes: one hop cannot tell which end is wrong.
    pair = [(0, 55.0, 12.0), (10, 58.1, 12.0)]
    # A listed high-speed craft (ship type 40-49) at 60 kn: neither rule applies to it.
    craft = [(10 * i, 60.0 + i * 10 / 60, 5.0) for i in range(4)]
    assert _haversine_nm(58.1, 12.0, 55.0 + 1 / 30, 12.0) > 50 / 6  # > 50 kn over 10 minutes
    assert _haversine_nm(*craft[0][1:], *craft[1][1:]) * 6 == pytest.approx(60.0, rel=1e-3)

    def fixes(mmsi, track, sog=12.0):
        return [position(mmsi=mmsi, when=START + timedelta(minutes=m), lat=la, lon=lo, sog=sog) for m, la, lo in track]

    payloads = fixes("219000004", first_bad) + fixes("219000005", pair) + fixes("257000006", craft, sog=60.0)
    high_speed = spark.createDataFrame([("257000006",)], "mmsi string")
    result = outcome(transform(bronze(spark, payloads), AisRules(), high_speed)).select("offset", "rules")
    expected = [(0, ["teleport"])] + [(i, []) for i in range(1, len(payloads))]
    assertDataFrameEqual(result, spark.createDataFrame(expected, "offset long, rules array<string>"))


def test_vessels_sharing_an_mmsi_keep_the_first_confirmed_track():
    from maritime_jobs.silver_ais import implied_speed_outliers

    # Two transmitters with one MMSI alternate, 186 nm apart, every 5 minutes: each track
    # agrees with itself. The one heard first anchors; the other's fixes are all flagged.
    fixes = [(5 * i, 55.0 if i % 2 == 0 else 58.1, 12.0) for i in range(6)]
    seconds, lats, lons = zip(*((m * 60.0, la, lo) for m, la, lo in fixes))
    assert implied_speed_outliers(seconds, lats, lons) == [False, True] * 3 == _last_accepted_reference(fixes)
    # Two good fixes, then two far off that agree with each other: the earlier pair anchors.
    assert implied_speed_outliers([0, 600, 1200, 1800], [55.0, 55.02, 58.1, 58.1], [12.0] * 4) == [
        False,
        False,
        True,
        True,
    ]
    # A single fix, and a pair that disagrees, are not judged.
    assert implied_speed_outliers([0], [55.0], [12.0]) == [False]
    assert implied_speed_outliers([0, 600], [55.0, 58.1], [12.0, 12.0]) == [False, False]
