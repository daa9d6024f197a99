"""What the lake holds: rows per table and layer, quarantined rows per rule from the
Silver data-quality records, vessels per CII rating and the maintenance model's
predictions per day. Printed at the end of the demo; `python -m
maritime_jobs.lake_report` prints it for any lake."""

from __future__ import annotations

from collections import Counter

from delta.tables import DeltaTable
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from maritime_jobs.harness import job_parser, start_job
from maritimeiq.spark import get_spark

LAYERS = ("bronze", "silver", "gold", "reference")
RATINGS = ("A", "B", "C", "D", "E")


def ratings_per_year(ratings: DataFrame) -> dict[int, dict[str, int]]:
    """Gold `cii_ratings` → vessels per rating (A–E, MEPC.354(78)) of each year."""
    per_year: dict[int, dict[str, int]] = {}
    for row in ratings.groupBy("year", "rating").count().collect():
        per_year.setdefault(row["year"], {})[row["rating"]] = row["count"]
    return {year: {r: counts.get(r, 0) for r in RATINGS} for year, counts in sorted(per_year.items())}


def predictions_per_day(predictions: DataFrame) -> dict[str, dict[str, object]]:
    """Gold `maintenance_predictions` → per scored day: vessels scored, vessels predicted to
    need maintenance within the model's horizon, and the model versions that scored them."""
    rows = (
        predictions.groupBy("date")
        .agg(
            F.count("*").alias("vessels"),
            F.sum(F.col("predicted").cast("long")).alias("predicted"),
            F.array_sort(F.collect_set("model_version")).alias("versions"),
        )
        .orderBy("date")
        .collect()
    )
    return {
        row["date"].isoformat(): {
            "vessels": row["vessels"],
            "predicted": row["predicted"],
            "model_versions": list(row["versions"]),
        }
        for row in rows
    }


def summarise(spark, lake_root: str) -> dict:
    hadoop_path = spark._jvm.org.apache.hadoop.fs.Path
    tables: dict[str, dict[str, int]] = {}
    frames: dict[str, DataFrame] = {}
    for layer in LAYERS:
        root = hadoop_path(f"{lake_root}/{layer}")
        fs = root.getFileSystem(spark._jsc.hadoopConfiguration())
        if not fs.exists(root):
            continue
        for status in sorted(fs.listStatus(root), key=lambda s: s.getPath().getName()):
            path = status.getPath().toString()
            if status.isDirectory() and DeltaTable.isDeltaTable(spark, path):
                name = status.getPath().getName()
                frames[f"{layer}/{name}"] = spark.read.format("delta").load(path)
                tables.setdefault(layer, {})[name] = frames[f"{layer}/{name}"].count()
    per_rule: Counter = Counter()
    if "silver/data_quality" in frames:
        for row in (
            frames["silver/data_quality"]
            .select("stream", F.explode("quarantined_per_rule").alias("rule", "count"))
            .collect()
        ):
            per_rule[f"{row.stream}.{row.rule}"] += row["count"]
    return {
        "tables": tables,
        "quarantined_per_rule": dict(per_rule.most_common()),
        "cii_ratings": ratings_per_year(frames["gold/cii_ratings"]) if "gold/cii_ratings" in frames else {},
        "maintenance_predictions": (
            predictions_per_day(frames["gold/maintenance_predictions"])
            if "gold/maintenance_predictions" in frames
            else {}
        ),
    }


def render(summary: dict) -> str:
    lines = []
    for layer, tables in summary["tables"].items():
        lines.append(f"  {layer}")
        lines.extend(f"    {name:40} {rows:>12,} rows" for name, rows in tables.items())
    if summary["quarantined_per_rule"]:
        lines.append("  quarantined by rule")
        lines.extend(f"    {rule:52} {count:>8,}" for rule, count in summary["quarantined_per_rule"].items())
    if summary.get("cii_ratings"):
        lines.append("  vessels per CII rating (gold/cii_ratings, year to date)")
        for year, counts in summary["cii_ratings"].items():
            lines.append(
                f"    {year}  "
                + "  ".join(f"{rating} {count:>4,}" for rating, count in counts.items())
                + f"   ({sum(counts.values()):,} rated)"
            )
    if summary.get("maintenance_predictions"):
        lines.append("  maintenance predictions (gold/maintenance_predictions)")
        for day, p in summary["maintenance_predictions"].items():
            versions = ", ".join(f"v{v}" for v in p["model_versions"])
            lines.append(
                f"    {day}  {p['predicted']:>4,} of {p['vessels']:>4,} vessels predicted to need "
                f"maintenance (model {versions})"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = job_parser(__doc__.splitlines()[0]).parse_args(argv)
    start_job(args, "lake_report")
    # The report is this command's output, not a log line: it goes to stdout as it is.
    print(render(summarise(get_spark("lake-report"), args.lake_root)))


if __name__ == "__main__":
    main()
