"""Bronze → Silver for every stream besides AIS positions: vessel static data (with its
history), other AIS messages, environmental readings, maintenance events, voyage events
and fuel reports.

Each stream is parsed with its canonical schema, checked by named rules (the envelope
rules of `silver_common` plus the stream's own), de-duplicated on its business key and
loaded like positions: MERGE into Silver, quarantine with the raw payload and offset, a
data-quality record per stream and interval.

`vessel_static` is history (SCD type 2): one row per MMSI and period in which its
static data held, `valid_to` null and `is_current` true for the latest. It is derived
from `vessel_static_reports` (every valid static message) for the MMSIs an interval
touched, so a late or replayed message rewrites exactly the periods it belongs to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from maritime_jobs.harness import job_parser, start_job
from maritime_jobs.silver_common import (
    SOURCE_COLUMNS,
    SilverTable,
    TimeRules,
    alert_on_quality,
    ensure_table,
    envelope_checks,
    extract,
    finite,
    flag_duplicates,
    load,
    parse,
    violations,
)
from maritimeiq import catalog
from maritimeiq.events import SCHEMAS, TOPIC_OF
from maritimeiq.spark import get_spark

# Fuels with an MEPC.364(79) carbon factor; anything else cannot be turned into CO2.
KNOWN_FUELS = ("HFO", "LFO", "MDO", "MGO", "LNG", "LPG_P", "LPG_B", "ETHANE", "METHANOL", "ETHANOL")
STATIC_ATTRIBUTES = tuple(
    f.name for f in SCHEMAS["vessel_static"] if f.name not in ("mmsi", "msg_type", "part_number", "raw", "ais_class")
)


def _between(column: str, low: float, high: float) -> Column:
    value = F.col(column)
    # NaN is the not-finite rule's business, not a range violation as well.
    return value.isNotNull() & ~F.isnan(value.cast("double")) & ~value.between(low, high)


def _environmental_rules() -> dict[str, Column]:
    # Physical ranges of the shipboard sensors; NaN or infinity is never a reading.
    numeric = [f.name for f in SCHEMAS["environmental_reading"] if f.type == "double"]
    rules = {f"{name}_not_finite": ~finite(name) for name in numeric}
    rules.update(
        {
            "engine_temp_range": _between("engine_temp_c", -40, 700),
            "vibration_range": _between("vibration_rms_mm_s", 0, 100),
            "lube_oil_pressure_range": _between("lube_oil_pressure_bar", 0, 20),
            "engine_load_range": _between("engine_load_pct", 0, 120),
            "running_hours_range": _between("running_hours", 0, 1_000_000),
            "wind_speed_range": _between("wind_speed_kn", 0, 200),
            "wind_dir_range": _between("wind_dir_deg", 0, 360),
            "wave_height_range": _between("wave_height_m", 0, 30),
        }
    )
    return rules


def _maintenance_rules() -> dict[str, Column]:
    return {"maintenance_kind": F.col("kind").isNotNull() & ~F.col("kind").isin("corrective", "planned")}


def _voyage_rules() -> dict[str, Column]:
    return {
        "voyage_kind": F.col("kind").isNotNull() & ~F.col("kind").isin("departure", "arrival"),
        # UN/LOCODE: two-letter country and three letters or digits 2-9.
        "unlocode_format": F.col("port_unlocode").isNotNull() & ~F.col("port_unlocode").rlike("^[A-Z]{2}[A-Z2-9]{3}$"),
    }


def _fuel_rules() -> dict[str, Column]:
    return {
        **{f"{name}_not_finite": ~finite(name) for name in ("fuel_consumed_t", "distance_nm", "hours_underway")},
        "fuel_type_unknown": F.col("fuel_type").isNotNull() & ~F.upper("fuel_type").isin(*KNOWN_FUELS),
        "fuel_consumed_range": _between("fuel_consumed_t", 0, 5_000),
        "distance_range": _between("distance_nm", 0, 2_000),  # 24 h at the AIS maximum SOG is 2,453 nm
        "hours_underway_range": _between("hours_underway", 0, 24),
    }


def _static_rules() -> dict[str, Column]:
    return {
        # ITU-R M.1371 type of ship and cargo is 0-99; dimensions are 9-bit/6-bit fields.
        "ship_type_range": _between("ship_type", 0, 99),
        "dimension_range": _between("length_m", 0, 1023) | _between("beam_m", 0, 126),
        "draught_range": _between("draught_m", 0, 25.5),
    }


def _no_rules() -> dict[str, Column]:
    return {}


@dataclass(frozen=True)
class Stream:
    table: SilverTable
    event_type: str
    rules: Callable[[], dict[str, Column]]
    owns_unparseable: bool = False

    @property
    def topic(self) -> str:
        return TOPIC_OF[self.event_type]


def _columns(event_type: str, *extra: str) -> tuple[str, ...]:
    fields = [f.name for f in SCHEMAS[event_type] if f.name != "raw"]
    return ("mmsi", "event_time", *extra, *[f for f in fields if f != "mmsi"], "source", *SOURCE_COLUMNS[1:])


STREAMS: dict[str, Stream] = {
    s.table.stream: s
    for s in (
        Stream(
            SilverTable(catalog.SILVER_VESSEL_STATIC_REPORTS, _columns("vessel_static", "event_date")),
            "vessel_static",
            _static_rules,
        ),
        Stream(
            SilverTable(catalog.SILVER_AIS_OTHER, (*_columns("ais_other", "event_date"), "raw")), "ais_other", _no_rules
        ),
        Stream(
            SilverTable(catalog.SILVER_ENVIRONMENTAL_READINGS, _columns("environmental_reading", "event_date")),
            "environmental_reading",
            _environmental_rules,
            owns_unparseable=True,
        ),
        Stream(
            SilverTable(catalog.SILVER_MAINTENANCE_EVENTS, _columns("maintenance_event", "event_date")),
            "maintenance_event",
            _maintenance_rules,
        ),
        Stream(
            SilverTable(catalog.SILVER_VOYAGE_EVENTS, _columns("voyage_event", "event_date")),
            "voyage_event",
            _voyage_rules,
            owns_unparseable=True,
        ),
        Stream(SilverTable(catalog.SILVER_FUEL_REPORTS, _columns("fuel_report")), "fuel_report", _fuel_rules),
    )
}


def transform(bronze: DataFrame, stream: Stream, time_rules: TimeRules = TimeRules()) -> DataFrame:
    """Bronze rows of the stream's topic → the stream's events with `rule_violations`
    and `is_duplicate` (same business key, later offset)."""
    events = parse(bronze, stream.event_type, owns_unparseable=stream.owns_unparseable)
    if stream.event_type == "fuel_report":
        events = events.withColumn("fuel_type", F.upper("fuel_type"))
    if stream.event_type == "vessel_static":
        # Message 24 part B and type 5 carry no part number; one key per message kind.
        events = events.withColumn("part_number", F.coalesce("part_number", F.lit(-1)))
    checks = {**envelope_checks(stream.event_type, time_rules), **stream.rules()}
    return flag_duplicates(
        events.withColumn("rule_violations", violations(checks)).withColumn("event_date", F.to_date("event_time")),
        stream.table.key,
    )


def static_history(reports: DataFrame) -> DataFrame:
    """SCD2 periods from static reports: attributes carried forward per MMSI (a class B
    part A names the vessel, part B gives type and size), a new period wherever they
    change, `valid_to` the start of the next one."""
    ordered = Window.partitionBy("mmsi").orderBy("event_time", "msg_type", "part_number")
    so_far = ordered.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    state = reports.select(
        "mmsi",
        "event_time",
        "msg_type",
        "part_number",
        "ais_class",
        *[F.last(name, ignorenulls=True).over(so_far).alias(name) for name in STATIC_ATTRIBUTES],
    )
    fingerprint = F.sha2(F.to_json(F.struct(*STATIC_ATTRIBUTES, "ais_class")), 256)
    changes = (
        state.withColumn("fingerprint", fingerprint)
        .withColumn("previous", F.lag("fingerprint").over(ordered))
        .where(F.col("previous").isNull() | (F.col("previous") != F.col("fingerprint")))
    )
    period = Window.partitionBy("mmsi").orderBy("event_time")
    return changes.withColumn("valid_to", F.lead("event_time").over(period)).select(
        "mmsi",
        *STATIC_ATTRIBUTES,
        "ais_class",
        F.col("event_time").alias("valid_from"),
        "valid_to",
        F.col("valid_to").isNull().alias("is_current"),
        "fingerprint",
    )


def load_static_history(spark, lake_root: str, touched: DataFrame) -> int:
    """Recompute the history of the touched MMSIs from all their reports and apply it in
    one MERGE: changed periods updated, new ones inserted, superseded ones deleted."""
    reports = spark.read.format("delta").load(catalog.SILVER_VESSEL_STATIC_REPORTS.path(lake_root))
    mmsis = F.broadcast(touched.select("mmsi").distinct())
    history = static_history(reports.join(mmsis, "mmsi"))
    path = catalog.SILVER_VESSEL_STATIC.path(lake_root)
    ensure_table(spark, path, history, None)
    current = DeltaTable.forPath(spark, path).toDF().join(mmsis, "mmsi").select("mmsi", "valid_from")
    superseded = current.join(history.select("mmsi", "valid_from"), ["mmsi", "valid_from"], "left_anti")
    changes = history.withColumn("_delete", F.lit(False)).unionByName(
        superseded.withColumn("_delete", F.lit(True)), allowMissingColumns=True
    )
    (
        DeltaTable.forPath(spark, path)
        .alias("t")
        .merge(changes.alias("s"), "t.mmsi = s.mmsi AND t.valid_from = s.valid_from")
        .whenMatchedDelete(condition="s._delete")
        .whenMatchedUpdate(
            condition="t.fingerprint <> s.fingerprint OR NOT (t.valid_to <=> s.valid_to)",
            set={c: f"s.{c}" for c in history.columns},
        )
        .whenNotMatchedInsert(condition="NOT s._delete", values={c: f"s.{c}" for c in history.columns})
        .execute()
    )
    return history.count()


def promote(spark, bronze_slice: DataFrame, lake_root: str, interval_start: datetime, stream: Stream) -> dict:
    """Transform and load one stream of a Bronze slice; the quality record of the interval."""
    result = transform(bronze_slice, stream)
    record = load(spark, result, lake_root, stream.table, interval_start)
    if stream.event_type == "vessel_static":
        load_static_history(spark, lake_root, result.where(F.size("rule_violations") == 0))
    return record


def main(argv: list[str] | None = None) -> None:
    parser = job_parser("Promote one interval of Bronze data to Silver, per stream.", interval="time")
    parser.add_argument(
        "--stream", action="append", choices=sorted(STREAMS), help="streams to promote (repeatable); all by default"
    )
    args = parser.parse_args(argv)
    log = start_job(args, "silver_streams")
    spark = get_spark("silver-streams")
    interval = f"{args.start:%Y-%m-%dT%H:%M}Z..{args.end:%Y-%m-%dT%H:%M}Z"
    for name in args.stream or list(STREAMS):
        stream = STREAMS[name]
        bronze_path = catalog.bronze_table(stream.topic).path(args.lake_root)
        if not DeltaTable.isDeltaTable(spark, bronze_path):
            log.info("silver.%s: no Bronze table at %s yet, nothing to promote", name, bronze_path)
            continue
        record = promote(spark, extract(spark, bronze_path, args.start, args.end), args.lake_root, args.start, stream)
        log.info("silver.%s %s: %s", name, interval, record)
        alert_on_quality([record], task_id=name)


if __name__ == "__main__":
    main()
