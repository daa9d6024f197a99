"""Train or score the engine model.

`train` fits, registers and promotes a model on the feature days [--start, --end);
`score` writes the champion's predictions for the days [--start, --end).
`<command> --help` lists each command's options.
"""

from __future__ import annotations

import argparse
import logging
from datetime import date, timedelta

import mlflow
import mlflow.spark
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from maritime_jobs.engine_model import CHAMPION_ALIAS, DEFAULT_MODEL_NAME
from maritime_jobs.engine_model.features import build_features, label
from maritime_jobs.engine_model.scoring import score, write_predictions
from maritime_jobs.engine_model.training import (
    DEFAULT_EXPERIMENT,
    TrainParams,
    champion_version,
    tracking_uri,
    train_and_register,
)
from maritime_jobs.harness import job_parser, start_job
from maritimeiq import catalog
from maritimeiq.spark import get_spark

JOB = "engine_model"
log = logging.getLogger(f"maritime.{JOB}")
HISTORY_DAYS = 120


def extract(spark: SparkSession, lake_root: str, first: date, end: date) -> tuple[DataFrame, DataFrame]:
    """Readings and maintenance events with event_date in [first, end)."""

    def days(table: catalog.Table) -> DataFrame:
        return (
            spark.read.format("delta")
            .load(table.path(lake_root))
            .where((F.col("event_date") >= F.lit(first)) & (F.col("event_date") < F.lit(end)))
        )

    return days(catalog.SILVER_ENVIRONMENTAL_READINGS), days(catalog.SILVER_MAINTENANCE_EVENTS)


def _parser(command: str, description: str) -> argparse.ArgumentParser:
    """A command's arguments: the harness's plus the model and its reading history."""
    parser = job_parser(description, interval="day")
    parser.prog = f"{parser.prog} {command}"
    parser.add_argument("--model-name", default=DEFAULT_MODEL_NAME)
    parser.add_argument(
        "--history-days", type=int, default=HISTORY_DAYS, help="days of readings before --start (running hours, trends)"
    )
    return parser


def train(argv: list[str]) -> None:
    parser = _parser("train", "Train on the feature days [--start, --end), register, promote if better.")
    parser.add_argument("--horizon-days", type=int, default=TrainParams.horizon_days)
    parser.add_argument("--test-weeks", type=int, default=TrainParams.test_weeks)
    parser.add_argument("--num-trees", type=int, default=TrainParams.num_trees)
    parser.add_argument("--max-depth", type=int, default=TrainParams.max_depth)
    parser.add_argument("--seed", type=int, default=TrainParams.seed)
    parser.add_argument("--margin", type=float, default=0.01, help="ROC AUC the candidate must gain over the champion")
    parser.add_argument("--experiment", default=DEFAULT_EXPERIMENT)
    args = parser.parse_args(argv)
    start_job(args, JOB)
    mlflow.set_tracking_uri(tracking_uri())
    spark = get_spark("engine-model-train")
    # Labels need the events after each feature day: the last day with complete data closes the range.
    last_day = args.end - timedelta(days=1)
    readings, maintenance = extract(spark, args.lake_root, args.start - timedelta(days=args.history_days), args.end)
    params = TrainParams(
        horizon_days=args.horizon_days,
        test_weeks=args.test_weeks,
        num_trees=args.num_trees,
        max_depth=args.max_depth,
        seed=args.seed,
    )
    features = build_features(readings, maintenance).where(
        (F.col("event_date") >= F.lit(args.start)) & (F.col("event_date") < F.lit(args.end))
    )
    labelled = label(features, maintenance, args.horizon_days, observed_until=last_day)
    outcome = train_and_register(
        labelled,
        params,
        model_name=args.model_name,
        experiment=args.experiment,
        margin=args.margin,
        run_tags={"train_first_day": args.start.isoformat(), "train_last_day": last_day.isoformat()},
    )
    log.info(
        "%s v%s: %s (%s); roc_auc=%.4f accuracy=%.4f",
        args.model_name,
        outcome.model_version,
        outcome.decision,
        outcome.reason,
        outcome.metrics["roc_auc"],
        outcome.metrics["accuracy"],
    )


def score_days(argv: list[str]) -> None:
    parser = _parser("score", "Score the days [--start, --end) with the champion into gold/maintenance_predictions.")
    parser.add_argument("--model-version", help="a registered version instead of the champion")
    args = parser.parse_args(argv)
    start_job(args, JOB)
    mlflow.set_tracking_uri(tracking_uri())
    spark = get_spark("engine-model-score")
    version = args.model_version or champion_version(args.model_name)
    if version is None:
        raise SystemExit(f"model {args.model_name!r} has no {CHAMPION_ALIAS!r} alias yet: run `train` first")
    model = mlflow.spark.load_model(f"models:/{args.model_name}/{version}")
    readings, maintenance = extract(spark, args.lake_root, args.start - timedelta(days=args.history_days), args.end)
    predictions = score(
        build_features(readings, maintenance), model, args.start, args.end, args.model_name, version
    ).cache()
    write_predictions(predictions, args.lake_root, args.start, args.end)
    log.info(
        "gold.maintenance_predictions %s..%s (exclusive): %d vessel-days", args.start, args.end, predictions.count()
    )


COMMANDS = {"train": train, "score": score_days}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=sorted(COMMANDS))
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help="the command's arguments")
    args = parser.parse_args(argv)
    COMMANDS[args.command](args.arguments)


if __name__ == "__main__":
    main()
