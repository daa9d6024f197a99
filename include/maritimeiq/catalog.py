"""The catalog of Kafka topics and lake tables: every name, path and table setting, once.

A table is ``<lake root>/<layer>/<name>``. Its entry says how it is partitioned, which keys
its writer MERGEs on (none for ``replaceWhere``/overwrite writers), and how the
``delta_maintenance`` job keeps it: cadence, ZORDER columns, the window of recent
partitions OPTIMIZE rewrites and the VACUUM retention. Airflow Assets
(:mod:`maritimeiq.assets`), the jobs' paths, the maintenance plan and the topic → Bronze
mapping are all derived from here; ``tests/unit/test_catalog.py`` proves nothing else
names a lake table. Per-deployment settings (topic partitions, maintenance overrides)
live in the platform configuration, keyed by the names defined here.

Plain Python with no imports from the rest of the platform: DAG files and every layer
above may read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

LAYERS = ("bronze", "silver", "gold", "reference", "ops")
CADENCES = ("daily", "weekly")

# -- Kafka topics ------------------------------------------------------------------------
AIS_TOPIC = "maritime.ais.data"
SENSORS_TOPIC = "maritime.environmental.sensors"
ALERTS_TOPIC = "maritime.alerts"
VOYAGE_EVENTS_TOPIC = "maritime.voyage.events"
SOURCE_TOPICS = (AIS_TOPIC, SENSORS_TOPIC, ALERTS_TOPIC, VOYAGE_EVENTS_TOPIC)

# Records a producer cannot deliver go to the source topic's dead-letter topic.
DEAD_LETTER_SUFFIX = ".dlq"


def dead_letter_topic(topic: str) -> str:
    return topic + DEAD_LETTER_SUFFIX


DEAD_LETTER_TOPICS = tuple(dead_letter_topic(topic) for topic in SOURCE_TOPICS)
TOPICS = SOURCE_TOPICS + DEAD_LETTER_TOPICS


# -- lake tables -------------------------------------------------------------------------
@dataclass(frozen=True)
class Table:
    layer: str  # bronze | silver | gold | reference | ops
    name: str
    partition_by: tuple[str, ...] = ()
    merge_keys: tuple[str, ...] = ()  # MERGE keys where the writer merges; () for replaceWhere/overwrite writers
    zorder_by: tuple[str, ...] = ()  # OPTIMIZE ZORDER BY; () = compaction only
    cadence: str = "weekly"  # table maintenance: daily | weekly (Sundays, UTC)
    recent_days: int | None = 7  # OPTIMIZE only the partitions of the last N days; None: the whole table
    vacuum_retention_hours: int = 168
    source_topic: str | None = None  # Bronze: the topic it lands

    def __post_init__(self) -> None:
        if self.layer not in LAYERS:
            raise ValueError(f"{self.layer}/{self.name}: layer {self.layer!r} is not one of {LAYERS}")
        if self.cadence not in CADENCES:
            raise ValueError(f"{self.key}: cadence {self.cadence!r} is not one of {CADENCES}")

    @property
    def key(self) -> str:
        return f"{self.layer}/{self.name}"

    def path(self, lake_root: str) -> str:
        return f"{lake_root.rstrip('/')}/{self.layer}/{self.name}"

    @property
    def asset_name(self) -> str:
        return f"maritime.{self.layer}.{self.name}"

    @property
    def asset_uri(self) -> str:
        return f"maritime://lake/{self.layer}/{self.name}"


def _bronze(topic: str, cadence: str = "weekly") -> Table:
    """Bronze lands each topic as it arrived, appended by ingest date; it is read by ingest
    time, so it is only compacted."""
    return Table(
        "bronze",
        topic.replace(".", "_").replace("-", "_"),
        partition_by=("ingest_date",),
        cadence=cadence,
        source_topic=topic,
    )


def _quarantine(silver: Table) -> Table:
    """Rows a Silver stream rejected, with their raw payload, MERGEd on their Kafka offset."""
    return Table(
        "silver",
        f"{silver.name}_quarantine",
        partition_by=("ingest_date",),
        merge_keys=("topic", "partition", "offset"),
        zorder_by=("mmsi",),
    )


# Bronze: written by the streaming worker every 30 s. The steady flows are compacted daily;
# alerts and dead letters are quiet by design.
BRONZE_AIS_DATA = _bronze(AIS_TOPIC, cadence="daily")
BRONZE_ENVIRONMENTAL_SENSORS = _bronze(SENSORS_TOPIC, cadence="daily")
BRONZE_ALERTS = _bronze(ALERTS_TOPIC)
BRONZE_VOYAGE_EVENTS = _bronze(VOYAGE_EVENTS_TOPIC, cadence="daily")
BRONZE_AIS_DATA_DLQ = _bronze(dead_letter_topic(AIS_TOPIC))
BRONZE_ENVIRONMENTAL_SENSORS_DLQ = _bronze(dead_letter_topic(SENSORS_TOPIC))
BRONZE_ALERTS_DLQ = _bronze(dead_letter_topic(ALERTS_TOPIC))
BRONZE_VOYAGE_EVENTS_DLQ = _bronze(dead_letter_topic(VOYAGE_EVENTS_TOPIC))

# Silver: hourly MERGEs leave many small files; readers select by vessel and time.
SILVER_AIS_POSITIONS = Table(
    "silver",
    "ais_positions",
    partition_by=("event_date",),
    merge_keys=("mmsi", "event_time", "msg_type"),
    zorder_by=("mmsi", "event_time"),
    cadence="daily",
)
SILVER_VESSEL_STATIC_REPORTS = Table(
    "silver",
    "vessel_static_reports",
    partition_by=("event_date",),
    merge_keys=("mmsi", "event_time", "msg_type", "part_number"),
    zorder_by=("mmsi",),
)
SILVER_AIS_OTHER = Table(
    "silver",
    "ais_other",
    partition_by=("event_date",),
    merge_keys=("mmsi", "event_time", "msg_type"),
    zorder_by=("mmsi",),
)
SILVER_ENVIRONMENTAL_READINGS = Table(
    "silver",
    "environmental_readings",
    partition_by=("event_date",),
    merge_keys=("mmsi", "event_time"),
    zorder_by=("mmsi", "event_time"),
    cadence="daily",
)
SILVER_MAINTENANCE_EVENTS = Table(
    "silver", "maintenance_events", partition_by=("event_date",), merge_keys=("maintenance_id",), zorder_by=("mmsi",)
)
SILVER_VOYAGE_EVENTS = Table(
    "silver", "voyage_events", partition_by=("event_date",), merge_keys=("voyage_id", "kind"), zorder_by=("mmsi",)
)
SILVER_FUEL_REPORTS = Table(
    "silver",
    "fuel_reports",
    partition_by=("report_date",),
    merge_keys=("mmsi", "report_date", "fuel_type"),
    zorder_by=("mmsi",),
)
SILVER_AIS_POSITIONS_QUARANTINE = _quarantine(SILVER_AIS_POSITIONS)
SILVER_VESSEL_STATIC_REPORTS_QUARANTINE = _quarantine(SILVER_VESSEL_STATIC_REPORTS)
SILVER_AIS_OTHER_QUARANTINE = _quarantine(SILVER_AIS_OTHER)
SILVER_ENVIRONMENTAL_READINGS_QUARANTINE = _quarantine(SILVER_ENVIRONMENTAL_READINGS)
SILVER_MAINTENANCE_EVENTS_QUARANTINE = _quarantine(SILVER_MAINTENANCE_EVENTS)
SILVER_VOYAGE_EVENTS_QUARANTINE = _quarantine(SILVER_VOYAGE_EVENTS)
SILVER_FUEL_REPORTS_QUARANTINE = _quarantine(SILVER_FUEL_REPORTS)
# SCD2 history of the static reports: one period per vessel and attribute change.
SILVER_VESSEL_STATIC = Table(
    "silver", "vessel_static", merge_keys=("mmsi", "valid_from"), zorder_by=("mmsi",), recent_days=None
)
SILVER_DATA_QUALITY = Table("silver", "data_quality", merge_keys=("stream", "interval_start"), recent_days=None)
# EU MRV: one replaceWhere per reporting period (year), written once a year.
SILVER_EU_MRV_REPORTS = Table(
    "silver", "eu_mrv_reports", partition_by=("reporting_period",), zorder_by=("imo",), recent_days=None
)
SILVER_EU_MRV_QUARANTINE = Table("silver", "eu_mrv_quarantine", partition_by=("reporting_period",), recent_days=None)

# Gold: one replaceWhere per day or range (per 15 minutes for collision alerts), per year
# for the CII tables.
GOLD_VESSEL_DAILY_METRICS = Table("gold", "vessel_daily_metrics", partition_by=("event_date",), zorder_by=("mmsi",))
GOLD_FLEET_DAILY_KPIS = Table("gold", "fleet_daily_kpis", partition_by=("event_date",))
GOLD_PORT_CALLS = Table("gold", "port_calls", partition_by=("arrival_date",), zorder_by=("mmsi",))
GOLD_VOYAGES = Table("gold", "voyages", partition_by=("departure_date",), zorder_by=("mmsi",))
GOLD_ROUTE_DELAY_ROLLING = Table("gold", "route_delay_rolling", partition_by=("departure_date",))
GOLD_ROUTE_PERFORMANCE = Table("gold", "route_performance", recent_days=None)
GOLD_CO2_DAILY = Table("gold", "co2_daily", partition_by=("date",), zorder_by=("mmsi",))
GOLD_FUEL_REPORT_QUARANTINE = Table(
    "gold", "fuel_report_quarantine", partition_by=("report_date",), zorder_by=("mmsi",)
)
GOLD_CII_RATINGS = Table("gold", "cii_ratings", partition_by=("year",), zorder_by=("mmsi",), recent_days=None)
GOLD_CII_TRAJECTORY = Table(
    "gold", "cii_trajectory", partition_by=("reporting_year",), zorder_by=("mmsi",), recent_days=None
)
GOLD_EU_MRV_SHIP_TYPE_YEAR = Table(
    "gold", "eu_mrv_ship_type_year", partition_by=("reporting_period",), recent_days=None
)
GOLD_MAINTENANCE_PREDICTIONS = Table("gold", "maintenance_predictions", partition_by=("date",), zorder_by=("mmsi",))
GOLD_COLLISION_ALERTS = Table("gold", "collision_alerts", partition_by=("bucket_date",), zorder_by=("mmsi_a",))

REFERENCE_PORTS = Table("reference", "ports", recent_days=None)

# The maintenance job's own record, MERGEd per run date and table.
OPS_MAINTENANCE_LOG = Table("ops", "maintenance_log", merge_keys=("run_date", "table_name"), recent_days=None)

TABLES: tuple[Table, ...] = tuple(
    sorted(
        (value for value in list(globals().values()) if isinstance(value, Table)),
        key=lambda table: LAYERS.index(table.layer),
    )
)
_BY_KEY = {table.key: table for table in TABLES}
_BY_TOPIC = {table.source_topic: table for table in TABLES if table.source_topic}


def table(key: str) -> Table:
    """The catalog entry of ``<layer>/<name>``."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise KeyError(f"{key!r} is not a table of the lake catalog (maritimeiq.catalog)") from None


def bronze_table(topic: str) -> Table:
    """The Bronze table a topic lands in: the catalog entry for the platform's topics and
    their dead-letter topics; any other topic the worker is pointed at (``--topic``, e.g. a
    test's own topic) gets a table named the same way."""
    return _BY_TOPIC.get(topic) or _bronze(topic)


def unknown_tables(lake_root: str | Path) -> list[str]:
    """``<layer>/<name>`` of every Delta table under a local lake that the catalog does not
    list (a directory holding a ``_delta_log``), sorted."""
    root = Path(lake_root)
    found = {log.parent.relative_to(root).as_posix() for log in root.rglob("_delta_log") if log.is_dir()}
    return sorted(found - set(_BY_KEY))
