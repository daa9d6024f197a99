"""Airflow Assets naming the lake tables DAGs produce and consume.

Names are logical (``maritime.<layer>.<table>``); physical locations come from the
platform configuration at run time, so nothing is read when a DAG file is parsed.
"""

from airflow.sdk import Asset


def _table(layer: str, table: str) -> Asset:
    return Asset(name=f"maritime.{layer}.{table}", uri=f"maritime://lake/{layer}/{table}")


REFERENCE_PORTS = _table("reference", "ports")
SILVER_AIS_POSITIONS = _table("silver", "ais_positions")
SILVER_VESSEL_STATIC = _table("silver", "vessel_static")
SILVER_ENVIRONMENTAL_READINGS = _table("silver", "environmental_readings")
SILVER_MAINTENANCE_EVENTS = _table("silver", "maintenance_events")
SILVER_VOYAGE_EVENTS = _table("silver", "voyage_events")
SILVER_FUEL_REPORTS = _table("silver", "fuel_reports")
SILVER_EU_MRV_REPORTS = _table("silver", "eu_mrv_reports")
GOLD_VESSEL_DAILY_METRICS = _table("gold", "vessel_daily_metrics")
GOLD_FLEET_DAILY_KPIS = _table("gold", "fleet_daily_kpis")
GOLD_PORT_CALLS = _table("gold", "port_calls")
GOLD_VOYAGES = _table("gold", "voyages")
GOLD_ROUTE_DELAY_ROLLING = _table("gold", "route_delay_rolling")
GOLD_ROUTE_PERFORMANCE = _table("gold", "route_performance")
GOLD_CII_RATINGS = _table("gold", "cii_ratings")
GOLD_CO2_DAILY = _table("gold", "co2_daily")
GOLD_CII_TRAJECTORY = _table("gold", "cii_trajectory")
GOLD_EU_MRV_SHIP_TYPE_YEAR = _table("gold", "eu_mrv_ship_type_year")
GOLD_MAINTENANCE_PREDICTIONS = _table("gold", "maintenance_predictions")
GOLD_COLLISION_ALERTS = _table("gold", "collision_alerts")
MODEL_MAINTENANCE = Asset(name="maritime.model.maintenance", uri="mlflow://registered-models/maritime-maintenance")
