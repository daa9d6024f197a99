"""Scoring with a registered engine model: the probability of maintenance within the
horizon for each vessel-day, written to Gold."""

from __future__ import annotations

from datetime import date

from pyspark.ml import PipelineModel
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from maritime_jobs.harness import replace_range
from maritimeiq import catalog


def score(
    features: DataFrame, model: PipelineModel, start: date, end: date, model_name: str, model_version: str
) -> DataFrame:
    """The vessel-days of [start, end) with the model's probability of maintenance within the horizon."""
    days = (F.col("event_date") >= F.lit(start)) & (F.col("event_date") < F.lit(end))
    scored = model.transform(features.where(days))
    return scored.select(
        "mmsi",
        F.col("event_date").alias("date"),
        vector_to_array("probability")[1].alias("probability"),
        (F.col("prediction") == 1.0).alias("predicted"),
        F.lit(model_name).alias("model_name"),
        F.lit(int(model_version)).alias("model_version"),
    )


def write_predictions(predictions: DataFrame, lake_root: str, start: date, end: date) -> None:
    """Replace exactly the days [start, end) in the predictions table."""
    replace_range(predictions, catalog.GOLD_MAINTENANCE_PREDICTIONS, lake_root, "date", start, end)
