from __future__ import annotations

import hashlib
import math
from datetime import date, datetime, timedelta

import pandas as pd
import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from maritime_jobs.silver_ais import mmsi_class
from maritime_jobs.voyage_analytics import (
    VoyageParams,
    port_calls,
    port_visits,
    route_delay_rolling,
    route_performance,
    run,
    transform,
    voyages,
)
from maritimeiq import catalog
from tests.conftest import SHARED_DATA

R_KM = 6371.0088
T0 = datetime(2026, 11, 2, 6, 0)
DAY = T0.date()
NEXT_DAY = DAY + timedelta(days=1)  # ranges are [start, end)
PORT_A, PORT_B = (55.0, 12.0), (55.0, 12.5)
PORTS = [("ZZAAA", "Port A", "ZZ", *PORT_A), ("ZZBBB", "Port B", "ZZ", *PORT_B)]
PORT_COLUMNS = "unlocode string, name string, country_code string, latitude double, longitude double"
SILVER = (
    "mmsi string, event_time timestamp, event_date date, msg_type int, ais_class string, mmsi_class string, "
    "latitude double, longitude double, sog_kn double, cog_deg double, heading_deg int, rot_deg_min double, "
    "nav_status int, position_accuracy boolean, utc_second int, station string, source string, "
    "partition int, offset long, ingest_time timestamp"
)
EVENTS = (
    "mmsi string, event_time timestamp, event_date date, voyage_id string, kind string, port_unlocode string, "
    "scheduled_time timestamp, actual_time timestamp, source string, partition int, offset long, "
    "ingest_time timestamp"
)


def haversine_km(a, b):
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b[1] - a[1]) / 2) ** 2
    return 2 * R_KM * math.asin(math.sqrt(h))


def north_of(port, km):
    return port[0] + math.degrees(km / R_KM), port[1]


def east_of(port, km):
    """Same latitude, `km` of great-circle distance away (negative: west)."""
    dlon = 2 * math.asin(math.sin(abs(km) / (2 * R_KM)) / math.cos(math.radians(port[0])))
    return port[0], port[1] + math.copysign(math.degrees(dlon), km)


def silver(spark, fixes):
    """(mmsi, time, (lat, lon), sog) → Silver `ais_positions` rows."""
    return spark.createDataFrame(
        [
            (
                m,
                t,
                t.date(),
                1,
                "A",
                "ship",
                lat,
                lon,
                sog,
                None,
                None,
                None,
                0,
                True,
                t.second,
                "test",
                "test",
                0,
                i,
                t + timedelta(minutes=1),
            )
            for i, (m, t, (lat, lon), sog) in enumerate(fixes)
        ],
        SILVER,
    )


def ports(spark):
    return spark.createDataFrame(PORTS, PORT_COLUMNS)


def arrival_event(mmsi, port, actual, scheduled, offset, kind="arrival"):
    return (mmsi, actual, actual.date(), f"{mmsi}-v", kind, port, scheduled, actual, "simulator", 0, offset, actual)


# A → B: moored at A, out past 4 km, across, in within 3 km of B, moored at B.
LEG = [
    (0, east_of(PORT_A, 0.1), 0.0),
    (60, east_of(PORT_A, 0.1), 0.0),
    (75, east_of(PORT_A, 2.5), 8.0),
    (90, east_of(PORT_A, 4.5), 10.0),
    (150, (55.0, 12.25), 12.0),
    (210, east_of(PORT_B, -4.5), 10.0),
    (225, east_of(PORT_B, -2.5), 6.0),
    (240, east_of(PORT_B, -0.1), 0.0),
    (300, east_of(PORT_B, -0.1), 0.0),
]
DEPARTURE, ARRIVAL = T0 + timedelta(minutes=90), T0 + timedelta(minutes=225)


def leg(mmsi):
    return [(mmsi, T0 + timedelta(minutes=m), point, sog) for m, point, sog in LEG]


def test_hysteresis_stops_and_port_gap_by_hand(spark):
    km = [5.0, 3.5, 2.9, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 3.5, 4.1, 6.0]
    sog = [8.0, 6.0, 4.0, 0.3, 0.2, 0.4, 0.5, 0.1, 0.0, 6.0, 8.0, 10.0]
    minutes = [0, 10, 20, 40, 60, 90, 120, 150, 150 + 240, 150 + 270, 150 + 280, 150 + 290]
    points = [north_of(PORT_A, d) for d in km]
    assert [haversine_km(PORT_A, p) for p in points] == pytest.approx(km, rel=1e-9)
    times = [T0 + timedelta(minutes=m) for m in minutes]

    (call,) = port_calls(
        silver(spark, [("219000001", t, p, s) for t, p, s in zip(times, points, sog)]), ports(spark)
    ).collect()

    # 3.5 km on the way in is not an entry; 2.9 km is. 3.5 km on the way out is still in
    # port; 4.1 km is the exit.
    assert (call.unlocode, call.port_name, call.arrival_time, call.departure_time) == (
        "ZZAAA",
        "Port A",
        times[2],
        times[10],
    )
    assert call.duration_hours == pytest.approx((times[10] - times[2]).total_seconds() / 3600)
    # 0.3 kn does not start a stop, 0.2 kn does; 0.4 kn does not end it, 0.5 kn does.
    stopped = [(times[4], times[6]), (times[7], times[9])]
    assert call.stop_hours == pytest.approx(sum((b - a).total_seconds() for a, b in stopped) / 3600)
    assert call.has_gap_4h  # exactly 4 h between the fixes at 150 and 390 minutes
    assert call.positions == 8  # from the entry fix to the last fix before the exit


def gfw_confidence(events):
    """GFW pipe-anchorages port-visit confidence, from the event types a visit holds."""
    stop_or_gap = bool(events & {"stop", "gap"})
    entry, exit_ = "entry" in events, "exit" in events
    if stop_or_gap:
        return 4 if entry and exit_ else 3 if entry or exit_ else 2
    return 1 if entry or exit_ else None


# mmsi → fixes (minutes after T0, km east of Port A (negative: west), SOG kn), the events
# GFW finds in the visit by hand, and its (arrival, departure) minutes.
SCENARIOS = {
    # Sails past 1 km off the port at 12 kn: in at 2 km, out at 4.5 km, never slow.
    "219000011": ([(0, -6, 12), (10, -2, 12), (20, 1, 12), (30, 4.5, 12), (40, 8, 12)], {"entry", "exit"}, (10, 30)),
    # 0.3 kn is between the stop thresholds: no stop begins.
    "219000012": ([(0, -6, 10), (10, -2, 5), (20, -1, 0.3), (80, -1, 0.3), (90, -5, 10)], {"entry", "exit"}, (10, 90)),
    # Stops at 0.1 kn, moves again at 6 kn, leaves.
    "219000013": (
        [(0, -6, 10), (10, -2, 5), (20, -0.5, 0.1), (80, -0.5, 0.0), (90, -2, 6), (100, -5, 10)],
        {"entry", "stop", "exit"},
        (10, 100),
    ),
    # Stopped when the data ends: no exit.
    "219000014": ([(0, -6, 10), (10, -2, 5), (20, -0.5, 0.0), (80, -0.5, 0.0)], {"entry", "stop"}, (10, None)),
    # Exactly 4 h without a fix in port at 3 kn, then leaves.
    "219000015": (
        [(0, -6, 10), (10, -2, 5), (20, -1, 3), (260, -1, 3), (270, -5, 10)],
        {"entry", "gap", "exit"},
        (10, 270),
    ),
    # 3 h 59 min is no port gap.
    "219000016": ([(0, -6, 10), (10, -2, 5), (20, -1, 3), (259, -1, 3), (270, -5, 10)], {"entry", "exit"}, (10, 270)),
    # In port from the first fix (no entry), 5 h gap, never leaves: a gap only.
    "219000017": ([(0, -1, 3), (300, -1, 3)], {"gap"}, (0, None)),
    # Stopped from the first fix (neither entry nor stop begin), 5 h gap, moves (stop end), leaves.
    "219000018": ([(0, -0.5, 0.0), (300, -0.5, 0.0), (310, -2, 6), (320, -5, 10)], {"stop", "gap", "exit"}, (0, 320)),
    # Both a stop and a gap, with entry and exit; the exit fix also ends the stop.
    "219000019": (
        [(0, -6, 10), (10, -2, 5), (20, -0.5, 0.0), (320, -0.5, 0.0), (330, -5, 10)],
        {"entry", "stop", "gap", "exit"},
        (10, 330),
    ),
    # In port from the first fix, moving, leaves: an exit only.
    "219000020": ([(0, -1, 5), (10, -5, 10)], {"exit"}, (0, 10)),
    # In port from the first fix, moving, still there when the data ends: no event, no visit.
    "219000021": ([(0, -1, 5), (10, -1.5, 5)], set(), None),
}


def test_port_call_confidence_follows_gfw_events(spark):
    fixes = [
        (mmsi, T0 + timedelta(minutes=m), east_of(PORT_A, km), float(sog))
        for mmsi, (track, _, _) in SCENARIOS.items()
        for m, km, sog in track
    ]

    calls = port_calls(silver(spark, fixes), ports(spark))

    def at(minutes):
        return None if minutes is None else T0 + timedelta(minutes=minutes)

    assertDataFrameEqual(
        calls.select("mmsi", "unlocode", "arrival_time", "departure_time", "has_gap_4h", "confidence"),
        spark.createDataFrame(
            [
                (mmsi, "ZZAAA", at(times[0]), at(times[1]), "gap" in events, gfw_confidence(events))
                for mmsi, (_, events, times) in SCENARIOS.items()
                if times is not None
            ],
            "mmsi string, unlocode string, arrival_time timestamp, departure_time timestamp, "
            "has_gap_4h boolean, confidence int",
        ),
    )
    assert {r.mmsi: r.confidence for r in calls.collect()}["219000011"] == 1  # the pass-by


def test_a_visit_open_at_the_end_of_the_data_has_a_port_gap_once_that_end_is_4_hours_on():
    t = pd.Timestamp(T0)
    track = _track(
        [
            ("219000001", t, 0, 8.0, None, None, None, 0.0),
            ("219000001", t + pd.Timedelta(minutes=10), 1, 3.0, "ZZAAA", "Port A", 1.0, 1.0),
        ]
    )
    last = t + pd.Timedelta(minutes=10)

    def visit(data_end):
        (row,) = port_visits(track, data_end=data_end).to_dict("records")
        return row["has_gap_4h"], row["confidence"]

    assert visit(None) == (False, gfw_confidence({"entry"}))
    assert visit(last + pd.Timedelta(hours=4)) == (True, gfw_confidence({"entry", "gap"}))
    assert visit(last + pd.Timedelta(hours=4) - pd.Timedelta(microseconds=1)) == (False, 1)


def test_only_visits_of_the_minimum_confidence_split_voyages(spark):
    port_c = (55.0, 13.0)
    three_ports = spark.createDataFrame(PORTS + [("ZZCCC", "Port C", "ZZ", *port_c)], PORT_COLUMNS)
    # A: entry, stop, exit. B: passed 1 km off at 12 kn (entry, exit). C: entry, stop, data ends.
    track = [
        (0, PORT_A, -6, 10),
        (10, PORT_A, -2, 5),
        (20, PORT_A, -0.1, 0.0),
        (80, PORT_A, -0.1, 0.0),
        (90, PORT_A, 2, 8),
        (100, PORT_A, 5, 10),
        (150, PORT_B, -2, 12),
        (160, PORT_B, 1, 12),
        (170, PORT_B, 5, 12),
        (220, port_c, -5, 12),
        (230, port_c, -2, 6),
        (240, port_c, -0.1, 0.0),
    ]
    positions = silver(
        spark, [("219000001", T0 + timedelta(minutes=m), east_of(port, km), float(sog)) for m, port, km, sog in track]
    )
    calls = port_calls(positions, three_ports).persist()
    no_events = spark.createDataFrame([], EVENTS)
    at = [T0 + timedelta(minutes=m) for m in (100, 150, 170, 230)]
    schema = "mmsi string, unlocode string, arrival_time timestamp, confidence int"

    assertDataFrameEqual(
        calls.select("mmsi", "unlocode", "arrival_time", "confidence"),
        spark.createDataFrame(
            [
                ("219000001", "ZZAAA", T0 + timedelta(minutes=10), gfw_confidence({"entry", "stop", "exit"})),
                ("219000001", "ZZBBB", at[1], gfw_confidence({"entry", "exit"})),
                ("219000001", "ZZCCC", at[3], gfw_confidence({"entry", "stop"})),
            ],
            schema,
        ),
    )

    def legs(min_confidence):
        params = VoyageParams(DAY, NEXT_DAY, lookback_days=0, min_visit_confidence=min_confidence)
        return voyages(calls, no_events, params).select(
            "origin_unlocode", "destination_unlocode", "departure_time", "arrival_time"
        )

    leg_schema = "origin_unlocode string, destination_unlocode string, departure_time timestamp, arrival_time timestamp"
    # Confidence >= 3 (default): B (1) is passed, one voyage A → C.
    assert VoyageParams(DAY, NEXT_DAY).min_visit_confidence == 3
    assertDataFrameEqual(legs(3), spark.createDataFrame([("ZZAAA", "ZZCCC", at[0], at[3])], leg_schema))
    # Confidence >= 1: every visit splits, two voyages A → B → C.
    assertDataFrameEqual(
        legs(1), spark.createDataFrame([("ZZAAA", "ZZBBB", at[0], at[1]), ("ZZBBB", "ZZCCC", at[2], at[3])], leg_schema)
    )
    calls.unpersist()


def _track(rows):
    return pd.DataFrame(
        rows, columns=["mmsi", "event_time", "offset", "sog_kn", "unlocode", "port_name", "port_km", "odometer_nm"]
    )


def test_port_visits_on_its_own_keeps_the_closest_port_and_leaves_the_last_visit_open():
    t = pd.Timestamp(T0)
    track = _track(
        [
            ("219000001", t, 0, 5.0, "ZZAAA", "Port A", 2.0, 0.0),
            ("219000001", t + pd.Timedelta(hours=3, minutes=59), 1, 0.0, "ZZBBB", "Port B", 0.4, 1.0),
            ("219000001", t + pd.Timedelta(hours=5), 2, 0.0, "ZZAAA", "Port A", 3.9, 1.5),
        ]
    )
    (visit,) = port_visits(track.iloc[::-1]).to_dict("records")  # input order does not matter
    assert (visit["unlocode"], visit["port_name"], visit["arrival_time"]) == ("ZZBBB", "Port B", t)
    assert pd.isna(visit["departure_time"])
    assert not visit["has_gap_4h"]  # 3 h 59 min is not a port gap
    assert visit["stop_hours"] == pytest.approx(1 + 1 / 60)
    assert (visit["positions"], visit["arrival_odometer_nm"]) == (3, 0.0)
    assert port_visits(_track([("219000001", t, 0, 5.0, None, None, None, 0.0)])).empty


def test_two_port_calls_make_one_voyage_with_schedule_from_voyage_events(spark):
    positions = silver(spark, leg("219000001") + leg("219000002") + leg("219000003"))
    actual = ARRIVAL + timedelta(minutes=15)  # alongside a quarter of an hour after entering 3 km
    events = spark.createDataFrame(
        [
            arrival_event("219000001", "ZZBBB", actual, actual - timedelta(minutes=59), 1),
            arrival_event("219000001", "ZZBBB", ARRIVAL + timedelta(hours=7), T0, 2),  # beyond the 6 h match window
            arrival_event("219000002", "ZZBBB", actual, actual - timedelta(minutes=61), 3),
            arrival_event("219000002", "ZZAAA", ARRIVAL, T0, 4),  # another port
            arrival_event("219000003", "ZZBBB", ARRIVAL, T0, 5, kind="departure"),
        ],
        EVENTS,
    )

    calls, trips = transform(positions, ports(spark), events, VoyageParams(DAY, NEXT_DAY, lookback_days=0))

    hops = [point for m, point, _ in LEG if 90 <= m <= 225]
    distance = sum(haversine_km(a, b) for a, b in zip(hops, hops[1:])) / 1.852
    hours = (ARRIVAL - DEPARTURE).total_seconds() / 3600
    micros = int((DEPARTURE - datetime(1970, 1, 1)).total_seconds()) * 1_000_000

    def expected(mmsi, scheduled, delayed):
        delay = None if scheduled is None else (actual - scheduled).total_seconds() / 3600
        voyage_id = hashlib.sha256(f"{mmsi}|{micros}".encode()).hexdigest()[:32]
        return (
            mmsi,
            voyage_id,
            "ZZAAA",
            "ZZBBB",
            DEPARTURE,
            ARRIVAL,
            hours,
            distance,
            distance / hours,
            scheduled,
            delay,
            delayed,
            DAY,
        )

    assertDataFrameEqual(
        trips,
        spark.createDataFrame(
            [
                expected("219000001", actual - timedelta(minutes=59), False),
                expected("219000002", actual - timedelta(minutes=61), True),
                expected("219000003", None, None),
            ],
            "mmsi string, voyage_id string, origin_unlocode string, destination_unlocode string, "
            "departure_time timestamp, arrival_time timestamp, duration_hours double, distance_nm double, "
            "avg_speed_kn double, scheduled_arrival timestamp, arrival_delay_hours double, is_delayed boolean, "
            "departure_date date",
        ),
    )
    at_a = calls.where((F.col("mmsi") == "219000001") & (F.col("unlocode") == "ZZAAA")).first()
    assert (at_a.arrival_time, at_a.departure_time, at_a.positions) == (T0, DEPARTURE, 3)
    assert at_a.stop_hours == pytest.approx(1.25)  # stopped from 0 to 75 minutes
    assert calls.where(F.col("departure_time").isNull()).count() == 3  # all still at B when the data ends


def p90(values):
    """Linear interpolation between closest ranks."""
    ordered, rank = sorted(values), 0.9 * (len(values) - 1)
    low = math.floor(rank)
    return ordered[low] + (rank - low) * (ordered[min(low + 1, len(ordered) - 1)] - ordered[low])


def test_rolling_delay_rate_is_a_seven_day_range_not_seven_rows(spark):
    d1, d2, d9 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 9)
    trips = spark.createDataFrame(
        [
            ("ZZAAA", "ZZBBB", d1, True, 10.0),
            ("ZZAAA", "ZZBBB", d1, False, 11.0),  # history before the range
            ("ZZAAA", "ZZBBB", d2, None, 30.0),
            ("ZZAAA", "ZZBBB", d2, False, 20.0),
            ("ZZAAA", "ZZBBB", d9, True, 26.0),
            ("ZZBBB", "ZZAAA", d9, False, 12.0),
        ],
        "origin_unlocode string, destination_unlocode string, departure_date date, is_delayed boolean, "
        "duration_hours double",
    )
    params = VoyageParams(d2, d9 + timedelta(days=1))

    assertDataFrameEqual(
        route_delay_rolling(trips, params),
        spark.createDataFrame(
            [
                ("ZZAAA-ZZBBB", d2, 4, 3, 1, 1 / 3),
                # Days 1 and 2 are more than six days before day 9: a window of seven rows would hold them.
                ("ZZAAA-ZZBBB", d9, 1, 1, 1, 1.0),
                ("ZZBBB-ZZAAA", d9, 1, 1, 0, 0.0),
            ],
            "route string, departure_date date, voyages_7d long, scheduled_7d long, delayed_7d long, "
            "delay_rate_7d double",
        ),
    )

    assertDataFrameEqual(
        route_performance(trips, params),
        spark.createDataFrame(
            [
                ("ZZAAA-ZZBBB", 3, 2, 50.0, (30.0 + 20.0 + 26.0) / 3, p90([30.0, 20.0, 26.0]), d2, d9),
                ("ZZBBB-ZZAAA", 1, 1, 100.0, 12.0, 12.0, d2, d9),
            ],
            "route string, voyages long, scheduled_voyages long, on_time_pct double, avg_duration_hours double, "
            "p90_duration_hours double, period_start date, period_end date",
        ),
    )


def test_rerunning_a_range_gives_identical_tables(spark, tmp_path):
    lake = str(tmp_path / "lake")
    silver(spark, leg("219000001") + leg("219000002")).write.format("delta").partitionBy("event_date").save(
        catalog.SILVER_AIS_POSITIONS.path(lake)
    )
    actual = ARRIVAL + timedelta(minutes=15)
    spark.createDataFrame(
        [arrival_event("219000001", "ZZBBB", actual, actual - timedelta(hours=2), 1)], EVENTS
    ).write.format("delta").partitionBy("event_date").save(catalog.SILVER_VOYAGE_EVENTS.path(lake))
    ports(spark).write.format("delta").save(catalog.REFERENCE_PORTS.path(lake))
    # A port_calls table from before `confidence`, holding the day before the range.
    spark.createDataFrame(
        [("219000009", "ZZAAA", "Port A", T0 - timedelta(days=1), None, None, 0.0, False, 1, DAY - timedelta(days=1))],
        "mmsi string, unlocode string, port_name string, arrival_time timestamp, "
        "departure_time timestamp, duration_hours double, stop_hours double, has_gap_4h boolean, "
        "positions long, arrival_date date",
    ).write.format("delta").partitionBy("arrival_date").save(catalog.GOLD_PORT_CALLS.path(lake))
    params = VoyageParams(DAY, NEXT_DAY)
    written = (
        catalog.GOLD_PORT_CALLS,
        catalog.GOLD_VOYAGES,
        catalog.GOLD_ROUTE_DELAY_ROLLING,
        catalog.GOLD_ROUTE_PERFORMANCE,
    )
    tables = tuple(table.name for table in written)

    def snapshot():
        return {t.name: sorted(map(str, spark.read.format("delta").load(t.path(lake)).collect())) for t in written}

    first = run(spark, lake, params)
    before = snapshot()
    second = run(spark, lake, params)
    assert snapshot() == before
    assert (
        {t: first[t] for t in tables}
        == {t: second[t] for t in tables}
        == {"port_calls": 4, "voyages": 2, "route_delay_rolling": 1, "route_performance": 1}
    )
    assert first["positions"] == 2 * len(LEG) and first["partitions"] == 1
    # The old table gained the column, null on the day not rewritten. At A the leg starts
    # stopped (the first fix: no entry, no stop begin), moves off (stop end), exits; at B
    # it enters, stops, and is silent for the rest of the day (port gap).
    confidences = {
        (r.mmsi, r.unlocode): r.confidence
        for r in spark.read.format("delta").load(catalog.GOLD_PORT_CALLS.path(lake)).collect()
    }
    assert confidences == {
        ("219000009", "ZZAAA"): None,
        **{(m, "ZZAAA"): gfw_confidence({"stop", "exit"}) for m in ("219000001", "219000002")},
        **{(m, "ZZBBB"): gfw_confidence({"entry", "stop", "gap"}) for m in ("219000001", "219000002")},
    }


NY_HARBOR = SHARED_DATA / "noaa-nyharbor-tracktable" / "NYHarbor_2020_06_30_first_hour.csv"
WPI = SHARED_DATA / "wpi-ports" / "ports.csv"


@pytest.mark.skipif(not (NY_HARBOR.exists() and WPI.exists()), reason="shared NOAA / WPI data absent")
def test_real_new_york_harbor_hour_finds_calls_at_harbour_ports(spark):
    raw = spark.read.option("header", True).csv(str(NY_HARBOR))
    positions = raw.select(
        F.col("MMSI").alias("mmsi"),
        F.to_timestamp("BaseDateTime").alias("event_time"),
        F.col("LAT").cast("double").alias("latitude"),
        F.col("LON").cast("double").alias("longitude"),
        F.col("SOG").cast("double").alias("sog_kn"),
        F.lit(0).alias("msg_type"),
        F.monotonically_increasing_id().alias("offset"),
    ).withColumns({"mmsi_class": mmsi_class(F.col("mmsi")), "event_date": F.to_date("event_time")})
    wpi = (
        spark.read.option("header", True)
        .csv(str(WPI))
        .select(
            F.concat(F.lit("WPI"), F.col("World Port Index Number")).alias("unlocode"),
            F.col("Main Port Name").alias("name"),
            F.col("Latitude").cast("double").alias("latitude"),
            F.col("Longitude").cast("double").alias("longitude"),
        )
    )
    no_events = spark.createDataFrame([], EVENTS)

    calls, trips = (
        frame.collect()
        for frame in transform(positions, wpi, no_events, VoyageParams(date(2020, 6, 30), date(2020, 7, 1), 0))
    )

    # Every call is at one of the World Port Index ports of the harbour the data covers.
    harbour = {
        r.unlocode: r.name
        for r in wpi.where(F.col("latitude").between(40.3, 41.0) & F.col("longitude").between(-74.4, -73.5)).collect()
    }
    assert len(calls) > 100 and {c.unlocode for c in calls} <= set(harbour)
    # The Staten Island ferry SAMUEL I NEWHOUSE lies the whole hour at the St George terminal,
    # 1.3 km from the WPI points of Stapleton and Tompkinsville, at 0-0.2 kn: one open call, all stopped.
    (ferry,) = [c for c in calls if c.mmsi == "367000140"]
    times = [datetime.fromisoformat(r.BaseDateTime) for r in raw.where(F.col("MMSI") == "367000140").collect()]
    assert harbour[ferry.unlocode] in {"Stapleton Si", "Tompkinsville Si"} and ferry.departure_time is None
    assert (ferry.positions, ferry.arrival_time) == (len(times), min(times))
    assert ferry.stop_hours == pytest.approx((max(times) - min(times)).total_seconds() / 3600)
    # Stopped from the first fix (no entry, no stop begin), silent from 01:00 to the day's end.
    assert ferry.has_gap_4h and ferry.confidence == gfw_confidence({"gap"})
    # A high-speed craft is first seen off Staten Island at 6-10 kn, leaves, and runs past
    # Brooklyn at 37 kn: two pass-bys of confidence 1, so no voyage between them.
    craft = sorted((c.arrival_time, harbour[c.unlocode], c.confidence) for c in calls if c.mmsi == "369990373")
    assert [(port, confidence) for _, port, confidence in craft] == [
        (craft[0][1], gfw_confidence({"exit"})),
        ("Brooklyn", gfw_confidence({"entry", "exit"})),
    ]
    assert craft[0][1] in {"Stapleton Si", "Tompkinsville Si"}
    assert not [t for t in trips if t.mmsi == "369990373"]
