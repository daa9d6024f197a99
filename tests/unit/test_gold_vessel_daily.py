from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import pytest

from maritime_jobs.gold_vessel_daily import run, transform
from maritimeiq import catalog

SILVER = (
    "mmsi string, event_time timestamp, event_date date, latitude double, longitude double, sog_kn double, "
    "nav_status long, offset long"
)
T0 = datetime(2026, 11, 1, 6, 0)


def haversine_nm(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a)) / 1.852


def fixes(spark, rows):
    return spark.createDataFrame(
        [(m, t, t.date(), lat, lon, sog, status, i) for i, (m, t, lat, lon, sog, status) in enumerate(rows)], SILVER
    )


def test_daily_metrics_by_hand(spark):
    track = [
        ("219000001", T0, 55.0, 12.0, 10.0, 0),
        ("219000001", T0 + timedelta(minutes=30), 55.0833, 12.0, 10.0, 0),
        ("219000001", T0 + timedelta(hours=3), 55.5, 12.2, 0.1, 5),  # after a 2.5 h silence
        ("219000001", T0 + timedelta(hours=3, minutes=30), 55.5001, 12.2, 0.0, 5),
        ("219000001", T0 + timedelta(hours=3, minutes=40), None, None, 0.0, 5),  # no position: not a fix
    ]
    (row,) = transform(fixes(spark, track)).collect()
    points = [(lat, lon) for _, _, lat, lon, _, _ in track if lat is not None]
    distance = sum(haversine_nm(*a, *b) for a, b in zip(points, points[1:]))
    assert row.positions == 4
    assert row.avg_sog_kn == pytest.approx((10 + 10 + 0.1 + 0.0) / 4)
    assert row.max_sog_kn == 10.0
    assert row.distance_nm == pytest.approx(distance, rel=1e-9)
    assert row.hours_underway == pytest.approx(0.5)  # first half hour, under way
    assert row.hours_stationary == pytest.approx(0.5)  # moored half hour; the 2.5 h silence is neither
    assert row.reporting_gaps_over_1h == 1
    assert (row.first_time, row.first_latitude, row.last_time, row.last_longitude) == (
        T0,
        55.0,
        T0 + timedelta(hours=3, minutes=30),
        12.2,
    )


def test_each_vessel_and_day_is_its_own_row(spark):
    rows = [
        ("219000001", T0, 55.0, 12.0, 5.0, 0),
        ("219000002", T0, 56.0, 12.0, 5.0, 0),
        ("219000001", T0 + timedelta(days=1), 55.1, 12.0, 5.0, 0),
    ]
    result = {(r.mmsi, str(r.event_date)): r.positions for r in transform(fixes(spark, rows)).collect()}
    assert result == {("219000001", "2026-11-01"): 1, ("219000002", "2026-11-01"): 1, ("219000001", "2026-11-02"): 1}


def test_rerunning_a_day_replaces_only_that_day(spark, tmp_path):
    lake = str(tmp_path)
    gold = catalog.GOLD_VESSEL_DAILY_METRICS.path(lake)
    rows = [
        ("219000001", T0 + timedelta(days=d, minutes=m), 55.0 + m / 600, 12.0, 6.0, 0)
        for d in range(2)
        for m in range(0, 60, 10)
    ]
    fixes(spark, rows).write.format("delta").partitionBy("event_date").save(catalog.SILVER_AIS_POSITIONS.path(lake))
    assert run(spark, lake, date(2026, 11, 1), date(2026, 11, 3)) == 2
    before = sorted(map(str, spark.read.format("delta").load(gold).collect()))
    assert run(spark, lake, date(2026, 11, 1), date(2026, 11, 2)) == 1
    after = sorted(map(str, spark.read.format("delta").load(gold).collect()))
    assert before == after and len(after) == 2
