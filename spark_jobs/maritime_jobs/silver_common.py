"""What every Bronze → Silver promotion shares: the Bronze slice of an interval, JSON
parsing with the canonical schemas, the envelope rules, duplicate flags, and a load that
MERGEs valid rows, quarantines the rest and records the run's data quality.

Idempotency: Silver rows are MERGEd on their business key, quarantined rows on their
source offset, and the quality record on (stream, interval), so rerunning an interval,
or backfilling a range, writes the same tables again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from delta.tables import DeltaTable
from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from maritimeiq import catalog
from maritimeiq.alerting import get_notifier
from maritimeiq.events import SCHEMAS, TOPIC_OF, fields_of, spark_schema
from maritimeiq.health import evaluate_quality

SOURCE_COLUMNS = ("topic", "partition", "offset", "ingest_time")
CORRUPT_RECORD = "_corrupt_record"
QUALITY_SCHEMA = (
    "stream string, interval_start timestamp, rows_in long, valid long, quarantined long, "
    "duplicates long, quarantined_per_rule map<string,long>"
)


@dataclass(frozen=True)
class TimeRules:
    # Event time may run ahead of ingest by clock error only; before 2000 there was no AIS.
    future_tolerance_minutes: int = 60
    earliest_event_time: str = "2000-01-01 00:00:00"


def extract(spark, bronze_path: str, start: datetime, end: datetime) -> DataFrame:
    """The Bronze slice that arrived in [start, end): late events are promoted by the run
    of the interval in which they arrived, whatever their event date."""
    return (
        spark.read.format("delta")
        .load(bronze_path)
        .where(F.col("ingest_date").between(F.lit(start.date()), F.lit(end.date())))
        .where((F.col("ingest_time") >= F.lit(start)) & (F.col("ingest_time") < F.lit(end)))
    )


def parse(bronze: DataFrame, event_type: str, *, owns_unparseable: bool, keep_payload: bool = True) -> DataFrame:
    """Bronze rows of one event type, parsed: source columns, the raw `payload`, the
    event's fields and `type_mismatch` (some field's value did not fit its type and was
    read as null). A topic carries several event types; the stream that `owns_unparseable`
    also takes the rows whose type is unreadable or foreign to the topic, so each Bronze
    row lands in exactly one stream."""
    payload = F.col("value").cast("string")
    # from_json, unlike get_json_object, reads NaN/Infinity literals, so such a row still
    # reaches its own stream (and its not-finite rule).
    declared = F.from_json(payload, "event_type string")["event_type"]
    mine = declared == event_type
    if owns_unparseable:
        topic_types = [name for name, topic in TOPIC_OF.items() if topic == TOPIC_OF[event_type]]
        mine = mine | declared.isNull() | ~declared.isin(*topic_types)
    columns = [*SOURCE_COLUMNS, "payload"] if keep_payload else list(SOURCE_COLUMNS)
    # PERMISSIVE parsing keeps the fields that fit and nulls the others; the corrupt-record
    # column is how a row tells that it lost a value that way.
    schema = spark_schema(event_type).add(CORRUPT_RECORD, "string")
    options = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT_RECORD}
    return (
        bronze.withColumn("payload", payload)
        .where(mine)
        .withColumn("event", F.from_json("payload", schema, options))
        .select(
            *columns,
            *(F.col(f"event.{f.name}") for f in fields_of(event_type)),
            F.col(f"event.{CORRUPT_RECORD}").isNotNull().alias("type_mismatch"),
        )
    )


def envelope_checks(event_type: str, rules: TimeRules = TimeRules()) -> dict[str, Column]:
    """Rules every stream applies: readable, every value of its declared type, a 9-digit
    MMSI, required fields present, finite numbers, a plausible event time."""
    readable = F.col("event_type") == event_type
    checks: dict[str, Column] = {
        "unparseable_payload": F.col("event_type").isNull(),
        "unexpected_event_type": F.col("event_type").isNotNull() & ~readable,
        # A string for a number, a number beyond a long, an object: read as null, the row
        # would otherwise pass with the value silently gone.
        "field_type_mismatch": F.col("event_type").isNotNull() & F.col("type_mismatch"),
    }
    fields = SCHEMAS[event_type]
    if any(f.name == "mmsi" for f in fields):
        # ITU-R M.585: an MMSI is nine digits (zero-padded for coast stations).
        checks["mmsi_format"] = ~F.coalesce(F.col("mmsi").rlike("^[0-9]{9}$"), F.lit(False))
    for field in fields:
        if not field.nullable and field.name != "mmsi":
            checks[f"missing_{field.name}"] = readable & F.col(field.name).isNull()
        if field.type == "double":
            # JSON NaN/Infinity tokens parse as doubles; no quantity of any stream is either.
            checks[f"{field.name}_not_finite"] = ~finite(field.name)
    checks["event_time_in_future"] = F.col("event_time") > F.col("ingest_time") + F.expr(
        f"INTERVAL {rules.future_tolerance_minutes} MINUTES"
    )
    checks["event_time_too_old"] = F.col("event_time") < F.to_timestamp(F.lit(rules.earliest_event_time))
    return checks


def violations(checks: dict[str, Column]) -> Column:
    """Array of the names of the checks a row fails (empty when valid); a check that
    evaluates to null (missing input) does not fail."""
    return F.filter(
        F.array(*[F.when(F.coalesce(check, F.lit(False)), F.lit(name)) for name, check in checks.items()]),
        lambda rule: rule.isNotNull(),
    )


def finite(column: str) -> Column:
    """NaN and infinity parse as doubles; a sensor value must be a real number."""
    value = F.col(column)
    return value.isNull() | (~F.isnan(value) & (F.abs(value) < float("inf")))


def flag_duplicates(frame: DataFrame, key: tuple[str, ...]) -> DataFrame:
    """`is_duplicate`: a valid row whose key an earlier valid row (lower offset) already
    has. Quarantined rows are never duplicates, nor do they shadow a valid row."""
    valid = F.size("rule_violations") == 0
    first_seen = Window.partitionBy(*key, valid).orderBy("partition", "offset")
    return frame.withColumn("is_duplicate", valid & (F.row_number().over(first_seen) > 1))


@dataclass(frozen=True)
class SilverTable:
    """A stream's Silver table (its catalog entry gives the MERGE key and the partition
    column) and the columns it keeps."""

    table: catalog.Table
    columns: tuple[str, ...]

    @property
    def stream(self) -> str:
        return self.table.name

    @property
    def key(self) -> tuple[str, ...]:
        return self.table.merge_keys

    @property
    def partition_column(self) -> str:
        return self.table.partition_by[0]

    @property
    def quarantine(self) -> catalog.Table:
        return catalog.table(f"{self.table.key}_quarantine")


def load(
    spark,
    result: DataFrame,
    lake_root: str,
    table: SilverTable,
    interval_start: datetime,
    payloads: DataFrame | None = None,
) -> dict:
    """MERGE valid rows on the table's key and quarantined rows on their offset; record
    the interval's data quality.

    `result` carries `rule_violations`, `is_duplicate` and the table's columns. When it
    was parsed without payloads (large slices), `payloads` (topic, partition, offset,
    payload) supplies them for the quarantined rows only.
    """
    result = result.persist(StorageLevel.MEMORY_AND_DISK)
    is_bad = F.size("rule_violations") > 0
    totals = result.agg(
        F.count("*").alias("rows_in"),
        F.coalesce(F.sum(is_bad.cast("long")), F.lit(0)).alias("quarantined"),
        F.coalesce(F.sum((~is_bad & F.col("is_duplicate")).cast("long")), F.lit(0)).alias("duplicates"),
        F.collect_set(F.when(~is_bad & ~F.col("is_duplicate"), F.col(table.partition_column))).alias("valid_parts"),
        F.collect_set(F.when(is_bad, F.to_date("ingest_time"))).alias("bad_days"),
    ).first()
    rows_in, n_quarantined, in_slice_duplicates = totals["rows_in"], totals["quarantined"], totals["duplicates"]
    valid = result.where(~is_bad & ~F.col("is_duplicate")).select(*table.columns)
    bad = result.where(is_bad)
    if payloads is not None:
        # Few rows are bad: broadcast them and leave the slice's payloads unshuffled. Every
        # bad row comes from the slice, so the inner join keeps them all.
        keys = ["topic", "partition", "offset"]
        bad = payloads.select(*keys, "payload").join(F.broadcast(bad) if n_quarantined < 2_000_000 else bad, keys)
    mmsi = F.col("mmsi") if "mmsi" in result.columns else F.lit(None).cast("string")
    quarantined = bad.select(
        *SOURCE_COLUMNS,
        "payload",
        "rule_violations",
        mmsi.alias("mmsi"),
        "event_time",
        F.to_date("ingest_time").alias("ingest_date"),
    )

    positions_path, quarantine_path = table.table.path(lake_root), table.quarantine.path(lake_root)
    ensure_table(spark, positions_path, valid, table.partition_column)
    ensure_table(spark, quarantine_path, quarantined, "ingest_date")
    target = DeltaTable.forPath(spark, positions_path)
    # Literal partition values let Delta skip every other partition of the target.
    touched = _in_list(f"t.{table.partition_column}", totals["valid_parts"])
    # A valid row whose key Silver already holds from another offset is a duplicate
    # (seen in an earlier interval); the same offset again is this interval rerun.
    held = (
        target.toDF()
        .where(_in_list(table.partition_column, totals["valid_parts"]))
        .select(*table.key, F.col("partition").alias("_held_partition"), F.col("offset").alias("_held_offset"))
    )
    cross_run_duplicates = (
        valid.join(held, list(table.key))
        .where((F.col("_held_offset") != F.col("offset")) | (F.col("_held_partition") != F.col("partition")))
        .count()
    )
    match_on = dict.fromkeys((*table.key, table.partition_column))
    on_key = " AND ".join([touched, *(f"t.{c} = s.{c}" for c in match_on)])
    target.alias("t").merge(valid.alias("s"), on_key).whenNotMatchedInsertAll().execute()
    (
        DeltaTable.forPath(spark, quarantine_path)
        .alias("t")
        .merge(
            quarantined.alias("s"),
            " AND ".join(
                [
                    _in_list("t.ingest_date", totals["bad_days"]),
                    "t.topic = s.topic AND t.partition = s.partition AND t.offset = s.offset",
                ]
            ),
        )
        .whenNotMatchedInsertAll()
        .execute()
    )
    per_rule = {
        r["rule"]: r["count"]
        for r in result.where(is_bad)
        .select(F.explode("rule_violations").alias("rule"))
        .groupBy("rule")
        .count()
        .collect()
    }
    record = {
        "stream": table.stream,
        "interval_start": interval_start,
        "rows_in": rows_in,
        "valid": rows_in - n_quarantined - in_slice_duplicates - cross_run_duplicates,
        "quarantined": n_quarantined,
        "duplicates": in_slice_duplicates + cross_run_duplicates,
        "quarantined_per_rule": per_rule,
    }
    write_quality(spark, lake_root, [record])
    result.unpersist()
    return record


def _in_list(column: str, values) -> str:
    """SQL `column IN (...)` over date literals; false for no values."""
    if not values:
        return "false"
    literals = sorted(f"DATE'{value.isoformat()}'" for value in values)
    return f"{column} IN ({', '.join(literals)})"


def alert_on_quality(records: list[dict], task_id: str) -> None:
    """P3 alert for streams whose quarantine rate in the interval is above the configured
    threshold (`alerting.thresholds` in conf/platform.yaml); repeated alerts are
    de-duplicated by the notifier."""
    notifier = get_notifier()
    evaluate_quality(
        records, notifier, notifier.settings.thresholds.quarantine_rate, dag_id="silver_promotion", task_id=task_id
    )


def write_quality(spark, lake_root: str, records: list[dict]) -> None:
    """Upsert data-quality records on (stream, interval_start)."""
    quality_path = catalog.SILVER_DATA_QUALITY.path(lake_root)
    quality = spark.createDataFrame(records, QUALITY_SCHEMA)
    ensure_table(spark, quality_path, quality, None)
    (
        DeltaTable.forPath(spark, quality_path)
        .alias("t")
        .merge(quality.alias("s"), "t.stream = s.stream AND t.interval_start = s.interval_start")
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .execute()
    )


def ensure_table(spark, path: str, frame: DataFrame, partition_column: str | None) -> None:
    """Create an empty table with the frame's schema once, so MERGE always has a target."""
    if DeltaTable.isDeltaTable(spark, path):
        return
    writer = frame.limit(0).write.format("delta").mode("ignore")
    if partition_column:
        writer = writer.partitionBy(partition_column)
    writer.save(path)
