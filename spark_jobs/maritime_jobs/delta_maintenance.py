"""Delta maintenance: OPTIMIZE (ZORDER BY or compaction) and VACUUM per catalog table,
recorded in `<lake>/ops/maintenance_log`.

The plan is every table of the catalog (`maritimeiq.catalog`) with its maintenance
settings, overridden per deployment under `table_maintenance.tables` in the platform
configuration. Weekly tables are maintained when the run date is a Sunday. VACUUM
retention below 168 hours is refused before any table is touched: readers, time travel
and streaming queries that are behind may still need files that recent. Tables that do
not exist yet are skipped. A table that fails is recorded as failed; the run fails after
the log is written, so the other tables are still maintained.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from maritime_jobs.harness import job_parser, start_job
from maritimeiq import catalog
from maritimeiq.catalog import Table
from maritimeiq.spark import get_spark

if TYPE_CHECKING:
    from delta.tables import DeltaTable

    from maritimeiq.config import TableMaintenanceOverride

log = logging.getLogger("maritime.delta_maintenance")

# Delta's own default retention (delta.deletedFileRetentionDuration = 7 days): shorter
# retention can delete files a concurrent reader or a lagging stream still needs.
MIN_RETENTION_HOURS = 168.0
OPTIMIZE_ATTEMPTS = 3
LOG_SCHEMA = (
    "run_date date, table_name string, operations string, files_before long, files_after long, "
    "bytes_before long, bytes_after long, version_before long, version_after long, duration_s double, "
    "status string, error string"
)
LOG_SCHEMA_FIELDS = tuple(part.split()[0] for part in LOG_SCHEMA.split(", "))


class RetentionTooShortError(ValueError):
    def __init__(self, table: str, hours: float) -> None:
        super().__init__(
            f"{table}: VACUUM retention of {hours:g} hours refused; the minimum is "
            f"{MIN_RETENTION_HOURS:g} hours (7 days)"
        )


def check_retention(table: Table) -> Table:
    if table.vacuum_retention_hours < MIN_RETENTION_HOURS:
        raise RetentionTooShortError(table.key, table.vacuum_retention_hours)
    return table


def maintenance_plan(overrides: Mapping[str, TableMaintenanceOverride]) -> list[Table]:
    """The catalog's tables with the deployment's overrides applied (an override field left
    unset keeps the catalog value); raises on an override of a table the catalog does not
    have and on a retention below the minimum."""
    unknown = sorted(set(overrides) - {table.key for table in catalog.TABLES})
    if unknown:
        raise ValueError(f"table_maintenance.tables: {unknown} are not tables of the catalog (maritimeiq.catalog)")
    plan = []
    for table in catalog.TABLES:
        override = overrides.get(table.key)
        if override is not None:
            changes = {name: value for name, value in override.model_dump().items() if value is not None}
            if "zorder_by" in changes:
                changes["zorder_by"] = tuple(changes["zorder_by"])
            table = replace(table, **changes)
        plan.append(check_retention(table))
    return plan


def with_retention(plan: list[Table], hours: float | None) -> list[Table]:
    """The plan with a retention override (the CLI flag), validated like configured values."""
    return plan if hours is None else [check_retention(replace(table, vacuum_retention_hours=hours)) for table in plan]


def is_due(table: Table, run_date: date) -> bool:
    return table.cadence == "daily" or run_date.weekday() == 6  # weekly: Sundays


def optimize_filter(table: Table, run_date: date) -> str | None:
    """Predicate on the (date) partition column selecting the recent window, or None for
    the whole table."""
    if not table.partition_by or table.recent_days is None:
        return None
    since = run_date - timedelta(days=table.recent_days)
    return f"{table.partition_by[0]} >= DATE'{since.isoformat()}'"


def _state(table: DeltaTable) -> tuple[int, int, int]:
    detail = table.detail().select("numFiles", "sizeInBytes").first()
    version = table.history(1).select("version").first()[0]
    return detail["numFiles"], detail["sizeInBytes"], version


def optimize(delta: DeltaTable, table: Table, run_date: date) -> str:
    """OPTIMIZE the recent window; retried on a conflict with a concurrent writer. Delta's
    OPTIMIZE does not conflict with blind appends (streams), only with deletes and rewrites."""
    from delta.exceptions import ConcurrentAppendException, ConcurrentDeleteReadException

    where = optimize_filter(table, run_date)
    for attempt in range(1, OPTIMIZE_ATTEMPTS + 1):
        builder = delta.optimize()
        if where:
            builder = builder.where(where)
        try:
            if table.zorder_by:
                builder.executeZOrderBy(*table.zorder_by)
            else:
                builder.executeCompaction()
            break
        except (ConcurrentAppendException, ConcurrentDeleteReadException) as conflict:
            if attempt == OPTIMIZE_ATTEMPTS:
                raise
            log.warning(
                "%s: OPTIMIZE conflicted with a concurrent commit (%s); retrying", table.key, type(conflict).__name__
            )
    kind = f"zorder({', '.join(table.zorder_by)})" if table.zorder_by else "compaction"
    return f"optimize {kind}" + (f" where {where}" if where else "")


def maintain(spark, lake_root: str, table: Table, run_date: date) -> dict[str, Any]:
    """OPTIMIZE then VACUUM one table; its log record."""
    from delta.tables import DeltaTable

    record: dict[str, Any] = {
        "run_date": run_date,
        "table_name": table.key,
        "operations": "",
        "status": "skipped",
        "error": None,
    }
    path = table.path(lake_root)
    if not DeltaTable.isDeltaTable(spark, path):
        log.info("%s: no Delta table at %s yet; skipped", table.key, path)
        return record
    started = time.monotonic()
    files, size, version = _state(DeltaTable.forPath(spark, path))
    record.update(files_before=files, bytes_before=size, version_before=version)
    operations = []
    try:
        delta = DeltaTable.forPath(spark, path)
        operations.append(optimize(delta, table, run_date))
        delta.vacuum(table.vacuum_retention_hours)
        operations.append(f"vacuum retain {table.vacuum_retention_hours:g} h")
        record["status"] = "ok"
    except Exception as error:  # recorded per table; run() fails once the log is written
        log.exception("%s: maintenance failed", table.key)
        record.update(status="failed", error=f"{type(error).__name__}: {error}"[:4000])
    files, size, version = _state(DeltaTable.forPath(spark, path))
    record.update(
        operations="; ".join(operations),
        files_after=files,
        bytes_after=size,
        version_after=version,
        duration_s=round(time.monotonic() - started, 3),
    )
    log.info("%s: %s", table.key, record)
    return record


def write_log(spark, log_path: str, records: list[dict[str, Any]]) -> None:
    """Upsert the run's records on (run_date, table_name): a rerun replaces its rows."""
    from delta.tables import DeltaTable

    frame = spark.createDataFrame([tuple(r.get(f) for f in LOG_SCHEMA_FIELDS) for r in records], LOG_SCHEMA)
    if not DeltaTable.isDeltaTable(spark, log_path):
        frame.limit(0).write.format("delta").mode("ignore").save(log_path)
    (
        DeltaTable.forPath(spark, log_path)
        .alias("t")
        .merge(frame.alias("s"), "t.run_date = s.run_date AND t.table_name = s.table_name")
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .execute()
    )


def run(spark, lake_root: str, plan: list[Table], run_date: date, log_path: str) -> list[dict[str, Any]]:
    """Maintain the tables due on `run_date`, log them, and fail if any table failed."""
    records = [maintain(spark, lake_root, table, run_date) for table in plan if is_due(table, run_date)]
    if records:
        write_log(spark, log_path, records)
    failed = [r["table_name"] for r in records if r["status"] == "failed"]
    if failed:
        raise RuntimeError(f"Delta maintenance failed for {failed}; see {log_path}")
    return records


def settings(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[Table]]:
    """Parse and validate the command line and the maintenance plan; touches no table."""
    from maritimeiq.config import get_config

    config = get_config()
    parser = job_parser(__doc__.splitlines()[0])
    # A run date, not a range: maintenance acts on the tables as they are on that day.
    parser.add_argument(
        "--date",
        required=True,
        type=date.fromisoformat,
        help="run date (UTC day); weekly tables run when it is a Sunday",
    )
    parser.add_argument(
        "--vacuum-retention-hours",
        type=float,
        help=f"override every table's retention (minimum {MIN_RETENTION_HOURS:g})",
    )
    parser.add_argument("--table", action="append", help="only this table (`<layer>/<name>`); repeatable")
    args = parser.parse_args(argv)
    plan = with_retention(maintenance_plan(config.table_maintenance.tables), args.vacuum_retention_hours)
    if args.table:
        unknown = set(args.table) - {table.key for table in plan}
        if unknown:
            parser.error(f"not tables of the catalog: {sorted(unknown)}")
        plan = [table for table in plan if table.key in args.table]
    args.log_table = catalog.OPS_MAINTENANCE_LOG.path(args.lake_root)
    return args, plan


def main(argv: list[str] | None = None) -> None:
    # Every setting is validated before a session exists, so a refused retention touches nothing.
    args, plan = settings(argv)
    start_job(args, "delta_maintenance")
    spark = get_spark("delta-maintenance")
    for record in run(spark, args.lake_root, plan, args.date, args.log_table):
        log.info("%s: %s %s", record["table_name"], record["status"], record["operations"])


if __name__ == "__main__":
    main()
