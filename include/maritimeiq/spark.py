"""The one SparkSession factory every job, DAG task and test uses.

Spark gets Delta Lake and the Kafka connector as local jars copied by Maven into
``var/jars/spark-connectors`` (``make jars``): a session never resolves packages over
the network. The same settings are handed to ``spark-submit`` by
:func:`spark_submit_conf`, so a job runs unchanged against a ``spark://`` or
``k8s://`` master.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from maritimeiq.config import PROJECT_ROOT, PlatformConfig, get_config

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

JARS_DIR = PROJECT_ROOT / "var" / "jars" / "spark-connectors"


def connector_jars(jars_dir: Path = JARS_DIR) -> list[str]:
    jars = sorted(str(p) for p in jars_dir.glob("*.jar"))
    if not any("delta-spark" in j for j in jars) or not any("spark-sql-kafka" in j for j in jars):
        raise FileNotFoundError(f"Delta and Kafka connector jars are missing from {jars_dir}; run `make jars`.")
    return jars


def spark_conf(config: PlatformConfig | None = None, *, app_name: str = "maritimeiq") -> dict[str, str]:
    """Settings shared by in-process sessions and spark-submit."""
    config = config or get_config()
    conf = {
        "spark.app.name": app_name,
        "spark.jars": ",".join(connector_jars()),
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.coalescePartitions.enabled": "true",
        # Two cores: a few shuffle partitions, not the default 200.
        "spark.sql.shuffle.partitions": str(config.spark.shuffle_partitions),
        # Delta VACUUM lists files with this many tasks; Spark's 10,000 is sized for clusters.
        "spark.sql.sources.parallelPartitionDiscovery.parallelism": str(config.spark.shuffle_partitions),
        "spark.default.parallelism": str(config.spark.shuffle_partitions),
        # Delta's snapshot reconstruction defaults to 50 partitions, sized for clusters.
        "spark.databricks.delta.snapshotPartitions": str(config.spark.shuffle_partitions),
        "spark.driver.memory": config.spark.driver_memory,
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.sql.warehouse.dir": str(PROJECT_ROOT / "var" / "spark-warehouse"),
        "spark.ui.showConsoleProgress": "false",
    }
    conf.update(config.spark.conf)
    return conf


def spark_submit_conf(config: PlatformConfig | None = None, *, app_name: str) -> dict[str, str]:
    """Settings for SparkSubmitOperator: jars and memory travel as their own arguments."""
    conf = spark_conf(config, app_name=app_name)
    for key in ("spark.jars", "spark.app.name", "spark.driver.memory"):
        conf.pop(key)
    return conf


def session_settings(
    config: PlatformConfig | None = None,
    *,
    app_name: str = "maritimeiq",
    extra_conf: dict[str, str] | None = None,
) -> dict[str, str]:
    """Everything :func:`get_spark` hands the session builder: the master, then the shared
    settings, then ``extra_conf``; no JVM starts, so a configuration can be checked alone."""
    config = config or get_config()
    return {"spark.master": config.spark.master, **spark_conf(config, app_name=app_name), **(extra_conf or {})}


def get_spark(
    app_name: str = "maritimeiq",
    *,
    config: PlatformConfig | None = None,
    extra_conf: dict[str, str] | None = None,
) -> SparkSession:
    """Return the active session or build one from the platform configuration.

    Under ``spark-submit`` the JVM already exists and the submit arguments win; in a
    plain Python process (tests, console scripts) the session starts here.
    """
    from pyspark.sql import SparkSession

    config = config or get_config()
    # Python workers (pandas UDFs, applyInPandas) must run this interpreter, which has
    # the platform's packages, not whichever `python3` comes first on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder
    for key, value in session_settings(config, app_name=app_name, extra_conf=extra_conf).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("WARN")
    return session
