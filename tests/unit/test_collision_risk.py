from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

import pytest
from pyspark.testing import assertDataFrameEqual

from maritime_jobs.collision_risk import encounters, publish, run, transform
from maritimeiq import catalog
from maritimeiq.cpa import Fix, approach, dead_reckon
from maritimeiq.events import validate

SILVER = (
    "mmsi string, event_time timestamp, event_date date, mmsi_class string, latitude double, "
    "longitude double, sog_kn double, cog_deg double, partition int, offset long"
)
T0 = datetime(2026, 11, 1, 12, 0)
S = timedelta(seconds=1)

# Head-on across the equator (a grid-band boundary); B reported 20 s before A.
A0 = ("219000001", T0 + 30 * S, Fix(-0.02, 3.0, 10.0, 0.0))
B0 = ("219000002", T0 + 10 * S, Fix(0.02, 3.0, 10.0, 180.0))
# One minute on, both still closing.
A1 = ("219000001", T0 + 90 * S, dead_reckon(A0[2], 1 / 60))
B1 = ("219000002", T0 + 90 * S, dead_reckon(B0[2], 80 / 3600))
FIXES = [
    ("219000001", T0 + 5 * S, Fix(-0.021, 3.0, 10.0, 0.0)),  # older fix of the same minute: ignored
    A0,
    B0,
    A1,
    B1,
    ("219000003", T0 + 30 * S, Fix(0.0, 3.4, 12.0, 90.0)),  # 21 nm from 219000004: never paired
    ("219000004", T0 + 30 * S, Fix(0.35, 3.4, 12.0, 270.0)),
    ("219000005", T0 + 30 * S, Fix(0.5, 3.0, 10.0, 90.0)),  # 3 nm abeam, same course and speed
    ("219000006", T0 + 30 * S, Fix(0.5, 3.05, 10.0, 90.0)),
    ("219000007", T0 + 30 * S, Fix(-17.0, 179.99, 12.0, 270.0)),  # across the antimeridian, opening
    ("219000008", T0 + 30 * S, Fix(-17.0, -179.99, 12.0, 90.0)),
    ("992190001", T0 + 30 * S, Fix(0.0, 3.0, 0.0, 0.0)),  # aid to navigation: not a ship
    ("219000009", T0 + 30 * S, Fix(0.0, 3.001, 5.0, None)),  # no COG: no relative motion known
]


def silver(spark, fixes=FIXES):
    def mmsi_class(mmsi):
        return "aid_to_navigation" if mmsi.startswith("99") else "ship"

    return spark.createDataFrame(
        [
            (m, t, t.date(), mmsi_class(m), f.latitude, f.longitude, f.sog_kn, f.cog_deg, 0, i)
            for i, (m, t, f) in enumerate(fixes)
        ],
        SILVER,
    )


def expected_approach(own, target):
    """Both fixes moved to the later time, then the pure-Python CPA."""
    reference = max(own[1], target[1])
    own_fix = dead_reckon(own[2], (reference - own[1]).total_seconds() / 3600)
    target_fix = dead_reckon(target[2], (reference - target[1]).total_seconds() / 3600)
    return approach(own_fix, target_fix)


def by_pair(rows):
    return {(r.mmsi_a, r.mmsi_b, r.bucket_time): r for r in rows}


def test_pairs_in_range_with_cpa_of_the_pure_model(spark):
    found = by_pair(encounters(silver(spark)).collect())
    fix = {(m, t): (m, t, f) for m, t, f in FIXES}
    minute, next_minute = T0, T0 + timedelta(minutes=1)
    expected = {
        ("219000001", "219000002", minute): expected_approach(A0, B0),
        ("219000001", "219000002", next_minute): expected_approach(A1, B1),
        ("219000005", "219000006", minute): approach(
            fix["219000005", T0 + 30 * S][2], fix["219000006", T0 + 30 * S][2]
        ),
        ("219000007", "219000008", minute): approach(
            fix["219000007", T0 + 30 * S][2], fix["219000008", T0 + 30 * S][2]
        ),
    }
    assert set(found) == set(expected)
    for key, want in expected.items():
        row = found[key]
        assert row.range_nm == pytest.approx(want.range_nm, rel=1e-9)
        assert row.dcpa_nm == pytest.approx(want.dcpa_nm, rel=1e-9, abs=1e-9)
        assert row.tcpa_min == (None if want.tcpa_min is None else pytest.approx(want.tcpa_min, rel=1e-9))
    head_on = found["219000001", "219000002", minute]
    assert head_on.reference_time == A0[1] and head_on.tcpa_min == pytest.approx(7.0, abs=0.1)
    assert found["219000007", "219000008", minute].tcpa_min < 0  # opening: CPA is behind them


def test_alerts_only_for_the_closing_pair(spark):
    alerts = transform(silver(spark)).orderBy("bucket_time").collect()
    assert [(r.mmsi_a, r.mmsi_b, r.bucket_time, r.is_onset) for r in alerts] == [
        ("219000001", "219000002", T0, True),
        ("219000001", "219000002", T0 + timedelta(minutes=1), False),  # same encounter continues
    ]
    key = "219000001|219000002|2026-11-01T12:00Z"
    assert alerts[0].alert_id == hashlib.sha256(key.encode()).hexdigest()[:32]


class RecordingProducer:
    def __init__(self):
        self.sent, self.flushed = [], False

    def produce(self, topic, key, value, on_delivery):
        self.sent.append((topic, key, json.loads(value)))
        on_delivery(None, None)

    def poll(self, timeout):
        return 0

    def flush(self):
        self.flushed = True
        return 0


def test_rerun_is_idempotent_and_publishes_the_same_alert(spark, tmp_path):
    lake = str(tmp_path)
    gold = catalog.GOLD_COLLISION_ALERTS.path(lake)
    silver(spark).write.format("delta").partitionBy("event_date").save(catalog.SILVER_AIS_POSITIONS.path(lake))
    first, second = RecordingProducer(), RecordingProducer()
    assert run(spark, lake, T0, T0 + timedelta(minutes=15), producer=first) == (2, 1)
    before = spark.read.format("delta").load(gold).collect()
    assert run(spark, lake, T0, T0 + timedelta(minutes=15), producer=second) == (2, 1)
    assertDataFrameEqual(spark.read.format("delta").load(gold), before)
    assert first.flushed and first.sent == second.sent
    ((topic, key, event),) = first.sent
    assert topic == "maritime.alerts" and key == event["alert_id"] and validate(event) == []
    assert (event["severity"], event["mmsi"], event["event_time"]) == ("P2", "219000001", "2026-11-01T12:00:00.000Z")
    assert "DCPA 0.00 nm" in event["detail"]


def test_publish_reports_failed_deliveries():
    class FailingProducer(RecordingProducer):
        def produce(self, topic, key, value, on_delivery):
            on_delivery("broker down", type("Msg", (), {"key": lambda self: key})())

    row = type(
        "Row",
        (),
        dict(
            alert_id="x" * 32,
            bucket_time=T0,
            mmsi_a="219000001",
            mmsi_b="219000002",
            dcpa_nm=0.1,
            tcpa_min=5.0,
            cpa_time=T0,
            range_nm=1.0,
            latitude_a=0.0,
            longitude_a=0.0,
        ),
    )()
    with pytest.raises(RuntimeError, match="1 of 1 alerts not delivered"):
        publish([row], FailingProducer(), "maritime.alerts")
