from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pyspark.testing import assertDataFrameEqual

from maritime_jobs.engine_model.features import FEATURES, build_features, label
from maritime_jobs.engine_model.scoring import score, write_predictions
from maritime_jobs.engine_model.training import TrainParams, decide_promotion, train_model
from maritimeiq import catalog

READINGS = (
    "mmsi string, event_time timestamp, event_date date, engine_temp_c double, vibration_rms_mm_s double, "
    "lube_oil_pressure_bar double, fuel_flow_kg_h double, engine_load_pct double, running_hours double, "
    "wind_speed_kn double, wind_dir_deg double, wave_height_m double, source string, partition int, "
    "offset long, ingest_time timestamp"
)
MAINTENANCE = (
    "mmsi string, event_time timestamp, event_date date, maintenance_id string, kind string, "
    "component string, reason string, source string, partition int, offset long, ingest_time timestamp"
)
READING_FIELDS = (
    "engine_temp_c",
    "vibration_rms_mm_s",
    "lube_oil_pressure_bar",
    "fuel_flow_kg_h",
    "engine_load_pct",
    "running_hours",
    "wind_speed_kn",
    "wind_dir_deg",
    "wave_height_m",
)
DAY1 = datetime(2026, 11, 1, tzinfo=UTC)
VESSEL = "219000001"
# Simulator data for the model tests: 40 ships for 50 days, readings every 4 h. The
# simulated fleet is maintained about once a week, so a 7-day horizon labels ~80 % of
# vessel-days positive; 3 days gives 35-50 % and a baseline the model has to beat.
SIM_VESSELS, SIM_DAYS, SIM_SEED, SIM_HORIZON = 40, 50, 7, 3


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def silver_readings(spark, rows):
    """rows: (mmsi, event_time, {field: value}) → Silver environmental_readings."""
    return spark.createDataFrame(
        [
            (
                m,
                t,
                t.date(),
                *(None if values.get(f) is None else float(values[f]) for f in READING_FIELDS),
                "test",
                0,
                i,
                t,
            )
            for i, (m, t, values) in enumerate(rows)
        ],
        READINGS,
    )


def silver_maintenance(spark, rows):
    """rows: (mmsi, event_time, kind) → Silver maintenance_events."""
    return spark.createDataFrame(
        [(m, t, t.date(), f"m{i}", kind, "main_engine", None, "test", 0, i, t) for i, (m, t, kind) in enumerate(rows)],
        MAINTENANCE,
    )


def simulated_silver(spark, vessels=SIM_VESSELS, days=SIM_DAYS, seed=SIM_SEED):
    """Silver-shaped readings and maintenance events of a simulator run, and its last full day."""
    from maritime_streaming.simulator import FleetSimulator

    sim = FleetSimulator(vessels=vessels, hours=24 * days, seed=seed, interval_scale=60, sensor_interval_min=240)
    readings, events = [], []
    for event in sim.events():
        if event["event_type"] == "environmental_reading":
            readings.append((event["mmsi"], _utc(event["event_time"]), {f: event[f] for f in READING_FIELDS}))
        elif event["event_type"] == "maintenance_event":
            events.append((event["mmsi"], _utc(event["event_time"]), event["kind"]))
    return silver_readings(spark, readings), silver_maintenance(spark, events), (sim.end - timedelta(days=1)).date()


def engine(load, temp, vibration, lube, wave=1.0, wind=10.0):
    return {
        "engine_load_pct": load,
        "engine_temp_c": temp,
        "vibration_rms_mm_s": vibration,
        "lube_oil_pressure_bar": lube,
        "wave_height_m": wave,
        "wind_speed_kn": wind,
    }


def at(day, hour):
    return DAY1 + timedelta(days=day - 1, hours=hour)


# -- features ----------------------------------------------------------------------------------
def test_features_by_hand(spark):
    readings = silver_readings(
        spark,
        [
            (VESSEL, at(1, 0), engine(50, 350, 4.0, 4.5, wave=1.0, wind=10)),
            (VESSEL, at(1, 4), engine(50, 360, 5.0, 4.4, wave=2.0, wind=20)),
            (VESSEL, at(1, 8), engine(0, 40, 0.1, 0.6, wave=3.0, wind=30)),
            (VESSEL, at(1, 12), engine(0, 41, 0.1, 0.6, wave=2.0, wind=20)),
            (VESSEL, at(2, 0), engine(0, 42, 0.1, 0.6)),
            (VESSEL, at(2, 4), engine(100, 380, 6.0, 4.2)),
            (VESSEL, at(2, 8), engine(100, 390, 7.0, 4.0)),
            (VESSEL, at(2, 12), engine(0, 45, 0.1, 0.6)),
            (VESSEL, at(3, 12), engine(0, 40, 0.1, 0.6, wave=0.5, wind=5)),
        ],
    )
    maintenance = silver_maintenance(spark, [(VESSEL, at(2, 2), "corrective"), (VESSEL, at(3, 20), "planned")])
    rows = {r.event_date.day: r.asDict() for r in build_features(readings, maintenance).collect()}

    # Each interval between readings counts as running when the reading opening it had load > 0.
    # Day 1: 00-04 and 04-08 at 50 % load: 8 h, 4 load-weighted hours; no maintenance yet.
    # Day 2: maintenance at 02:00 (cumulative 8 h, 4 load-h); 04-08 and 08-12 at 100 %: 8 h, 8 load-h.
    # Day 3: engine off; the event at 20:00 comes after the last reading, so the day ends at 0 h.
    # Completed intervals between events: 02:00 day 2 → 20:00 day 3 = 8 load-weighted hours.
    expected = {
        1: dict(
            engine_temp_mean_c=355.0,
            engine_temp_max_c=360.0,
            engine_temp_trend_c=None,
            vibration_rms_mean_mm_s=4.5,
            vibration_rms_max_mm_s=5.0,
            vibration_rms_trend_mm_s=None,
            lube_oil_pressure_min_bar=4.4,
            lube_oil_pressure_mean_bar=4.45,
            lube_oil_pressure_trend_bar=None,
            running_hours_since_maintenance=8.0,
            load_weighted_hours_since_maintenance=4.0,
            mean_load_weighted_hours_between_maintenance=None,
            running_hours_day=8.0,
            engine_load_mean_pct=25.0,
            wave_height_mean_m=2.0,
            wind_speed_mean_kn=20.0,
        ),
        2: dict(
            engine_temp_mean_c=385.0,
            engine_temp_max_c=390.0,
            engine_temp_trend_c=30.0,
            vibration_rms_mean_mm_s=6.5,
            vibration_rms_max_mm_s=7.0,
            vibration_rms_trend_mm_s=2.0,
            lube_oil_pressure_min_bar=4.0,
            lube_oil_pressure_mean_bar=4.1,
            lube_oil_pressure_trend_bar=-0.35,
            running_hours_since_maintenance=8.0,
            load_weighted_hours_since_maintenance=8.0,
            mean_load_weighted_hours_between_maintenance=None,
            running_hours_day=8.0,
            engine_load_mean_pct=50.0,
            wave_height_mean_m=1.0,
            wind_speed_mean_kn=10.0,
        ),
        # No running reading: the condition of day 2 carries forward, trends are unknown.
        3: dict(
            engine_temp_mean_c=385.0,
            engine_temp_max_c=390.0,
            engine_temp_trend_c=None,
            vibration_rms_mean_mm_s=6.5,
            vibration_rms_max_mm_s=7.0,
            vibration_rms_trend_mm_s=None,
            lube_oil_pressure_min_bar=4.0,
            lube_oil_pressure_mean_bar=4.1,
            lube_oil_pressure_trend_bar=None,
            running_hours_since_maintenance=0.0,
            load_weighted_hours_since_maintenance=0.0,
            mean_load_weighted_hours_between_maintenance=8.0,
            running_hours_day=0.0,
            engine_load_mean_pct=0.0,
            wave_height_mean_m=0.5,
            wind_speed_mean_kn=5.0,
        ),
    }
    assert set(rows) == {1, 2, 3}
    for day, values in expected.items():
        assert set(values) == set(FEATURES)
        for name, value in values.items():
            assert rows[day][name] == (None if value is None else pytest.approx(value)), (day, name)


# -- labels ------------------------------------------------------------------------------------
def vessel_days(spark, mmsis, days):
    """A grid of vessel-days with two arbitrary feature columns."""
    return spark.createDataFrame(
        [(m, DAY1.date() + timedelta(days=d), float(d), float(i)) for i, m in enumerate(mmsis) for d in range(days)],
        "mmsi string, event_date date, engine_temp_mean_c double, lube_oil_pressure_min_bar double",
    )


def expected_labels(mmsis, days, events, horizon, observed_until):
    """Plain Python: 1 when an event falls on D+1 … D+horizon; days with an unseen future dropped."""
    rows = []
    for m in mmsis:
        for d in range(days):
            day = DAY1.date() + timedelta(days=d)
            if day + timedelta(days=horizon) > observed_until:
                continue
            hit = any(em == m and day < when.date() <= day + timedelta(days=horizon) for em, when, _ in events)
            rows.append((m, day, 1.0 if hit else 0.0))
    return rows


def test_labels_by_hand_and_the_day_boundary(spark):
    mmsis = [VESSEL, "219000002"]
    events = [(VESSEL, at(10, 23), "corrective"), ("219000002", at(3, 1), "planned")]
    observed_until = date(2026, 11, 18)
    result = label(vessel_days(spark, mmsis, 20), silver_maintenance(spark, events), 3, observed_until)
    labels = {(r.mmsi, r.event_date.day): r.label for r in result.collect()}
    # The event late on day 10 labels days 7, 8 and 9 — not day 10 itself, not day 6.
    assert [labels[(VESSEL, d)] for d in range(5, 12)] == [0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    assert [labels[("219000002", d)] for d in range(1, 4)] == [1.0, 1.0, 0.0]
    # Day 15 is the last whose window (16-18) has been observed.
    assert max(d for _, d in labels) == 15
    assertDataFrameEqual(
        result.select("mmsi", "event_date", "label"), expected_labels(mmsis, 20, events, 3, observed_until)
    )


def test_shifting_events_by_k_days_shifts_labels_by_k_days(spark):
    k, days, horizon = 4, 40, 7
    events = [(VESSEL, at(9, 5), "corrective"), (VESSEL, at(21, 12), "corrective"), (VESSEL, at(24, 0), "planned")]
    shifted = [(m, t + timedelta(days=k), kind) for m, t, kind in events]
    grid = vessel_days(spark, [VESSEL], days)
    observed_until = DAY1.date() + timedelta(days=days - 1)

    def labels(evts):
        result = label(grid, silver_maintenance(spark, evts), horizon, observed_until)
        return {r.event_date: r.label for r in result.collect()}

    before, after = labels(events), labels(shifted)
    assert sum(before.values()) > 0
    assert all(
        after[day + timedelta(days=k)] == value for day, value in before.items() if day + timedelta(days=k) in after
    )
    # The first k days of the shifted run precede every shifted event's window.
    assert all(after[DAY1.date() + timedelta(days=d)] == 0.0 for d in range(k))


def test_labels_do_not_depend_on_feature_columns(spark):
    events = [(VESSEL, at(5, 6), "corrective"), ("219000002", at(12, 18), "corrective")]
    grid = vessel_days(spark, [VESSEL, "219000002"], 20)
    maintenance = silver_maintenance(spark, events)
    observed_until = date(2026, 11, 20)
    reference = label(grid, maintenance, 3, observed_until).select("mmsi", "event_date", "label")
    # Features reversed across rows, or absent altogether: the same labels.
    values = [(r.engine_temp_mean_c, r.lube_oil_pressure_min_bar) for r in grid.collect()][::-1]
    permuted = spark.createDataFrame([(r.mmsi, r.event_date, *v) for r, v in zip(grid.collect(), values)], grid.schema)
    keys_only = grid.select("mmsi", "event_date")
    for variant in (permuted, keys_only):
        assertDataFrameEqual(
            label(variant, maintenance, 3, observed_until).select("mmsi", "event_date", "label"), reference
        )


# -- promotion ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("metrics", "champion_auc", "promote"),
    [
        ({"accuracy": 0.80, "baseline_accuracy": 0.60, "roc_auc": 0.85}, None, True),  # first, beats baseline
        ({"accuracy": 0.58, "baseline_accuracy": 0.60, "roc_auc": 0.70}, None, False),  # first, worse than baseline
        ({"accuracy": 0.90, "baseline_accuracy": 0.60, "roc_auc": 0.905}, 0.90, False),  # better, but by < margin
        ({"accuracy": 0.90, "baseline_accuracy": 0.60, "roc_auc": 0.92}, 0.90, True),  # beats the champion by 0.02
        ({"accuracy": 0.85, "baseline_accuracy": 0.60, "roc_auc": 0.88}, 0.90, False),  # worse than the champion
        ({"accuracy": 0.50, "baseline_accuracy": 0.60, "roc_auc": 0.99}, 0.90, False),  # high AUC, below baseline
    ],
)
def test_promotion_decision(metrics, champion_auc, promote):
    decision, reason = decide_promotion(metrics, champion_auc, margin=0.01)
    assert decision is promote
    assert reason


# -- model on simulator data ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def simulated(spark):
    readings, maintenance, last_day = simulated_silver(spark)
    return readings.cache(), maintenance.cache(), last_day


@pytest.fixture(scope="module")
def trained(simulated):
    readings, maintenance, last_day = simulated
    features = build_features(readings, maintenance)
    labelled = label(features, maintenance, SIM_HORIZON, last_day)
    return train_model(labelled, TrainParams(horizon_days=SIM_HORIZON, test_weeks=2))


def test_features_of_a_day_ignore_everything_after_it(spark, simulated):
    readings, maintenance, _ = simulated
    cutoff = date(2026, 11, 20)

    def until(frame):
        return frame.where(frame.event_date <= cutoff)

    full = build_features(readings, maintenance)
    assertDataFrameEqual(until(full), build_features(until(readings), until(maintenance)))


def test_model_beats_the_majority_baseline_on_held_out_weeks(trained):
    m = trained.metrics
    print({k: round(v, 4) for k, v in m.items()})  # accuracy, AUC and baseline in the -s output
    assert m["test_rows"] >= 300 and 0.3 < m["test_positive_rate"] < 0.7
    assert m["accuracy"] >= 0.85
    assert m["accuracy"] - m["baseline_accuracy"] >= 0.15
    assert m["roc_auc"] >= 0.9
    assert 0.0 <= m["precision"] <= 1.0 and 0.0 <= m["recall"] <= 1.0
    assert m["f1"] == pytest.approx(2 * m["precision"] * m["recall"] / (m["precision"] + m["recall"]))
    assert set(trained.importances) == set(FEATURES) and sum(trained.importances.values()) == pytest.approx(1.0)
    # The held-out weeks are the last two weeks of labelled days.
    assert trained.test.agg({"event_date": "min"}).first()[0] == trained.test_start


def test_scoring_a_day_twice_gives_identical_predictions(spark, simulated, trained, tmp_path):
    readings, maintenance, _ = simulated
    features = build_features(readings, maintenance).cache()
    lake = str(tmp_path)
    day, other = date(2026, 12, 10), date(2026, 12, 11)

    def score_day(scored: date) -> None:
        end = scored + timedelta(days=1)
        predictions = score(features, trained.model, scored, end, "maritime-maintenance", "3")
        write_predictions(predictions, lake, scored, end)

    score_day(other)
    score_day(day)
    output = catalog.GOLD_MAINTENANCE_PREDICTIONS.path(lake)
    first = spark.read.format("delta").load(output).collect()
    score_day(day)
    again = spark.read.format("delta").load(output)
    assertDataFrameEqual(again, first)

    rows = [r for r in first if r.date == day]
    vessels_that_day = {r.mmsi for r in readings.where(readings.event_date == day).select("mmsi").collect()}
    assert {r.mmsi for r in rows} == vessels_that_day and len(rows) == len(vessels_that_day)
    assert all(0.0 <= r.probability <= 1.0 and r.predicted == (r.probability > 0.5) for r in rows)
    assert {(r.model_name, r.model_version) for r in first} == {("maritime-maintenance", 3)}
    assert {r.date for r in first} == {day, other}
