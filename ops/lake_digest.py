"""Order-independent digest of every Silver and Gold Delta table of a lake, to show that two
runs of the pipeline over the same simulated input wrote the same tables.

    python ops/lake_digest.py LAKE_ROOT [--out digest.json]
    python ops/lake_digest.py --compare before.json after.json

For each table (a directory with a ``_delta_log`` under ``silver/`` or ``gold/``) it records
the row count, the schema (every column's name and type, excluded columns included) and a
digest of the rows: each row becomes canonical JSON (keys sorted, maps as sorted entries,
timestamps as microseconds) hashed with SHA-256; the first 64 bits of the row hashes are
summed exactly, so neither row order nor file layout matters but every duplicate counts.

Columns that record when or where the processing ran, not what the data says, are left out
of the digest (``EXCLUDED``); ``--compare`` prints every table that differs and exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, DataType, MapType, StructField, StructType, TimestampNTZType, TimestampType

from maritimeiq.spark import get_spark

LAYERS = ("silver", "gold")
ANY_TABLE = "*"
# Column → why its values depend on the run rather than on the data, per table ("*": any).
EXCLUDED: dict[str, dict[str, str]] = {
    ANY_TABLE: {
        # Bronze stamps each record with the wall-clock time its micro-batch ran; Silver
        # rows and quarantined rows carry it on as their source time.
        "ingest_time": "wall-clock time Bronze read the record",
        # Quarantine tables are partitioned by the day of ingest_time.
        "ingest_date": "day of the wall-clock ingest_time",
    },
    "silver/data_quality": {
        # The promotion interval is the whole hours covering the moment Bronze ran.
        "interval_start": "start of the wall-clock promotion interval",
    },
}
# The pipeline benchmark produces into copies of the platform topics named
# `bench.<label>.<random>.<topic>`: the copy's prefix is dropped, the platform topic kept.
BENCH_TOPIC_PREFIX = r"^bench\.[^.]+\.[0-9a-f]+\."


def find_tables(lake_root: Path) -> dict[str, Path]:
    """`layer/name` → directory of every Delta table under the lake's Silver and Gold."""
    tables: dict[str, Path] = {}

    def walk(directory: Path) -> None:
        if (directory / "_delta_log").is_dir():
            tables[directory.relative_to(lake_root).as_posix()] = directory
            return
        for child in sorted(p for p in directory.iterdir() if p.is_dir()):
            walk(child)

    for layer in LAYERS:
        if (lake_root / layer).is_dir():
            walk(lake_root / layer)
    return tables


def excluded_columns(table: str, columns: list[str]) -> list[str]:
    rules = {**EXCLUDED[ANY_TABLE], **EXCLUDED.get(table, {})}
    return sorted(c for c in columns if c in rules)


def canonical(column: Column, data_type: DataType) -> Column:
    """The value in a form whose JSON does not depend on map order or timestamp format
    (to_json would keep only milliseconds)."""
    if isinstance(data_type, (TimestampType, TimestampNTZType)):
        return F.unix_micros(column.cast(TimestampType()))
    if isinstance(data_type, StructType):
        return F.struct(
            *[
                canonical(column[f.name], f.dataType).alias(f.name)
                for f in sorted(data_type.fields, key=lambda f: f.name)
            ]
        )
    if isinstance(data_type, ArrayType):
        return F.transform(column, lambda element: canonical(element, data_type.elementType))
    if isinstance(data_type, MapType):
        entries = F.transform(
            F.map_entries(column),
            lambda entry: F.struct(
                canonical(entry["key"], data_type.keyType).alias("key"),
                canonical(entry["value"], data_type.valueType).alias("value"),
            ),
        )
        return F.array_sort(entries)
    return column


def digest_frame(frame: DataFrame, excluded: list[str]) -> dict:
    def value(field: StructField) -> Column:
        column = F.col(f"`{field.name}`")
        if field.name == "topic":
            column = F.regexp_replace(column, BENCH_TOPIC_PREFIX, "")
        return canonical(column, field.dataType).alias(field.name)

    values = [value(f) for f in sorted(frame.schema.fields, key=lambda f: f.name) if f.name not in excluded]
    # The first 16 hex digits of SHA-256 as an exact decimal: a sum that cannot overflow.
    row_hash = F.conv(F.substring(F.sha2(F.to_json(F.struct(*values)), 256), 1, 16), 16, 10).cast("decimal(38,0)")
    totals = frame.agg(F.count(F.lit(1)).alias("rows"), F.coalesce(F.sum(row_hash), F.lit(0)).alias("hash_sum")).first()
    return {"rows": totals["rows"], "digest": f"{int(totals['hash_sum']):x}"}


def digest_lake(spark, lake_root: Path) -> dict[str, dict]:
    result: dict[str, dict] = {}
    for table, directory in find_tables(lake_root).items():
        frame = spark.read.format("delta").load(str(directory))
        excluded = excluded_columns(table, frame.columns)
        result[table] = {
            **digest_frame(frame, excluded),
            "schema": [[f.name, f.dataType.simpleString()] for f in frame.schema.fields],
            "excluded": excluded,
        }
        print(f"{table}: {result[table]['rows']:,} rows", file=sys.stderr, flush=True)
    return result


def differences(before: dict[str, dict], after: dict[str, dict]) -> list[str]:
    found = []
    for table in sorted(before.keys() | after.keys()):
        if table not in after:
            found.append(f"{table}: missing from the second digest")
        elif table not in before:
            found.append(f"{table}: missing from the first digest")
        else:
            found.extend(
                f"{table}: {key} {before[table].get(key)!r} != {after[table].get(key)!r}"
                for key in ("rows", "schema", "excluded", "digest")
                if before[table].get(key) != after[table].get(key)
            )
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lake_root", nargs="?", type=Path, help="lake root holding silver/ and gold/")
    parser.add_argument("--out", type=Path, help="write the digest here (default: standard output)")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("A", "B"), help="compare two digest files")
    args = parser.parse_args(argv)

    if args.compare:
        first, second = (json.loads(path.read_text()) for path in args.compare)
        found = differences(first, second)
        print("\n".join(found) if found else f"{len(first)} tables identical")
        raise SystemExit(1 if found else 0)
    if args.lake_root is None:
        parser.error("give a lake root, or --compare A B")

    spark = get_spark("lake-digest")
    try:
        text = json.dumps(digest_lake(spark, args.lake_root.resolve()), indent=2, sort_keys=True)
    finally:
        spark.stop()
    if args.out:
        args.out.write_text(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
