"""The operational (serving) SQL database: Gold tables published for applications.

SQLAlchemy 2 Core against ``get_config().serving.database_url`` (SQLite by default,
Postgres by URL). The schema is the project's: ordered migration steps in
:data:`MIGRATIONS`, the applied ones recorded in ``schema_version``. Publishing one
partition of a Gold table deletes the serving rows of that partition and inserts the
new ones in one transaction, so a rerun leaves the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

# Timestamps are naive UTC, as the platform's Spark sessions (time zone UTC) hand them over.
metadata = sa.MetaData()


VESSEL_DAILY_METRICS = sa.Table(
    "vessel_daily_metrics",
    metadata,
    sa.Column("event_date", sa.Date, primary_key=True),
    sa.Column("mmsi", sa.String(9), primary_key=True),
    sa.Column("positions", sa.BigInteger),
    sa.Column("avg_sog_kn", sa.Float),
    sa.Column("max_sog_kn", sa.Float),
    sa.Column("distance_nm", sa.Float),
    sa.Column("hours_underway", sa.Float),
    sa.Column("hours_stationary", sa.Float),
    sa.Column("reporting_gaps_over_1h", sa.BigInteger),
    sa.Column("first_time", sa.DateTime),
    sa.Column("first_latitude", sa.Float),
    sa.Column("first_longitude", sa.Float),
    sa.Column("last_time", sa.DateTime),
    sa.Column("last_latitude", sa.Float),
    sa.Column("last_longitude", sa.Float),
)

FLEET_DAILY_KPIS = sa.Table(
    "fleet_daily_kpis",
    metadata,
    sa.Column("event_date", sa.Date, nullable=False, index=True),
    sa.Column("ship_type_group", sa.String(64)),
    sa.Column("active_vessels", sa.BigInteger),
    sa.Column("positions", sa.BigInteger),
    sa.Column("distance_nm", sa.Float),
    sa.Column("hours_underway", sa.Float),
    sa.Column("avg_speed_kn", sa.Float),
    sa.Column("quarantined_positions", sa.BigInteger),
    sa.Column("quarantine_rate", sa.Float),
)

VOYAGES = sa.Table(
    "voyages",
    metadata,
    sa.Column("voyage_id", sa.String(128), primary_key=True),
    sa.Column("mmsi", sa.String(9), index=True),
    sa.Column("origin_unlocode", sa.String(5)),
    sa.Column("destination_unlocode", sa.String(5)),
    sa.Column("departure_time", sa.DateTime),
    sa.Column("arrival_time", sa.DateTime),
    sa.Column("duration_hours", sa.Float),
    sa.Column("distance_nm", sa.Float),
    sa.Column("avg_speed_kn", sa.Float),
    sa.Column("scheduled_arrival", sa.DateTime),
    sa.Column("arrival_delay_hours", sa.Float),
    sa.Column("is_delayed", sa.Boolean),
    sa.Column("departure_date", sa.Date, nullable=False, index=True),
)

CII_RATINGS = sa.Table(
    "cii_ratings",
    metadata,
    sa.Column("mmsi", sa.String(9), primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("ship_category", sa.String(64)),
    sa.Column("capacity", sa.Float),
    sa.Column("capacity_unit", sa.String(16)),
    sa.Column("distance_nm", sa.Float),
    sa.Column("fuel_t", sa.Float),
    sa.Column("co2_t", sa.Float),
    sa.Column("attained", sa.Float),
    sa.Column("required", sa.Float),
    sa.Column("rating", sa.String(1)),
    sa.Column("exceeds_required", sa.Boolean),
    sa.Column("cap_required", sa.Boolean),
    sa.Column("is_estimated", sa.Boolean),
    sa.Column("period", sa.String(16)),
    sa.Column("through_date", sa.Date),
)

MAINTENANCE_PREDICTIONS = sa.Table(
    "maintenance_predictions",
    metadata,
    sa.Column("mmsi", sa.String(9), primary_key=True),
    sa.Column("date", sa.Date, primary_key=True),
    sa.Column("probability", sa.Float),
    sa.Column("predicted", sa.Boolean),
    sa.Column("model_name", sa.String(128)),
    sa.Column("model_version", sa.Integer),
)

SCHEMA_VERSION = sa.Table(
    "schema_version",
    sa.MetaData(),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("description", sa.String(200), nullable=False),
    sa.Column("applied_at", sa.DateTime, nullable=False),
)


# -- migrations -------------------------------------------------------------------------
def _create_gold_tables(connection: Connection) -> None:
    metadata.create_all(
        connection, tables=[VESSEL_DAILY_METRICS, FLEET_DAILY_KPIS, VOYAGES, CII_RATINGS, MAINTENANCE_PREDICTIONS]
    )


# Ordered, append-only: a released step is never edited; a change is a new step.
MIGRATIONS: tuple[tuple[int, str, Callable[[Connection], None]], ...] = (
    (1, "Gold serving tables", _create_gold_tables),
)


def schema_version(engine: Engine) -> int:
    """Latest applied migration, 0 for an empty database."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("schema_version"):
            return 0
        return connection.execute(sa.select(sa.func.max(SCHEMA_VERSION.c.version))).scalar() or 0


def migrate(engine: Engine) -> int:
    """Apply pending migrations, each in its own transaction with its version row."""
    SCHEMA_VERSION.create(engine, checkfirst=True)
    current = schema_version(engine)
    for version, description, step in MIGRATIONS:
        if version > current:
            with engine.begin() as connection:
                step(connection)
                connection.execute(
                    SCHEMA_VERSION.insert().values(
                        version=version, description=description, applied_at=datetime.now(UTC)
                    )
                )
    return schema_version(engine)


def engine_for(url: str) -> Engine:
    """An engine for the serving URL; a SQLite file's folder is created if missing."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        from pathlib import Path

        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return sa.create_engine(url)


# -- publishing -------------------------------------------------------------------------
@dataclass(frozen=True)
class Published:
    """A Gold table in serving: its SQL table and the column naming the slice a run replaces."""

    table: sa.Table
    slice_column: str
    slice_of: Callable[[date], Any]  # the run date -> the slice value

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def columns(self) -> list[str]:
        return [c.name for c in self.table.columns]


PUBLISHED: dict[str, Published] = {
    p.name: p
    for p in (
        Published(VESSEL_DAILY_METRICS, "event_date", lambda day: day),
        Published(FLEET_DAILY_KPIS, "event_date", lambda day: day),
        Published(VOYAGES, "departure_date", lambda day: day),
        Published(MAINTENANCE_PREDICTIONS, "date", lambda day: day),
        # Ratings are recomputed year to date, so the whole year is the slice.
        Published(CII_RATINGS, "year", lambda day: day.year),
    )
}


def publish(engine: Engine, published: Published, day: date, rows: Iterable[Mapping[str, Any]]) -> int:
    """Replace the serving rows of the day's slice with `rows`, in one transaction."""
    value = published.slice_of(day)
    records = [{c: row[c] for c in published.columns} for row in rows]
    with engine.begin() as connection:
        connection.execute(published.table.delete().where(published.table.c[published.slice_column] == value))
        if records:
            connection.execute(published.table.insert(), records)
    return len(records)
