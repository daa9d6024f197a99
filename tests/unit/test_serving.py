"""Serving database: migrations and idempotent publishing of Gold slices."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from maritime_jobs.serving_publish import run
from maritimeiq.serving import MIGRATIONS, PUBLISHED, engine_for, migrate, publish, schema_version

VESSEL_DAILY = (
    "event_date date, mmsi string, positions long, avg_sog_kn double, max_sog_kn double, "
    "distance_nm double, hours_underway double, hours_stationary double, reporting_gaps_over_1h long, "
    "first_time timestamp, first_latitude double, first_longitude double, last_time timestamp, "
    "last_latitude double, last_longitude double"
)
FLEET = (
    "event_date date, ship_type_group string, active_vessels long, positions long, distance_nm double, "
    "hours_underway double, avg_speed_kn double, quarantined_positions long, quarantine_rate double"
)
D1, D2 = date(2026, 11, 1), date(2026, 11, 2)


def ordered(rows) -> list[tuple]:
    return sorted((tuple(r) for r in rows), key=lambda r: [(v is None, str(v)) for v in r])


def served(engine, table: str) -> list[tuple]:
    with engine.connect() as connection:
        return ordered(connection.execute(sa.text(f"SELECT * FROM {table}")))


def test_migrations_are_idempotent(tmp_path):
    engine = engine_for(f"sqlite:///{tmp_path / 'serving' / 'm.db'}")
    latest = max(version for version, _, _ in MIGRATIONS)
    assert schema_version(engine) == 0
    assert migrate(engine) == latest
    assert migrate(engine) == latest
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM schema_version")).scalar() == len(MIGRATIONS)
        tables = set(sa.inspect(connection).get_table_names())
    assert set(PUBLISHED) | {"schema_version"} == tables


def test_publish_replaces_only_the_slice(tmp_path):
    engine = engine_for(f"sqlite:///{tmp_path / 'p.db'}")
    migrate(engine)
    predictions = PUBLISHED["maintenance_predictions"]

    def row(mmsi, day, p):
        return {
            "mmsi": mmsi,
            "date": day,
            "probability": p,
            "predicted": p > 0.5,
            "model_name": "m",
            "model_version": 3,
        }

    publish(engine, predictions, D1, [row("219000001", D1, 0.9), row("219000002", D1, 0.2)])
    publish(engine, predictions, D2, [row("219000001", D2, 0.7)])
    publish(engine, predictions, D1, [row("219000002", D1, 0.4)])  # D1 rescored: one vessel left
    assert served(engine, "maintenance_predictions") == [
        ("219000001", "2026-11-02", 0.7, 1, "m", 3),
        ("219000002", "2026-11-01", 0.4, 0, "m", 3),
    ]


def test_publishing_a_day_twice_serves_the_gold_rows(spark, tmp_path):
    gold = tmp_path / "gold"
    t = datetime(2026, 11, 1, 6, 0)
    vessel_rows = [
        (D1, "219000001", 12, 10.5, 14.2, 48.25, 5.5, 1.0, 0, t, 55.0, 12.0, datetime(2026, 11, 1, 18), 55.5, 12.5),
        (D1, "219000002", 3, 0.1, 0.3, 0.0, 0.0, 6.0, 1, t, 56.0, 11.0, datetime(2026, 11, 1, 7), 56.0, 11.0),
        (
            D2,
            "219000001",
            5,
            9.0,
            9.5,
            20.0,
            2.0,
            0.0,
            0,
            datetime(2026, 11, 2, 1),
            55.5,
            12.5,
            datetime(2026, 11, 2, 3),
            55.8,
            12.9,
        ),
    ]
    fleet_rows = [
        (D1, "container_ship", 1, 12, 48.25, 5.5, 48.25 / 5.5, 2, 2 / 14),
        (D1, None, 0, 0, 0.0, 0.0, None, 4, 1.0),
    ]  # quarantined reports of unknown vessels
    spark.createDataFrame(vessel_rows, VESSEL_DAILY).write.format("delta").partitionBy("event_date").save(
        str(gold / "vessel_daily_metrics")
    )
    spark.createDataFrame(fleet_rows, FLEET).write.format("delta").partitionBy("event_date").save(
        str(gold / "fleet_daily_kpis")
    )
    url = f"sqlite:///{tmp_path / 'serving.db'}"

    first = run(spark, str(tmp_path), url, D1, list(PUBLISHED))
    engine = sa.create_engine(url)
    once = {table: served(engine, table) for table in ("vessel_daily_metrics", "fleet_daily_kpis")}
    assert (
        run(spark, str(tmp_path), url, D1, list(PUBLISHED))
        == first
        == {"vessel_daily_metrics": 2, "fleet_daily_kpis": 2}
    )
    assert {table: served(engine, table) for table in once} == once

    # Values as SQLite stores them: ISO dates and times, floats unchanged.
    def as_stored(value):
        return (
            value.isoformat(sep=" ") + ".000000"
            if isinstance(value, datetime)
            else value.isoformat()
            if isinstance(value, date)
            else value
        )

    assert once["vessel_daily_metrics"] == ordered([as_stored(v) for v in r] for r in vessel_rows[:2])
    assert once["fleet_daily_kpis"] == ordered([as_stored(v) for v in r] for r in fleet_rows)
    engine.dispose()
