"""Features and labels of the engine model: one row per vessel and UTC day (a
*vessel-day*) with at least one engine reading.

The features describe the engine as of the end of day D (24:00 UTC); the label says
whether a maintenance event is recorded on one of the days D+1 … D+N. The two never share
a day of maintenance events, and days whose future window is not fully observed are not
labelled.
"""

from __future__ import annotations

from datetime import date

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

FEATURES = (
    "engine_temp_mean_c",
    "engine_temp_max_c",
    "engine_temp_trend_c",
    "vibration_rms_mean_mm_s",
    "vibration_rms_max_mm_s",
    "vibration_rms_trend_mm_s",
    "lube_oil_pressure_min_bar",
    "lube_oil_pressure_mean_bar",
    "lube_oil_pressure_trend_bar",
    "running_hours_since_maintenance",
    "load_weighted_hours_since_maintenance",
    "mean_load_weighted_hours_between_maintenance",
    "running_hours_day",
    "engine_load_mean_pct",
    "wave_height_mean_m",
    "wind_speed_mean_kn",
)
# Engine condition is only visible while the engine runs: at berth the simulator's and
# real sensors read ambient values, which say nothing about wear.
CONDITION = (
    "engine_temp_mean_c",
    "engine_temp_max_c",
    "vibration_rms_mean_mm_s",
    "vibration_rms_max_mm_s",
    "lube_oil_pressure_min_bar",
    "lube_oil_pressure_mean_bar",
)
TREND_DAYS = 3  # trends compare the day with the mean of the three calendar days before it
MAX_READING_GAP_H = 6.0  # a longer silence between readings is not credited as running time


def build_features(readings: DataFrame, maintenance: DataFrame) -> DataFrame:
    """Silver environmental readings and maintenance events → one row per vessel-day.

    Everything is computed from rows at or before the end of the day: the day's running
    means and extremes (engine running: load > 0), trends against the previous
    `TREND_DAYS` days, and running hours integrated from the readings since the last
    maintenance event recorded up to the day's end. Condition values of a day without
    running carry the last running day's values forward.
    """
    running = F.col("engine_load_pct") > 0
    by_time = Window.partitionBy("mmsi").orderBy("event_time", "offset")
    gap_h = (F.col("event_time").cast("double") - F.lag("event_time").over(by_time).cast("double")) / 3600.0
    # The interval since the previous reading is credited to the engine state that reading saw.
    credited = F.when(F.lag(running).over(by_time), F.least(gap_h, F.lit(MAX_READING_GAP_H))).otherwise(0.0)
    steps = readings.select(
        "mmsi",
        "event_time",
        "event_date",
        credited.alias("run_h"),
        (credited * F.lag("engine_load_pct").over(by_time) / 100.0).alias("load_h"),
        F.lit(False).alias("is_maintenance"),
    )
    resets = maintenance.select(
        "mmsi",
        "event_time",
        "event_date",
        F.lit(0.0).alias("run_h"),
        F.lit(0.0).alias("load_h"),
        F.lit(True).alias("is_maintenance"),
    )
    # A maintenance event at the same instant as a reading comes after it.
    history = (
        Window.partitionBy("mmsi")
        .orderBy("event_time", "is_maintenance")
        .rowsBetween(Window.unboundedPreceding, Window.currentRow)
    )
    timeline = steps.unionByName(resets)
    for total in ("run_h", "load_h"):
        at_reset = F.when(F.col("is_maintenance"), F.col(f"cum_{total}"))
        timeline = timeline.withColumn(f"cum_{total}", F.sum(total).over(history)).withColumn(
            f"reset_{total}", F.last(at_reset, ignorenulls=True).over(history)
        )
    # The vessel's own mean time between maintenance, over intervals that both started and
    # ended with a recorded event (the one before the first event is censored).
    previous_reset = F.last(F.when(F.col("is_maintenance"), F.col("cum_load_h")), ignorenulls=True).over(
        history.rowsBetween(Window.unboundedPreceding, -1)
    )
    timeline = timeline.withColumn(
        "interval_load_h", F.when(F.col("is_maintenance"), F.col("cum_load_h") - previous_reset)
    ).withColumn("mean_interval_load_h", F.avg("interval_load_h").over(history))
    day_end = F.struct("event_time", "is_maintenance")

    def since_reset(total: str):
        return F.max_by(F.col(f"cum_{total}") - F.coalesce(F.col(f"reset_{total}"), F.lit(0.0)), day_end)

    hours = timeline.groupBy("mmsi", "event_date").agg(
        since_reset("run_h").alias("running_hours_since_maintenance"),
        since_reset("load_h").alias("load_weighted_hours_since_maintenance"),
        F.max_by("mean_interval_load_h", day_end).alias("mean_load_weighted_hours_between_maintenance"),
        F.sum("run_h").alias("running_hours_day"),
    )

    def when_running(column: str):
        return F.when(running, F.col(column))

    daily = readings.groupBy("mmsi", "event_date").agg(
        F.avg(when_running("engine_temp_c")).alias("engine_temp_mean_c"),
        F.max(when_running("engine_temp_c")).alias("engine_temp_max_c"),
        F.avg(when_running("vibration_rms_mm_s")).alias("vibration_rms_mean_mm_s"),
        F.max(when_running("vibration_rms_mm_s")).alias("vibration_rms_max_mm_s"),
        F.min(when_running("lube_oil_pressure_bar")).alias("lube_oil_pressure_min_bar"),
        F.avg(when_running("lube_oil_pressure_bar")).alias("lube_oil_pressure_mean_bar"),
        F.avg("engine_load_pct").alias("engine_load_mean_pct"),
        F.avg("wave_height_m").alias("wave_height_mean_m"),
        F.avg("wind_speed_kn").alias("wind_speed_mean_kn"),
    )
    day_number = F.unix_date("event_date")
    before = Window.partitionBy("mmsi").orderBy(day_number).rangeBetween(-TREND_DAYS, -1)
    so_far = Window.partitionBy("mmsi").orderBy("event_date").rowsBetween(Window.unboundedPreceding, 0)
    trends = {
        "engine_temp_trend_c": F.col("engine_temp_mean_c") - F.avg("engine_temp_mean_c").over(before),
        "vibration_rms_trend_mm_s": F.col("vibration_rms_mean_mm_s") - F.avg("vibration_rms_mean_mm_s").over(before),
        "lube_oil_pressure_trend_bar": (
            F.col("lube_oil_pressure_mean_bar") - F.avg("lube_oil_pressure_mean_bar").over(before)
        ),
    }
    carried = {c: F.last(c, ignorenulls=True).over(so_far) for c in CONDITION}
    return (
        daily.withColumns(trends)
        .withColumns(carried)
        .join(hours, ["mmsi", "event_date"], "left")
        .select("mmsi", "event_date", *FEATURES)
    )


def label(vessel_days: DataFrame, maintenance: DataFrame, horizon_days: int, observed_until: date) -> DataFrame:
    """Add `label` (1.0/0.0): a maintenance event recorded on day D+1 … D+horizon_days.

    The label is computed from the keys (mmsi, event_date) of `vessel_days` and the event
    dates only, so no feature can leak into it; feature columns pass through. Days whose
    window ends after `observed_until` (the last day whose events are complete) are
    dropped: their future is not known yet.
    """
    days = vessel_days.where(F.date_add("event_date", horizon_days) <= F.lit(observed_until))
    events = maintenance.select("mmsi", F.col("event_date").alias("maintenance_date")).distinct()
    window = (
        days.select("mmsi", "event_date")
        .join(events, "mmsi")
        .where(F.col("maintenance_date").between(F.date_add("event_date", 1), F.date_add("event_date", horizon_days)))
    )
    positives = window.select("mmsi", "event_date").distinct().withColumn("label", F.lit(1.0))
    return days.join(positives, ["mmsi", "event_date"], "left").fillna(0.0, subset=["label"])
