"""What every Spark job shares: its command line (the lake and the time range it covers,
named the same in every job), its logging, and the one write that replaces a range of a
Delta table.

Ranges are half-open, [start, end), in UTC: a daily job over 1-3 March runs with
``--start 2026-03-01 --end 2026-03-04``, an interval job with ``--start
2026-03-01T10:00:00Z --end 2026-03-01T11:00:00Z``.
"""

from __future__ import annotations

import argparse
import logging
from datetime import UTC, date, datetime
from typing import Literal

from pyspark.sql import DataFrame

from maritimeiq.catalog import Table
from maritimeiq.config import get_config
from maritimeiq.logs import LOG_FORMATS, configure_logging

Bound = date | datetime | int


def utc(text: str) -> datetime:
    """An ISO 8601 argument as an aware UTC datetime (naive means UTC)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class _JobParser(argparse.ArgumentParser):
    """Rejects an empty or reversed range at parse time, naming both arguments."""

    def parse_known_args(self, args=None, namespace=None):
        parsed, rest = super().parse_known_args(args, namespace)
        start, end = getattr(parsed, "start", None), getattr(parsed, "end", None)
        if start is not None and end is not None and not start < end:
            self.error(
                f"--end ({end.isoformat()}) must be after --start ({start.isoformat()}): the range is [start, end)"
            )
        return parsed, rest


def job_parser(description: str, *, interval: Literal["day", "time"] | None = None) -> argparse.ArgumentParser:
    """The arguments every job takes: ``--lake-root`` and ``--log-format``; with
    `interval`, the range ``--start``/``--end`` as UTC days ("day": YYYY-MM-DD) or
    instants ("time": ISO 8601), end exclusive."""
    parser = _JobParser(description=description)
    parser.add_argument(
        "--lake-root",
        default=get_config().lake.root.rstrip("/"),
        help="root of the lake (default: lake.root of the platform config)",
    )
    parser.add_argument("--log-format", choices=LOG_FORMATS, default="text")
    if interval == "day":
        parser.add_argument("--start", required=True, type=date.fromisoformat, help="first UTC day (YYYY-MM-DD)")
        parser.add_argument(
            "--end", required=True, type=date.fromisoformat, help="UTC day after the last one (exclusive)"
        )
    elif interval == "time":
        parser.add_argument("--start", required=True, type=utc, help="interval start (ISO 8601, UTC)")
        parser.add_argument("--end", required=True, type=utc, help="interval end (exclusive)")
    return parser


def start_job(args: argparse.Namespace, name: str) -> logging.Logger:
    """Configure logging as the arguments ask and return the job's logger."""
    configure_logging(args.log_format)
    return logging.getLogger(f"maritime.{name}")


def replace_range(
    df: DataFrame, table: Table, lake_root: str, column: str, start: Bound, end: Bound, *, merge_schema: bool = False
) -> None:
    """Overwrite the rows of `table` whose `column` lies in [start, end) with `df`, leaving
    every other row as it is: rerunning a range writes the same table again."""
    # Plain comparisons, not BETWEEN: Delta cannot re-resolve BETWEEN in replaceWhere once
    # the table exists.
    condition = f"`{column}` >= {sql_literal(start)} AND `{column}` < {sql_literal(end)}"
    writer = df.write.format("delta").mode("overwrite").option("replaceWhere", condition)
    if merge_schema:
        writer = writer.option("mergeSchema", "true")
    if table.partition_by:
        writer = writer.partitionBy(*table.partition_by)
    writer.save(table.path(lake_root))


def sql_literal(bound: Bound) -> str:
    """A range bound as a Spark SQL literal; instants in UTC (the session time zone)."""
    if isinstance(bound, datetime):
        moment = bound.astimezone(UTC) if bound.tzinfo else bound
        return f"TIMESTAMP'{moment:%Y-%m-%d %H:%M:%S.%f}'"
    if isinstance(bound, date):
        return f"DATE'{bound.isoformat()}'"
    if isinstance(bound, int) and not isinstance(bound, bool):
        return str(bound)
    raise TypeError(f"a range bound is a date, a datetime or an int, not {type(bound).__name__}")
