"""Airflow Assets naming the lake tables DAGs produce and consume, one per catalog table.

Names are logical (``maritime.<layer>.<table>``); physical locations come from the
platform configuration at run time, so nothing is read when a DAG file is parsed.
"""

from airflow.sdk import Asset

from maritimeiq import catalog


def table_asset(table: catalog.Table) -> Asset:
    return Asset(name=table.asset_name, uri=table.asset_uri)


REFERENCE_PORTS = table_asset(catalog.REFERENCE_PORTS)
SILVER_AIS_POSITIONS = table_asset(catalog.SILVER_AIS_POSITIONS)
SILVER_VESSEL_STATIC = table_asset(catalog.SILVER_VESSEL_STATIC)
SILVER_ENVIRONMENTAL_READINGS = table_asset(catalog.SILVER_ENVIRONMENTAL_READINGS)
SILVER_MAINTENANCE_EVENTS = table_asset(catalog.SILVER_MAINTENANCE_EVENTS)
SILVER_VOYAGE_EVENTS = table_asset(catalog.SILVER_VOYAGE_EVENTS)
SILVER_FUEL_REPORTS = table_asset(catalog.SILVER_FUEL_REPORTS)
SILVER_EU_MRV_REPORTS = table_asset(catalog.SILVER_EU_MRV_REPORTS)
GOLD_VESSEL_DAILY_METRICS = table_asset(catalog.GOLD_VESSEL_DAILY_METRICS)
GOLD_FLEET_DAILY_KPIS = table_asset(catalog.GOLD_FLEET_DAILY_KPIS)
GOLD_PORT_CALLS = table_asset(catalog.GOLD_PORT_CALLS)
GOLD_VOYAGES = table_asset(catalog.GOLD_VOYAGES)
GOLD_ROUTE_DELAY_ROLLING = table_asset(catalog.GOLD_ROUTE_DELAY_ROLLING)
GOLD_ROUTE_PERFORMANCE = table_asset(catalog.GOLD_ROUTE_PERFORMANCE)
GOLD_CII_RATINGS = table_asset(catalog.GOLD_CII_RATINGS)
GOLD_CO2_DAILY = table_asset(catalog.GOLD_CO2_DAILY)
GOLD_CII_TRAJECTORY = table_asset(catalog.GOLD_CII_TRAJECTORY)
GOLD_EU_MRV_SHIP_TYPE_YEAR = table_asset(catalog.GOLD_EU_MRV_SHIP_TYPE_YEAR)
GOLD_MAINTENANCE_PREDICTIONS = table_asset(catalog.GOLD_MAINTENANCE_PREDICTIONS)
GOLD_COLLISION_ALERTS = table_asset(catalog.GOLD_COLLISION_ALERTS)
MODEL_MAINTENANCE = Asset(name="maritime.model.maintenance", uri="mlflow://registered-models/maritime-maintenance")
