"""Load the ports reference table into Delta (`<lake>/reference/ports`).

Reference data is small and versioned with the code, so each run replaces the whole
table; the Delta history keeps every earlier version. Rows that break a rule stop
the job with the offending UN/LOCODEs rather than landing half-valid reference data.
"""

from __future__ import annotations

from importlib import resources

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from maritime_jobs.harness import job_parser, start_job
from maritimeiq import catalog
from maritimeiq.spark import get_spark

PORT_COLUMNS = ("unlocode", "name", "country_code", "latitude", "longitude")


class InvalidReferenceData(ValueError):
    pass


def default_ports_csv() -> str:
    return str(resources.files("maritimeiq.reference").joinpath("ports.csv"))


def extract(spark: SparkSession, path: str) -> DataFrame:
    # Everything read as string: the transform owns parsing and validation.
    return spark.read.option("header", True).option("inferSchema", False).csv(path)


def transform(ports: DataFrame) -> DataFrame:
    """Typed, normalised ports with a `rule_violations` array (empty when valid)."""
    missing = set(PORT_COLUMNS) - set(ports.columns)
    if missing:
        raise InvalidReferenceData(f"ports file lacks columns: {sorted(missing)}")
    typed = ports.select(
        F.upper(F.trim("unlocode")).alias("unlocode"),
        F.trim("name").alias("name"),
        F.upper(F.trim("country_code")).alias("country_code"),
        F.col("latitude").try_cast("double").alias("latitude"),
        F.col("longitude").try_cast("double").alias("longitude"),
    )
    rules = {
        # UN/LOCODE: ISO 3166-1 alpha-2 country + 3 letters or digits 2-9.
        "unlocode_format": F.col("unlocode").rlike("^[A-Z]{2}[A-Z2-9]{3}$"),
        "country_matches_locode": F.substring("unlocode", 1, 2) == F.col("country_code"),
        "name_present": F.length("name") > 0,
        "latitude_range": F.col("latitude").between(-90.0, 90.0),
        "longitude_range": F.col("longitude").between(-180.0, 180.0),
    }
    violations = F.filter(
        F.array(*[F.when(~F.coalesce(check, F.lit(False)), F.lit(name)) for name, check in rules.items()]),
        lambda rule: rule.isNotNull(),
    )
    return typed.withColumn("rule_violations", violations)


def load(ports: DataFrame, lake_root: str) -> int:
    bad = ports.where(F.size("rule_violations") > 0).select("unlocode", "rule_violations").collect()
    if bad:
        detail = ", ".join(f"{r.unlocode or '<empty>'}: {list(r.rule_violations)}" for r in bad[:20])
        raise InvalidReferenceData(f"{len(bad)} invalid port rows: {detail}")
    duplicates = ports.groupBy("unlocode").count().where("count > 1").collect()
    if duplicates:
        raise InvalidReferenceData(f"duplicate UN/LOCODEs: {[r.unlocode for r in duplicates]}")
    clean = ports.drop("rule_violations").orderBy("unlocode")
    (
        clean.write.format("delta")
        .mode("overwrite")
        .option("overwriteSchema", True)
        .save(catalog.REFERENCE_PORTS.path(lake_root))
    )
    return clean.count()


def main(argv: list[str] | None = None) -> None:
    parser = job_parser(__doc__.splitlines()[0])
    parser.add_argument("--ports-csv", default=default_ports_csv(), help="ports CSV (default: shipped table)")
    args = parser.parse_args(argv)
    log = start_job(args, "reference_ports")
    rows = load(transform(extract(get_spark("reference-ports"), args.ports_csv)), args.lake_root)
    log.info("reference.ports: %d ports written to %s", rows, catalog.REFERENCE_PORTS.path(args.lake_root))


if __name__ == "__main__":
    main()
