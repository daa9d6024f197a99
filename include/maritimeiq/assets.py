"""Airflow Assets naming the lake tables DAGs produce and consume.

Names are logical (``maritime.<layer>.<table>``); physical locations come from the
platform configuration at run time, so nothing is read when a DAG file is parsed.
"""

from airflow.sdk import Asset

REFERENCE_PORTS = Asset(name="maritime.reference.ports", uri="maritime://lake/reference/ports")
SILVER_AIS_POSITIONS = Asset(name="maritime.silver.ais_positions", uri="maritime://lake/silver/ais_positions")
GOLD_VESSEL_DAILY_METRICS = Asset(name="maritime.gold.vessel_daily_metrics",
                                  uri="maritime://lake/gold/vessel_daily_metrics")
