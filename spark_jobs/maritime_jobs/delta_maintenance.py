"""Delta maintenance: OPTIMIZE (ZORDER BY or compaction) and VACUUM per configured table,
recorded in `<lake>/ops/maintenance_log`.

Tables and their settings come from `conf/maintenance.yaml` (or the file named by
`MARITIME_MAINTENANCE_CONFIG`). Weekly tables are maintained when the run date is a
Sunday. VACUUM retention below 168 hours is refused before any table is touched: readers,
time travel and streaming queries that are behind may still need files that recent.
Tables that do not exist yet are skipped. A table that fails is recorded as failed; the
run fails after the log is written, so the other tables are still maintained.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from maritimeiq.config import PROJECT_ROOT

if TYPE_CHECKING:
    from delta.tables import DeltaTable

log = logging.getLogger("maritime.delta_maintenance")

CONFIG_ENV = "MARITIME_MAINTENANCE_CONFIG"
DEFAULT_CONFIG = PROJECT_ROOT / "conf" / "maintenance.yaml"
# Delta's own default retention (delta.deletedFileRetentionDuration = 7 days): shorter
# retention can delete files a concurrent reader or a lagging stream still needs.
MIN_RETENTION_HOURS = 168.0
CADENCES = ("daily", "weekly")
OPTIMIZE_ATTEMPTS = 3
LOG_SCHEMA = ("run_date date, table_name string, operations string, files_before long, files_after long, "
              "bytes_before long, bytes_after long, version_before long, version_after long, duration_s double, "
              "status string, error string")
LOG_SCHEMA_FIELDS = tuple(part.split()[0] for part in LOG_SCHEMA.split(", "))


class RetentionTooShortError(ValueError):
    def __init__(self, table: str, hours: float) -> None:
        super().__init__(f"{table}: VACUUM retention of {hours:g} hours refused; the minimum is "
                         f"{MIN_RETENTION_HOURS:g} hours (7 days)")


@dataclass(frozen=True)
class TableSpec:
    table: str  # `<layer>/<name>` under the lake root
    partition_column: str | None = None
    zorder_by: tuple[str, ...] = ()
    cadence: str = "daily"
    recent_days: int | None = 7
    vacuum_retention_hours: float = MIN_RETENTION_HOURS

    def __post_init__(self) -> None:
        if self.vacuum_retention_hours < MIN_RETENTION_HOURS:
            raise RetentionTooShortError(self.table, self.vacuum_retention_hours)
        if self.cadence not in CADENCES:
            raise ValueError(f"{self.table}: cadence {self.cadence!r} is not one of {CADENCES}")

    def is_due(self, run_date: date) -> bool:
        return self.cadence == "daily" or run_date.weekday() == 6  # weekly: Sundays

    def optimize_filter(self, run_date: date) -> str | None:
        """Partition predicate of the recent window, or None for the whole table."""
        if self.partition_column is None or self.recent_days is None:
            return None
        return f"{self.partition_column} >= DATE'{(run_date - timedelta(days=self.recent_days)).isoformat()}'"


def config_path(environ: dict[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    return Path(environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load_specs(path: Path) -> list[TableSpec]:
    """Table settings from the YAML file; raises on a retention below the minimum."""
    document = yaml.safe_load(path.read_text()) or {}
    defaults = document.get("defaults") or {}
    specs = []
    for table, settings in (document.get("tables") or {}).items():
        merged: dict[str, Any] = {**defaults, **(settings or {})}
        merged["zorder_by"] = tuple(merged.get("zorder_by") or ())
        specs.append(TableSpec(table=table, **merged))
    return specs


def with_retention(specs: list[TableSpec], hours: float | None) -> list[TableSpec]:
    """The specs with a retention override (the CLI flag), validated like the file's values."""
    return specs if hours is None else [replace(spec, vacuum_retention_hours=hours) for spec in specs]


def _state(table: DeltaTable) -> tuple[int, int, int]:
    detail = table.detail().select("numFiles", "sizeInBytes").first()
    version = table.history(1).select("version").first()[0]
    return detail["numFiles"], detail["sizeInBytes"], version


def optimize(table: DeltaTable, spec: TableSpec, run_date: date) -> str:
    """OPTIMIZE the recent window; retried on a conflict with a concurrent writer. Delta's
    OPTIMIZE does not conflict with blind appends (streams), only with deletes and rewrites."""
    from delta.exceptions import ConcurrentAppendException, ConcurrentDeleteReadException

    where = spec.optimize_filter(run_date)
    for attempt in range(1, OPTIMIZE_ATTEMPTS + 1):
        builder = table.optimize()
        if where:
            builder = builder.where(where)
        try:
            if spec.zorder_by:
                builder.executeZOrderBy(*spec.zorder_by)
            else:
                builder.executeCompaction()
            break
        except (ConcurrentAppendException, ConcurrentDeleteReadException) as conflict:
            if attempt == OPTIMIZE_ATTEMPTS:
                raise
            log.warning("%s: OPTIMIZE conflicted with a concurrent commit (%s); retrying", spec.table,
                        type(conflict).__name__)
    kind = f"zorder({', '.join(spec.zorder_by)})" if spec.zorder_by else "compaction"
    return f"optimize {kind}" + (f" where {where}" if where else "")


def maintain(spark, lake_root: str, spec: TableSpec, run_date: date) -> dict[str, Any]:
    """OPTIMIZE then VACUUM one table; its log record."""
    from delta.tables import DeltaTable

    record: dict[str, Any] = {"run_date": run_date, "table_name": spec.table, "operations": "",
                              "status": "skipped", "error": None}
    path = f"{lake_root.rstrip('/')}/{spec.table}"
    if not DeltaTable.isDeltaTable(spark, path):
        log.info("%s: no Delta table at %s yet; skipped", spec.table, path)
        return record
    started = time.monotonic()
    files, size, version = _state(DeltaTable.forPath(spark, path))
    record.update(files_before=files, bytes_before=size, version_before=version)
    operations = []
    try:
        table = DeltaTable.forPath(spark, path)
        operations.append(optimize(table, spec, run_date))
        table.vacuum(spec.vacuum_retention_hours)
        operations.append(f"vacuum retain {spec.vacuum_retention_hours:g} h")
        record["status"] = "ok"
    except Exception as error:  # recorded per table; run() fails once the log is written
        log.exception("%s: maintenance failed", spec.table)
        record.update(status="failed", error=f"{type(error).__name__}: {error}"[:4000])
    files, size, version = _state(DeltaTable.forPath(spark, path))
    record.update(operations="; ".join(operations), files_after=files, bytes_after=size, version_after=version,
                  duration_s=round(time.monotonic() - started, 3))
    log.info("%s: %s", spec.table, record)
    return record


def write_log(spark, log_path: str, records: list[dict[str, Any]]) -> None:
    """Upsert the run's records on (run_date, table_name): a rerun replaces its rows."""
    from delta.tables import DeltaTable

    frame = spark.createDataFrame([tuple(r.get(f) for f in LOG_SCHEMA_FIELDS) for r in records], LOG_SCHEMA)
    if not DeltaTable.isDeltaTable(spark, log_path):
        frame.limit(0).write.format("delta").mode("ignore").save(log_path)
    (DeltaTable.forPath(spark, log_path).alias("t")
     .merge(frame.alias("s"), "t.run_date = s.run_date AND t.table_name = s.table_name")
     .whenMatchedUpdateAll().whenNotMatchedInsertAll().execute())


def run(spark, lake_root: str, specs: list[TableSpec], run_date: date, log_path: str) -> list[dict[str, Any]]:
    """Maintain the tables due on `run_date`, log them, and fail if any table failed."""
    due = [spec for spec in specs if spec.is_due(run_date)]
    records = [maintain(spark, lake_root, spec, run_date) for spec in due]
    if records:
        write_log(spark, log_path, records)
    failed = [r["table_name"] for r in records if r["status"] == "failed"]
    if failed:
        raise RuntimeError(f"Delta maintenance failed for {failed}; see {log_path}")
    return records


def settings(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[TableSpec]]:
    """Parse and validate the command line and the table settings; touches no table."""
    from maritimeiq.config import get_config

    config = get_config()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", required=True, type=date.fromisoformat,
                        help="run date (UTC day); weekly tables run when it is a Sunday")
    parser.add_argument("--config", type=Path, default=config_path(), help=f"table settings (env {CONFIG_ENV})")
    parser.add_argument("--vacuum-retention-hours", type=float,
                        help=f"override every table's retention (minimum {MIN_RETENTION_HOURS:g})")
    parser.add_argument("--table", action="append", help="only this table (`<layer>/<name>`); repeatable")
    parser.add_argument("--lake-root", default=config.lake.root)
    parser.add_argument("--log-table", help="default: <lake-root>/ops/maintenance_log")
    args = parser.parse_args(argv)
    specs = with_retention(load_specs(args.config), args.vacuum_retention_hours)
    if args.table:
        unknown = set(args.table) - {spec.table for spec in specs}
        if unknown:
            parser.error(f"not in {args.config}: {sorted(unknown)}")
        specs = [spec for spec in specs if spec.table in args.table]
    args.log_table = args.log_table or f"{args.lake_root.rstrip('/')}/ops/maintenance_log"
    return args, specs


def main(argv: list[str] | None = None) -> None:
    from maritimeiq.spark import get_spark

    # Every setting is validated before a session exists, so a refused retention touches nothing.
    args, specs = settings(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    spark = get_spark("delta-maintenance")
    for record in run(spark, args.lake_root, specs, args.date, args.log_table):
        print(f"{record['table_name']}: {record['status']} {record['operations']}")


if __name__ == "__main__":
    main()
