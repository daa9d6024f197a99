from __future__ import annotations

from datetime import date, datetime

import pytest

from maritime_jobs.gold_fleet_daily import transform

DAY = date(2026, 11, 1)
METRICS = "mmsi string, positions long, distance_nm double, hours_underway double"
HISTORY = "mmsi string, valid_from timestamp, ship_category string, ship_type long"


def test_kpis_per_ship_type_by_hand(spark):
    metrics = spark.createDataFrame(
        [
            ("219000001", 100, 120.0, 10.0),  # bulk carrier
            ("219000002", 50, 30.0, 2.0),  # bulk carrier
            ("338000003", 20, 8.0, 1.0),  # AIS type 37: pleasure craft
            ("257000004", 10, 0.0, 0.0),  # type changes after the day ends: still a tanker (84)
            ("563000005", 5, 1.0, 0.5),  # no static data
        ],
        METRICS,
    )
    history = spark.createDataFrame(
        [
            ("219000001", datetime(2026, 10, 30), "bulk_carrier", 70),
            ("219000002", datetime(2026, 10, 31), None, 70),
            ("219000002", datetime(2026, 11, 1, 6), "bulk_carrier", 70),  # in force at the end of the day
            ("338000003", datetime(2026, 11, 1), None, 37),
            ("257000004", datetime(2026, 10, 1), None, 84),
            ("257000004", datetime(2026, 11, 2, 0, 30), None, 52),
        ],
        HISTORY,
    )
    quarantine = spark.createDataFrame(
        [
            ("219000001", datetime(2026, 11, 1, 3)),
            ("219000001", datetime(2026, 11, 1, 4)),
            ("338000003", datetime(2026, 10, 31, 23)),  # another day: not counted
            ("999000000", datetime(2026, 11, 1, 5)),  # unknown vessel, no position kept
        ],
        "mmsi string, event_time timestamp",
    )
    rows = {r.ship_type_group: r for r in transform(metrics, history, quarantine, DAY).collect()}

    assert set(rows) == {"bulk_carrier", "pleasure_craft", "tanker", "unknown"}
    bulk = rows["bulk_carrier"]
    assert (bulk.active_vessels, bulk.positions, bulk.quarantined_positions) == (2, 150, 2)
    assert bulk.distance_nm == pytest.approx(150.0)
    assert bulk.avg_speed_kn == pytest.approx(150.0 / 12.0)
    assert bulk.quarantine_rate == pytest.approx(2 / 152)
    assert rows["tanker"].avg_speed_kn is None  # no time under way: no speed
    unknown = rows["unknown"]
    assert (unknown.active_vessels, unknown.positions, unknown.quarantined_positions) == (1, 5, 1)
    assert unknown.quarantine_rate == pytest.approx(1 / 6)
    assert rows["pleasure_craft"].quarantined_positions == 0
    assert all(r.event_date == DAY for r in rows.values())
