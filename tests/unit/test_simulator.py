from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from datetime import datetime, timedelta

import pytest

from maritime_streaming.simulator import FUEL_REPORT_MIN_GT, FleetSimulator, RawRecord
from maritimeiq import cii
from maritimeiq.events import validate
from maritimeiq.geo import haversine_nm


def _t(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def three_days():
    sim = FleetSimulator(vessels=60, hours=72, seed=11, interval_scale=20)
    return sim, list(sim.events())


def test_same_seed_same_events_other_seed_other_events():
    def run(seed):
        return [
            json.dumps(e, sort_keys=True) if isinstance(e, dict) else repr(e)
            for e in FleetSimulator(vessels=8, hours=12, seed=seed, bad_rate=0.05, interval_scale=10).events()
        ]

    first, again, other = run(5), run(5), run(6)
    assert first == again
    assert first != other


def test_every_event_is_valid_and_in_time_order(three_days):
    _, events = three_days
    assert all(validate(e) == [] for e in events)
    times = [e["event_time"] for e in events]
    assert times == sorted(times)
    assert Counter(e["event_type"] for e in events).keys() >= {
        "ais_position",
        "vessel_static",
        "environmental_reading",
        "voyage_event",
        "fuel_report",
        "maintenance_event",
    }


def test_fleet_particulars_are_plausible(three_days):
    sim, _ = three_days
    mmsis = [v.mmsi for v in sim.fleet]
    assert len(set(mmsis)) == len(mmsis) and all(len(m) == 9 and 201 <= int(m[:3]) <= 775 for m in mmsis)
    for vessel in sim.fleet:
        if vessel.imo is not None:  # IMO check digit: weighted sum of the first six digits mod 10
            digits = [int(d) for d in str(vessel.imo)]
            assert sum(d * w for d, w in zip(digits[:6], range(7, 1, -1))) % 10 == digits[6]
        if vessel.ais_class == "A":
            assert vessel.mcr_kw > 1000 and vessel.dwt > 1000 and 10 <= vessel.service_speed <= 25


def test_positions_move_at_the_reported_speed(three_days):
    _, events = three_days
    tracks = defaultdict(list)
    for e in events:
        if e["event_type"] == "ais_position":
            tracks[e["mmsi"]].append(e)
    checked = 0
    for fixes in tracks.values():
        for a, b in zip(fixes, fixes[1:]):
            hours = (_t(b["event_time"]) - _t(a["event_time"])).total_seconds() / 3600
            if a["sog_kn"] > 5 and b["sog_kn"] > 5 and hours > 0:
                implied = haversine_nm(a["latitude"], a["longitude"], b["latitude"], b["longitude"]) / hours
                assert implied == pytest.approx(b["sog_kn"], rel=0.05, abs=0.3)
                checked += 1
    assert checked > 1000


def test_reporting_intervals_follow_itu_rates():
    sim = FleetSimulator(vessels=30, hours=6, seed=3, interval_scale=1)
    by_vessel = defaultdict(list)
    for e in sim.events():
        if e["event_type"] == "ais_position":
            by_vessel[e["mmsi"]].append(e)
    seen = Counter()
    for fixes in by_vessel.values():
        # Triples, so that the last report of a leg (sent on reaching the berth) is left out.
        for a, b, c in zip(fixes, fixes[1:], fixes[2:]):
            gap = (_t(b["event_time"]) - _t(a["event_time"])).total_seconds()
            if c["nav_status"] != b["nav_status"]:
                continue
            if a["ais_class"] == "A" and a["nav_status"] == 5 and b["nav_status"] == 5:
                assert gap == 180
                seen["moored"] += 1
            elif a["ais_class"] == "A" and a["nav_status"] == 0 and b["nav_status"] == 0 and b["sog_kn"] <= 14:
                assert gap == 10
                seen["slow"] += 1
            elif a["ais_class"] == "A" and a["nav_status"] == 0 and 14 < b["sog_kn"] <= 23:
                assert gap == 6
                seen["fast"] += 1
    assert seen["moored"] and seen["slow"] and seen["fast"]


def test_degradation_leads_to_recorded_maintenance(three_days):
    _, events = three_days
    maintenance = [e for e in events if e["event_type"] == "maintenance_event"]
    assert len(maintenance) >= 5
    readings = defaultdict(list)
    for e in events:
        if e["event_type"] == "environmental_reading" and e["engine_load_pct"] > 50:
            readings[e["mmsi"]].append(e)
    # Before a corrective event the engine vibrates harder than right after it.
    rises = 0
    for event in (m for m in maintenance if m["kind"] == "corrective"):
        series = readings[event["mmsi"]]
        before = [r["vibration_rms_mm_s"] for r in series if r["event_time"] < event["event_time"]][-4:]
        after = [r["vibration_rms_mm_s"] for r in series if r["event_time"] > event["event_time"]][:4]
        if len(before) == 4 and len(after) == 4:
            rises += sum(before) / 4 > sum(after) / 4 + 2.0
    assert rises >= 3


def test_voyages_and_fuel_reports(three_days):
    sim, events = three_days
    voyages = defaultdict(list)
    for e in events:
        if e["event_type"] == "voyage_event":
            voyages[e["voyage_id"]].append(e["kind"])
    assert any(kinds == ["departure", "arrival"] for kinds in voyages.values())
    late = [
        e
        for e in events
        if e["event_type"] == "voyage_event"
        and e["kind"] == "arrival"
        and _t(e["actual_time"]) > _t(e["scheduled_time"])
    ]
    assert late
    reporting = {v.mmsi for v in sim.fleet if v.files_fuel_reports}
    assert all(v.gt >= FUEL_REPORT_MIN_GT for v in sim.fleet if v.files_fuel_reports)
    reports = [e for e in events if e["event_type"] == "fuel_report"]
    assert {r["mmsi"] for r in reports} <= reporting and reports
    assert {r["report_date"] for r in reports} <= {"2026-11-01", "2026-11-02"}
    assert all(r["fuel_consumed_t"] > 0 for r in reports)


def test_a_fuel_report_has_a_line_per_fuel_and_the_day_distance_on_each(three_days):
    """Main engine on residual HFO (or LNG), generators on distillate MGO: one line per fuel,
    each repeating the vessel-day's distance and hours (events.py `fuel_report`)."""
    sim, events = three_days
    days = defaultdict(list)
    for e in events:
        if e["event_type"] == "fuel_report":
            days[e["mmsi"], e["report_date"]].append(e)
    main_fuel = {v.mmsi: v.fuel_type for v in sim.fleet}
    two_fuel_days = 0
    for (mmsi, _), lines in days.items():
        fuels = [e["fuel_type"] for e in lines]
        assert len(fuels) == len(set(fuels)), "Silver keeps one row per vessel, day and fuel"
        assert "MGO" in fuels and set(fuels) <= {main_fuel[mmsi], "MGO"}
        assert len({(e["distance_nm"], e["hours_underway"]) for e in lines}) == 1
        if lines[0]["distance_nm"] > 0 and main_fuel[mmsi] != "MGO":
            assert sorted(fuels) == sorted([main_fuel[mmsi], "MGO"])
            two_fuel_days += 1
    assert two_fuel_days >= 10


def test_fleet_slow_steams_and_its_operational_cii_spreads_around_the_reference_lines():
    """Three days of fuel reports rated like a year (MEPC.352-354(78) tables in maritimeiq.cii):
    the reference lines are the 2019 fleet's median, so a realistic fleet sits around them."""
    sim = FleetSimulator(vessels=200, hours=72, seed=42, interval_scale=30)
    co2_t, day_distance = Counter(), {}
    for e in sim.events():
        if e["event_type"] == "fuel_report":
            co2_t[e["mmsi"]] += e["fuel_consumed_t"] * {"HFO": 3.114, "MGO": 3.206, "LNG": 2.750}[e["fuel_type"]]
            day_distance[e["mmsi"], e["report_date"]] = e["distance_nm"]  # once per vessel-day, not per fuel line
    distance_nm = Counter()
    for (mmsi, _), nm in day_distance.items():
        distance_nm[mmsi] += nm
    ratios, ratings = defaultdict(list), Counter()
    for v in sim.fleet:
        if v.ais_class == "A":
            assert 0.6 * v.service_speed <= v.operating_speed <= v.service_speed
        if distance_nm[v.mmsi] <= 0:
            continue
        category = cii.canonical_category(v.ship_category)
        capacity = cii.capacity_of(category, v.dwt, v.gt)
        co2_g = co2_t[v.mmsi] * 1e6  # C_F, MEPC.364(79)
        attained = co2_g / (capacity * distance_nm[v.mmsi])
        reference = cii.reference_cii(category, capacity)
        ratios[category].append(attained / reference)
        ratings[cii.rating(attained, cii.required_cii(category, capacity, 2026), category, capacity)] += 1
    for category in ("container_ship", "bulk_carrier", "tanker", "general_cargo_ship"):
        assert 0.8 <= statistics.median(ratios[category]) <= 1.25, category
    assert set(ratings) == set("ABCDE")
    assert ratings["E"] < 0.3 * sum(ratings.values())


def test_bad_records_are_injected_at_the_requested_rate():
    clean = list(FleetSimulator(vessels=20, hours=12, seed=9, interval_scale=10).events())
    dirty = list(FleetSimulator(vessels=20, hours=12, seed=9, interval_scale=10, bad_rate=0.05).events())
    corrupt = [r for r in dirty if isinstance(r, RawRecord)]
    assert corrupt
    for record in corrupt:
        with pytest.raises(json.JSONDecodeError):
            json.loads(record.value)
    valid = [e for e in dirty if isinstance(e, dict)]
    out_of_range = [e for e in valid if e["event_type"] == "ais_position" and e["latitude"] and e["latitude"] > 90]
    assert out_of_range
    times = [e["event_time"] for e in valid]
    assert times != sorted(times), "late and out-of-order events arrive after later ones"
    keys = Counter(json.dumps(e, sort_keys=True) for e in valid)
    assert any(n > 1 for n in keys.values()), "duplicates are sent twice"
    # One bad kind in five is corrupt JSON: about 1 % of records at a 5 % bad rate.
    assert 0.005 < len(corrupt) / len(clean) < 0.02


def test_arguments_are_checked():
    with pytest.raises(ValueError):
        FleetSimulator(vessels=0)
    with pytest.raises(ValueError):
        FleetSimulator(bad_rate=1.5)
    with pytest.raises(ValueError):
        FleetSimulator(history_hours=-1)
    with pytest.raises(ValueError):
        FleetSimulator(sensor_interval_min=0)


# -- engine history before the live run -------------------------------------------------------
HISTORY_DAYS = 21


@pytest.fixture(scope="module")
def with_history():
    sim = FleetSimulator(
        vessels=30, hours=24, seed=5, interval_scale=30, sensor_interval_min=60, history_hours=24 * HISTORY_DAYS
    )
    return sim, list(sim.events())


def test_history_sends_only_hourly_engine_readings_and_maintenance_before_the_start(with_history):
    sim, events = with_history
    assert all(validate(e) == [] for e in events)
    assert [e["event_time"] for e in events] == sorted(e["event_time"] for e in events)
    history = [e for e in events if _t(e["event_time"]) < sim.start]
    assert {e["event_type"] for e in history} == {"environmental_reading", "maintenance_event"}
    assert min(_t(e["event_time"]) for e in history) >= sim.start - timedelta(days=HISTORY_DAYS)
    readings = defaultdict(list)
    for e in history:
        if e["event_type"] == "environmental_reading":
            readings[e["mmsi"]].append(_t(e["event_time"]))
    # Every vessel with a main engine (small craft have none) reads through the whole history,
    # once per interval: a step cut short by an arrival or departure delays the next one by less
    # than an interval.
    assert set(readings) == {v.mmsi for v in sim.fleet if v.mcr_kw}
    for times in readings.values():
        assert times[0] - (sim.start - timedelta(days=HISTORY_DAYS)) <= timedelta(hours=1)
        assert sim.start - times[-1] < timedelta(hours=2)
        assert all(timedelta(hours=1) <= b - a < timedelta(hours=2) for a, b in zip(times, times[1:]))
    # Vessels spend part of the time at sea (engine loaded) and part in port.
    loaded = sum(e["engine_load_pct"] > 0 for e in history if e["event_type"] == "environmental_reading")
    assert 0.3 < loaded / sum(map(len, readings.values())) < 0.9


def test_history_engines_wear_fail_and_carry_their_state_into_the_live_run(with_history):
    sim, events = with_history
    readings, maintenance = defaultdict(list), defaultdict(list)
    for e in events:
        if e["event_type"] == "environmental_reading":
            readings[e["mmsi"]].append(e)
        elif e["event_type"] == "maintenance_event":
            maintenance[e["mmsi"]].append(_t(e["event_time"]))
    history_failures = [t for times in maintenance.values() for t in times if t < sim.start]
    assert len(history_failures) >= 2 * len(readings)  # engines are overhauled about weekly
    crossing = 0
    for mmsi, series in readings.items():
        for a, b in zip(series, series[1:]):
            ta, tb = _t(a["event_time"]), _t(b["event_time"])
            hours = (tb - ta).total_seconds() / 3600
            # A maintenance event at a reading's time comes after that reading.
            reset = [t for t in maintenance[mmsi] if ta <= t < tb]
            if reset:
                assert b["running_hours"] <= (tb - reset[-1]).total_seconds() / 3600 + 0.1
            else:
                # Running hours grow by at most the time elapsed, across the start of the live run too.
                assert a["running_hours"] <= b["running_hours"] <= a["running_hours"] + hours + 0.1
                crossing += ta < sim.start <= tb and b["running_hours"] > 1
    assert crossing >= 5
    # Before a corrective event in the history the engine vibrates harder than after it.
    rises = 0
    for mmsi, times in maintenance.items():
        running = [r for r in readings[mmsi] if r["engine_load_pct"] > 50]
        for t in (t for t in times if t < sim.start):
            before = [r["vibration_rms_mm_s"] for r in running if _t(r["event_time"]) <= t][-4:]
            after = [r["vibration_rms_mm_s"] for r in running if _t(r["event_time"]) > t][:4]
            if len(before) == 4 and len(after) == 4:
                rises += sum(before) / 4 > sum(after) / 4 + 2.0
    assert rises >= 10


def test_history_is_reproducible_and_leaves_the_fleet_unchanged():
    def run(history_hours):
        sim = FleetSimulator(vessels=8, hours=12, seed=4, bad_rate=0.05, interval_scale=10, history_hours=history_hours)
        return sim, [json.dumps(e, sort_keys=True) if isinstance(e, dict) else repr(e) for e in sim.events()]

    (with_history, first), (_, again) = run(72), run(72)
    assert first == again
    without, _ = run(0)
    assert [(v.mmsi, v.imo, v.dwt, v.wear_rate) for v in with_history.fleet] == [
        (v.mmsi, v.imo, v.dwt, v.wear_rate) for v in without.fleet
    ]


def test_without_history_the_live_run_is_what_it_was(monkeypatch):
    def run():
        return [
            json.dumps(e, sort_keys=True) if isinstance(e, dict) else repr(e)
            for e in FleetSimulator(vessels=8, hours=12, seed=4, bad_rate=0.05, interval_scale=10).events()
        ]

    default = run()
    # No history draws nothing from the vessels' random streams: the same events as without the step.
    monkeypatch.setattr(FleetSimulator, "_engine_history", lambda self, vessel: iter(()))
    assert run() == default
