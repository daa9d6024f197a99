"""What the lake holds: rows per table and layer, and quarantined rows per rule from the
Silver data-quality records. Printed at the end of the demo; `python -m
maritime_jobs.lake_report` prints it for any lake."""

from __future__ import annotations

import argparse
from collections import Counter

LAYERS = ("bronze", "silver", "gold", "reference")


def summarise(spark, lake_root: str) -> dict:
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    hadoop_path = spark._jvm.org.apache.hadoop.fs.Path
    tables: dict[str, dict[str, int]] = {}
    for layer in LAYERS:
        root = hadoop_path(f"{lake_root}/{layer}")
        fs = root.getFileSystem(spark._jsc.hadoopConfiguration())
        if not fs.exists(root):
            continue
        for status in sorted(fs.listStatus(root), key=lambda s: s.getPath().getName()):
            path = status.getPath().toString()
            if status.isDirectory() and DeltaTable.isDeltaTable(spark, path):
                tables.setdefault(layer, {})[status.getPath().getName()] = spark.read.format("delta").load(path).count()
    per_rule: Counter = Counter()
    quality_path = f"{lake_root}/silver/data_quality"
    if DeltaTable.isDeltaTable(spark, quality_path):
        for row in (spark.read.format("delta").load(quality_path)
                    .select("stream", F.explode("quarantined_per_rule").alias("rule", "count")).collect()):
            per_rule[f"{row.stream}.{row.rule}"] += row["count"]
    return {"tables": tables, "quarantined_per_rule": dict(per_rule.most_common())}


def render(summary: dict) -> str:
    lines = []
    for layer, tables in summary["tables"].items():
        lines.append(f"  {layer}")
        lines.extend(f"    {name:40} {rows:>12,} rows" for name, rows in tables.items())
    if summary["quarantined_per_rule"]:
        lines.append("  quarantined by rule")
        lines.extend(f"    {rule:52} {count:>8,}" for rule, count in summary["quarantined_per_rule"].items())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    from maritimeiq.config import get_config
    from maritimeiq.spark import get_spark

    config = get_config()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake-root", default=config.lake.root.rstrip("/"))
    args = parser.parse_args(argv)
    print(render(summarise(get_spark("lake-report", config=config), args.lake_root)))


if __name__ == "__main__":
    main()
