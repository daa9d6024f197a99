from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from maritime_jobs.silver_common import extract
from maritime_jobs.silver_streams import STREAMS, promote, static_history, transform
from maritimeiq.events import TOPIC_OF, make_event

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
INGEST = T0 + timedelta(minutes=5)
BRONZE = (
    "key binary, value binary, topic string, partition int, offset long, kafka_timestamp timestamp, "
    "ingest_time timestamp"
)


def bronze(spark, payloads, topic, ingest=INGEST, first_offset=0):
    rows = []
    for offset, payload in enumerate(payloads, start=first_offset):
        value = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        at = ingest(offset) if callable(ingest) else ingest
        rows.append((None, bytearray(value), topic, 0, offset, T0.replace(tzinfo=None), at.replace(tzinfo=None)))
    return spark.createDataFrame(rows, BRONZE)


def outcome(frame):
    return frame.select("offset", F.array_sort("rule_violations").alias("rules"), "is_duplicate")


def expected(spark, rows):
    return spark.createDataFrame(rows, "offset long, rules array<string>, is_duplicate boolean")


def reading(mmsi="219000001", when=T0, **values):
    return make_event(
        "environmental_reading",
        "test",
        when,
        mmsi=mmsi,
        **{"engine_temp_c": 380.0, "vibration_rms_mm_s": 4.0, "lube_oil_pressure_bar": 4.5, **values},
    )


def test_environmental_rules_duplicates_and_foreign_rows(spark):
    payloads = [
        reading(),  # 0 valid
        reading(engine_temp_c=900.0),  # 1 out of physical range
        reading(when=T0 + timedelta(minutes=1), vibration_rms_mm_s=float("nan")),  # 2 NaN
        reading(mmsi="12345"),  # 3 MMSI not 9 digits
        reading(engine_load_pct=80.0),  # 4 same (MMSI, time) as 0: duplicate
        b"\xff\xfe not json",  # 5 unreadable: owned by this stream
        {**reading(), "event_type": "weather_balloon"},  # 6 a type foreign to the topic
        make_event("maintenance_event", "test", T0, mmsi="219000001", maintenance_id="m1", kind="planned"),
    ]
    result = outcome(
        transform(bronze(spark, payloads, TOPIC_OF["environmental_reading"]), STREAMS["environmental_readings"])
    )
    assertDataFrameEqual(
        result,
        expected(
            spark,
            [
                (0, [], False),
                (1, ["engine_temp_range"], False),
                (2, ["vibration_rms_mm_s_not_finite"], False),
                (3, ["mmsi_format"], False),
                (4, [], True),
                (5, ["mmsi_format", "unparseable_payload"], False),
                (6, ["unexpected_event_type"], False),
            ],
        ),
    )


def test_maintenance_and_voyage_rules(spark):
    maintenance = [
        make_event("maintenance_event", "test", T0, mmsi="219000001", maintenance_id="m1", kind="corrective"),
        make_event("maintenance_event", "test", T0, mmsi="219000001", maintenance_id="m2", kind="cosmetic"),
        make_event("maintenance_event", "test", T0, mmsi="219000001", maintenance_id=None, kind="planned"),
        make_event(
            "maintenance_event",
            "test",
            T0 + timedelta(hours=1),
            mmsi="219000001",
            maintenance_id="m1",
            kind="corrective",
        ),  # replayed id: duplicate
    ]
    result = outcome(
        transform(bronze(spark, maintenance, TOPIC_OF["maintenance_event"]), STREAMS["maintenance_events"])
    )
    assertDataFrameEqual(
        result,
        expected(
            spark,
            [(0, [], False), (1, ["maintenance_kind"], False), (2, ["missing_maintenance_id"], False), (3, [], True)],
        ),
    )

    voyages = [
        make_event(
            "voyage_event",
            "test",
            T0,
            mmsi="219000001",
            voyage_id="v1",
            kind="departure",
            port_unlocode="DKAAR",
            scheduled_time=T0,
            actual_time=T0,
        ),
        make_event(
            "voyage_event", "test", T0, mmsi="219000001", voyage_id="v1", kind="arrival", port_unlocode="Aarhus"
        ),
        make_event(
            "voyage_event", "test", T0, mmsi="219000001", voyage_id="v2", kind="anchored", port_unlocode="DKAAR"
        ),
    ]
    result = outcome(transform(bronze(spark, voyages, TOPIC_OF["voyage_event"]), STREAMS["voyage_events"]))
    assertDataFrameEqual(
        result, expected(spark, [(0, [], False), (1, ["unlocode_format"], False), (2, ["voyage_kind"], False)])
    )


def test_fuel_reports_rules_and_key(spark):
    def report(fuel="HFO", tonnes=12.5, day=date(2026, 11, 1), **extra):
        return make_event(
            "fuel_report",
            "test",
            T0,
            mmsi="219000001",
            report_date=day,
            fuel_type=fuel,
            fuel_consumed_t=tonnes,
            **extra,
        )

    payloads = [
        report(),  # 0 valid
        report(fuel="mgo"),  # 1 valid, normalised to MGO
        report(fuel="WHALE_OIL"),  # 2 no carbon factor
        report(tonnes=-1.0),  # 3 negative consumption
        report(tonnes=float("inf")),  # 4 infinity
        report(tonnes=13.0),  # 5 same (MMSI, day, fuel) as 0: duplicate
        report(hours_underway=25.0, day=date(2026, 11, 2)),  # 6 more hours than a day has
        {**report(), "fuel_consumed_t": "a lot"},  # 7 wrong type: a type mismatch, and missing
    ]
    frame = transform(bronze(spark, payloads, TOPIC_OF["fuel_report"]), STREAMS["fuel_reports"])
    assertDataFrameEqual(
        outcome(frame),
        expected(
            spark,
            [
                (0, [], False),
                (1, [], False),
                (2, ["fuel_type_unknown"], False),
                (3, ["fuel_consumed_range"], False),
                (4, ["fuel_consumed_range", "fuel_consumed_t_not_finite"], False),
                (5, [], True),
                (6, ["hours_underway_range"], False),
                (7, ["field_type_mismatch", "missing_fuel_consumed_t"], False),
            ],
        ),
    )
    assert frame.where("offset = 1").first().fuel_type == "MGO"


def static(mmsi="219000001", when=T0, msg_type=5, **fields):
    return make_event("vessel_static", "test", when, mmsi=mmsi, msg_type=msg_type, **fields)


def test_static_history_carries_parts_forward_and_opens_a_period_per_change(spark):
    reports = [
        # Class B: part A (name), then part B (type, call sign): one vessel, completed by parts.
        static("338000001", T0, 24, part_number=0, name="SEA DOG", ais_class="B"),
        static(
            "338000001", T0 + timedelta(minutes=1), 24, part_number=1, ship_type=37, call_sign="WDX1", ais_class="B"
        ),
        static("338000001", T0 + timedelta(minutes=7), 24, part_number=0, name="SEA DOG", ais_class="B"),
        # Class A: a repeat of the same data is no change; a new destination is.
        static("219000001", T0, name="NORD", ship_type=70, destination="AARHUS", draught_m=7.5, ais_class="A"),
        static(
            "219000001",
            T0 + timedelta(minutes=6),
            name="NORD",
            ship_type=70,
            destination="AARHUS",
            draught_m=7.5,
            ais_class="A",
        ),
        static(
            "219000001",
            T0 + timedelta(hours=5),
            name="NORD",
            ship_type=70,
            destination="GOTHENBURG",
            draught_m=6.1,
            ais_class="A",
        ),
    ]
    frame = transform(bronze(spark, reports, "maritime.ais.data"), STREAMS["vessel_static_reports"])
    history = static_history(frame).select(
        "mmsi", "name", "ship_type", "call_sign", "destination", "valid_from", "valid_to", "is_current"
    )
    naive = [t.replace(tzinfo=None) for t in (T0, T0 + timedelta(minutes=1), T0 + timedelta(hours=5))]
    assertDataFrameEqual(
        history,
        spark.createDataFrame(
            [
                ("338000001", "SEA DOG", None, None, None, naive[0], naive[1], False),
                ("338000001", "SEA DOG", 37, "WDX1", None, naive[1], None, True),
                ("219000001", "NORD", 70, None, "AARHUS", naive[0], naive[2], False),
                ("219000001", "NORD", 70, None, "GOTHENBURG", naive[2], None, True),
            ],
            "mmsi string, name string, ship_type long, call_sign string, destination string, valid_from timestamp, "
            "valid_to timestamp, is_current boolean",
        ),
    )


def _write_bronze(spark, path, payloads, topic, ingest, first_offset=0):
    bronze(spark, payloads, topic, ingest, first_offset).withColumn(
        "ingest_date", F.to_date("ingest_time")
    ).write.format("delta").mode("append").partitionBy("ingest_date").save(path)


def _rows(spark, path):
    return sorted(
        json.dumps(r.asDict(recursive=True), default=str, sort_keys=True)
        for r in spark.read.format("delta").load(path).collect()
    )


def test_every_bronze_row_lands_once_and_reruns_change_nothing(spark, tmp_path):
    hour = timedelta(hours=1)
    payloads = [reading(when=T0 + timedelta(minutes=i)) for i in range(6)]
    payloads += [
        reading(when=T0 + timedelta(minutes=2)),  # duplicate of offset 2
        reading(engine_temp_c=-300.0),  # quarantined
        b"{truncated",  # unreadable
        make_event("maintenance_event", "test", T0, mmsi="219000001", maintenance_id="m1", kind="corrective"),
        make_event("maintenance_event", "test", T0 + hour, mmsi="219000001", maintenance_id="m1", kind="corrective"),
    ]  # replayed in the next hour
    bronze_path, lake = str(tmp_path / "bronze"), str(tmp_path)
    _write_bronze(
        spark,
        bronze_path,
        payloads,
        "maritime.environmental.sensors",
        lambda offset: INGEST + (hour if offset % 2 else timedelta(0)),
    )
    streams = [STREAMS["environmental_readings"], STREAMS["maintenance_events"]]
    hours = [T0, T0 + hour]

    def run_all():
        return [promote(spark, extract(spark, bronze_path, h, h + hour), lake, h, s) for h in hours for s in streams]

    records = run_all()
    tables = (
        "environmental_readings",
        "environmental_readings_quarantine",
        "maintenance_events",
        "maintenance_events_quarantine",
        "data_quality",
    )
    snapshot = {t: _rows(spark, f"{lake}/silver/{t}") for t in tables}
    assert run_all() == records
    assert {t: _rows(spark, f"{lake}/silver/{t}") for t in tables} == snapshot

    assert sum(r["rows_in"] for r in records) == len(payloads)
    for r in records:
        assert r["valid"] + r["quarantined"] + r["duplicates"] == r["rows_in"]
    assert len(snapshot["environmental_readings"]) == 6
    assert len(snapshot["environmental_readings_quarantine"]) == 2
    assert len(snapshot["maintenance_events"]) == 1
    assert sum(r["duplicates"] for r in records) == 2  # one in its hour, one across hours


def test_static_history_is_rewritten_for_late_reports(spark, tmp_path):
    hour = timedelta(hours=1)
    arrived = T0 + 4 * hour  # every report below is ingested after its event time
    bronze_path, lake = str(tmp_path / "bronze"), str(tmp_path)
    stream = STREAMS["vessel_static_reports"]
    first = [
        static(when=T0, name="NORD", destination="AARHUS"),
        static(when=T0 + timedelta(hours=3), name="NORD", destination="OSLO"),
    ]
    _write_bronze(spark, bronze_path, first, "maritime.ais.data", arrived)
    promote(spark, extract(spark, bronze_path, arrived, arrived + hour), lake, arrived, stream)
    # A report from between the two arrives an hour later: its period slots in between.
    late = [static(when=T0 + timedelta(hours=1), name="NORD", destination="GOTHENBURG")]
    _write_bronze(spark, bronze_path, late, "maritime.ais.data", arrived + hour, first_offset=len(first))
    for _ in range(2):
        promote(spark, extract(spark, bronze_path, arrived + hour, arrived + 2 * hour), lake, arrived + hour, stream)

    history = spark.read.format("delta").load(f"{lake}/silver/vessel_static").orderBy("valid_from").collect()
    assert [(r.destination, r.is_current) for r in history] == [
        ("AARHUS", False),
        ("GOTHENBURG", False),
        ("OSLO", True),
    ]
    assert [r.valid_to for r in history[:-1]] == [r.valid_from for r in history[1:]]
