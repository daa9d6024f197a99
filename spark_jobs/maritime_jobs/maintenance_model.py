"""Predictive maintenance of main engines: features, labels, training, registry and scoring.

One row per vessel and UTC day (a *vessel-day*) with at least one engine reading. The
features describe the engine as of the end of day D (24:00 UTC); the label says whether
a maintenance event is recorded on one of the days D+1 … D+N. The two never share a day
of maintenance events, and days whose future window is not fully observed are not
labelled. See docs/MAINTENANCE_MODEL.md for the whole contract.

`train` fits a RandomForest pipeline on a time-based split, logs it to MLflow, registers
it as a new version and moves the `champion` alias only when the candidate beats the
champion re-scored on the same test window. `score` writes the champion's predictions
for one day to `<lake>/gold/maintenance_predictions`.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.ml import PipelineModel
    from pyspark.sql import DataFrame

FEATURES = (
    "engine_temp_mean_c",
    "engine_temp_max_c",
    "engine_temp_trend_c",
    "vibration_rms_mean_mm_s",
    "vibration_rms_max_mm_s",
    "vibration_rms_trend_mm_s",
    "lube_oil_pressure_min_bar",
    "lube_oil_pressure_mean_bar",
    "lube_oil_pressure_trend_bar",
    "running_hours_since_maintenance",
    "load_weighted_hours_since_maintenance",
    "mean_load_weighted_hours_between_maintenance",
    "running_hours_day",
    "engine_load_mean_pct",
    "wave_height_mean_m",
    "wind_speed_mean_kn",
)
# Engine condition is only visible while the engine runs: at berth the simulator's and
# real sensors read ambient values, which say nothing about wear.
CONDITION = ("engine_temp_mean_c", "engine_temp_max_c", "vibration_rms_mean_mm_s", "vibration_rms_max_mm_s",
             "lube_oil_pressure_min_bar", "lube_oil_pressure_mean_bar")
TREND_DAYS = 3  # trends compare the day with the mean of the three calendar days before it
MAX_READING_GAP_H = 6.0  # a longer silence between readings is not credited as running time
CHAMPION_ALIAS = "champion"
DEFAULT_MODEL_NAME = "maritime-maintenance"
DEFAULT_EXPERIMENT = "maritime-maintenance"


@dataclass(frozen=True)
class TrainParams:
    horizon_days: int = 7
    test_weeks: int = 2
    num_trees: int = 100
    max_depth: int = 8
    seed: int = 42
    features: tuple[str, ...] = FEATURES

    def as_mlflow(self) -> dict[str, str]:
        return {"horizon_days": str(self.horizon_days), "test_weeks": str(self.test_weeks),
                "num_trees": str(self.num_trees), "max_depth": str(self.max_depth), "seed": str(self.seed),
                "features": ",".join(self.features)}


@dataclass
class TrainedModel:
    model: PipelineModel
    metrics: dict[str, float]
    importances: dict[str, float]
    test_start: date
    test: DataFrame = field(repr=False)


@dataclass(frozen=True)
class TrainingOutcome:
    run_id: str
    model_version: str
    metrics: dict[str, float]
    champion_version: str | None
    champion_roc_auc: float | None
    decision: str  # "promoted" or "rejected"
    reason: str


# -- features and labels ------------------------------------------------------------------
def build_features(readings: DataFrame, maintenance: DataFrame) -> DataFrame:
    """Silver environmental readings and maintenance events → one row per vessel-day.

    Everything is computed from rows at or before the end of the day: the day's running
    means and extremes (engine running: load > 0), trends against the previous
    `TREND_DAYS` days, and running hours integrated from the readings since the last
    maintenance event recorded up to the day's end. Condition values of a day without
    running carry the last running day's values forward.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    running = F.col("engine_load_pct") > 0
    by_time = Window.partitionBy("mmsi").orderBy("event_time", "offset")
    gap_h = (F.col("event_time").cast("double") - F.lag("event_time").over(by_time).cast("double")) / 3600.0
    # The interval since the previous reading is credited to the engine state that reading saw.
    credited = F.when(F.lag(running).over(by_time), F.least(gap_h, F.lit(MAX_READING_GAP_H))).otherwise(0.0)
    steps = readings.select("mmsi", "event_time", "event_date", credited.alias("run_h"),
                            (credited * F.lag("engine_load_pct").over(by_time) / 100.0).alias("load_h"),
                            F.lit(False).alias("is_maintenance"))
    resets = maintenance.select("mmsi", "event_time", "event_date", F.lit(0.0).alias("run_h"),
                                F.lit(0.0).alias("load_h"), F.lit(True).alias("is_maintenance"))
    # A maintenance event at the same instant as a reading comes after it.
    history = (Window.partitionBy("mmsi").orderBy("event_time", "is_maintenance")
               .rowsBetween(Window.unboundedPreceding, Window.currentRow))
    timeline = steps.unionByName(resets)
    for total in ("run_h", "load_h"):
        at_reset = F.when(F.col("is_maintenance"), F.col(f"cum_{total}"))
        timeline = (timeline.withColumn(f"cum_{total}", F.sum(total).over(history))
                    .withColumn(f"reset_{total}", F.last(at_reset, ignorenulls=True).over(history)))
    # The vessel's own mean time between maintenance, over intervals that both started and
    # ended with a recorded event (the one before the first event is censored).
    previous_reset = F.last(F.when(F.col("is_maintenance"), F.col("cum_load_h")), ignorenulls=True).over(
        history.rowsBetween(Window.unboundedPreceding, -1))
    timeline = (timeline.withColumn("interval_load_h",
                                    F.when(F.col("is_maintenance"), F.col("cum_load_h") - previous_reset))
                .withColumn("mean_interval_load_h", F.avg("interval_load_h").over(history)))
    day_end = F.struct("event_time", "is_maintenance")

    def since_reset(total: str):
        return F.max_by(F.col(f"cum_{total}") - F.coalesce(F.col(f"reset_{total}"), F.lit(0.0)), day_end)

    hours = timeline.groupBy("mmsi", "event_date").agg(
        since_reset("run_h").alias("running_hours_since_maintenance"),
        since_reset("load_h").alias("load_weighted_hours_since_maintenance"),
        F.max_by("mean_interval_load_h", day_end).alias("mean_load_weighted_hours_between_maintenance"),
        F.sum("run_h").alias("running_hours_day"),
    )

    def when_running(column: str):
        return F.when(running, F.col(column))

    daily = readings.groupBy("mmsi", "event_date").agg(
        F.avg(when_running("engine_temp_c")).alias("engine_temp_mean_c"),
        F.max(when_running("engine_temp_c")).alias("engine_temp_max_c"),
        F.avg(when_running("vibration_rms_mm_s")).alias("vibration_rms_mean_mm_s"),
        F.max(when_running("vibration_rms_mm_s")).alias("vibration_rms_max_mm_s"),
        F.min(when_running("lube_oil_pressure_bar")).alias("lube_oil_pressure_min_bar"),
        F.avg(when_running("lube_oil_pressure_bar")).alias("lube_oil_pressure_mean_bar"),
        F.avg("engine_load_pct").alias("engine_load_mean_pct"),
        F.avg("wave_height_m").alias("wave_height_mean_m"),
        F.avg("wind_speed_kn").alias("wind_speed_mean_kn"),
    )
    day_number = F.unix_date("event_date")
    before = Window.partitionBy("mmsi").orderBy(day_number).rangeBetween(-TREND_DAYS, -1)
    so_far = Window.partitionBy("mmsi").orderBy("event_date").rowsBetween(Window.unboundedPreceding, 0)
    trends = {
        "engine_temp_trend_c": F.col("engine_temp_mean_c") - F.avg("engine_temp_mean_c").over(before),
        "vibration_rms_trend_mm_s": F.col("vibration_rms_mean_mm_s") - F.avg("vibration_rms_mean_mm_s").over(before),
        "lube_oil_pressure_trend_bar": (F.col("lube_oil_pressure_mean_bar")
                                        - F.avg("lube_oil_pressure_mean_bar").over(before)),
    }
    carried = {c: F.last(c, ignorenulls=True).over(so_far) for c in CONDITION}
    return (daily.withColumns(trends).withColumns(carried)
            .join(hours, ["mmsi", "event_date"], "left")
            .select("mmsi", "event_date", *FEATURES))


def label(vessel_days: DataFrame, maintenance: DataFrame, horizon_days: int, observed_until: date) -> DataFrame:
    """Add `label` (1.0/0.0): a maintenance event recorded on day D+1 … D+horizon_days.

    The label is computed from the keys (mmsi, event_date) of `vessel_days` and the event
    dates only, so no feature can leak into it; feature columns pass through. Days whose window ends after `observed_until` (the
    last day whose events are complete) are dropped: their future is not known yet.
    """
    from pyspark.sql import functions as F

    days = vessel_days.where(F.date_add("event_date", horizon_days) <= F.lit(observed_until))
    events = maintenance.select("mmsi", F.col("event_date").alias("maintenance_date")).distinct()
    window = (days.select("mmsi", "event_date").join(events, "mmsi")
              .where(F.col("maintenance_date").between(F.date_add("event_date", 1),
                                                       F.date_add("event_date", horizon_days))))
    positives = window.select("mmsi", "event_date").distinct().withColumn("label", F.lit(1.0))
    return days.join(positives, ["mmsi", "event_date"], "left").fillna(0.0, subset=["label"])


# -- training and evaluation -----------------------------------------------------------------
def time_split(labelled: DataFrame, test_weeks: int, horizon_days: int) -> tuple[DataFrame, DataFrame, date]:
    """Test: the last `test_weeks` weeks of labelled days. Train: the days whose label
    window closes before the test window opens (an embargo of `horizon_days`), so no
    maintenance event labels both sides. Returns (train, test, first test day)."""
    from pyspark.sql import functions as F

    last_day = labelled.agg(F.max("event_date")).first()[0]
    if last_day is None:
        raise ValueError("no labelled vessel-days: widen the training range")
    test_start = last_day - timedelta(days=7 * test_weeks - 1)
    train = labelled.where(F.col("event_date") < F.lit(test_start - timedelta(days=horizon_days)))
    test = labelled.where(F.col("event_date") >= F.lit(test_start))
    return train, test, test_start


def evaluate(model: PipelineModel, data: DataFrame) -> dict[str, float]:
    """Accuracy, precision, recall and F1 of the positive class, and ROC AUC."""
    from pyspark.ml.evaluation import BinaryClassificationEvaluator
    from pyspark.sql import functions as F

    scored = model.transform(data).cache()
    predicted, actual = F.col("prediction") == 1.0, F.col("label") == 1.0
    counts = scored.agg(*(F.sum((p & a).cast("long")).alias(n) for n, p, a in (
        ("tp", predicted, actual), ("fp", predicted, ~actual), ("fn", ~predicted, actual),
        ("tn", ~predicted, ~actual)))).first()
    tp, fp, fn, tn = (counts[n] or 0 for n in ("tp", "fp", "fn", "tn"))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    auc = BinaryClassificationEvaluator(rawPredictionCol="probability", labelCol="label",
                                        metricName="areaUnderROC").evaluate(scored)
    scored.unpersist()
    return {
        "accuracy": (tp + tn) / (tp + fp + fn + tn),
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "roc_auc": auc,
    }


def train_model(labelled: DataFrame, params: TrainParams = TrainParams()) -> TrainedModel:
    """Fit Imputer → VectorAssembler → RandomForest on the older days, evaluate on the newest.

    Trees split on thresholds, so features are not standardised. Classes are balanced
    with weights n / (2 n_class) from the training days (`weightCol`). The baseline
    predicts the training majority class for every test day. `labelled` stays cached for
    re-scoring a champion on `test`; `train_and_register` releases it.
    """
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import RandomForestClassifier
    from pyspark.ml.feature import Imputer, VectorAssembler
    from pyspark.sql import functions as F

    labelled = labelled.cache()  # split, fit and both evaluations read it
    train, test, test_start = time_split(labelled, params.test_weeks, params.horizon_days)
    counts = {row["label"]: row["count"] for row in train.groupBy("label").count().collect()}
    if len(counts) < 2 or test.isEmpty():
        raise ValueError(f"need both classes in training and a non-empty test window; train classes {counts}")
    total = sum(counts.values())
    weight = F.when(F.col("label") == 1.0, total / (2 * counts[1.0])).otherwise(total / (2 * counts[0.0]))
    imputed = [f"imputed_{c}" for c in params.features]
    forest = RandomForestClassifier(featuresCol="features", labelCol="label", weightCol="weight",
                                    numTrees=params.num_trees, maxDepth=params.max_depth, seed=params.seed)
    pipeline = Pipeline(stages=[
        # Median of the training days for values no reading provided (no running day yet).
        Imputer(inputCols=list(params.features), outputCols=imputed, strategy="median"),
        VectorAssembler(inputCols=imputed, outputCol="features"),
        forest,
    ])
    model = pipeline.fit(train.withColumn("weight", weight))
    metrics = evaluate(model, test)
    majority = 1.0 if counts[1.0] > counts[0.0] else 0.0
    test_rows = test.count()
    test_positives = test.where(F.col("label") == 1.0).count()
    metrics.update(
        baseline_accuracy=(test_positives if majority else test_rows - test_positives) / test_rows,
        train_rows=float(total),
        train_positive_rate=counts[1.0] / total,
        test_rows=float(test_rows),
        test_positive_rate=test_positives / test_rows,
    )
    importances = dict(zip(params.features, map(float, model.stages[-1].featureImportances.toArray())))
    return TrainedModel(model=model, metrics=metrics, importances=importances, test_start=test_start, test=test)


def decide_promotion(metrics: dict[str, float], champion_roc_auc: float | None,
                     margin: float) -> tuple[bool, str]:
    """Whether a candidate takes the champion alias, and why (recorded as tags)."""
    accuracy, baseline, auc = metrics["accuracy"], metrics["baseline_accuracy"], metrics["roc_auc"]
    if accuracy <= baseline:
        return False, f"accuracy {accuracy:.4f} does not beat the majority-class baseline {baseline:.4f}"
    if auc <= 0.5:
        return False, f"ROC AUC {auc:.4f} is no better than chance"
    if champion_roc_auc is None:
        return True, f"no champion yet; accuracy {accuracy:.4f} beats the baseline {baseline:.4f}"
    if auc >= champion_roc_auc + margin:
        return True, f"ROC AUC {auc:.4f} beats the champion's {champion_roc_auc:.4f} by at least {margin}"
    return False, (f"ROC AUC {auc:.4f} does not beat the champion's {champion_roc_auc:.4f} "
                   f"on the same test window by {margin}")


# -- MLflow ------------------------------------------------------------------------------------
def tracking_uri() -> str:
    """`MLFLOW_TRACKING_URI` when set, else the platform configuration's."""
    from maritimeiq.config import get_config

    return os.environ.get("MLFLOW_TRACKING_URI") or get_config().mlflow.tracking_uri


def champion_version(model_name: str) -> str | None:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    try:
        return client.get_model_version_by_alias(model_name, CHAMPION_ALIAS).version
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise


def train_and_register(labelled: DataFrame, params: TrainParams, *, model_name: str = DEFAULT_MODEL_NAME,
                       experiment: str = DEFAULT_EXPERIMENT, margin: float = 0.01,
                       run_tags: dict[str, str] | None = None) -> TrainingOutcome:
    """Train, log to the current tracking server, register a version and decide promotion."""
    import mlflow
    import mlflow.spark
    import pyspark
    from mlflow import MlflowClient

    client = MlflowClient()
    mlflow.set_experiment(experiment)
    with mlflow.start_run(tags=run_tags) as run:
        mlflow.log_params({**params.as_mlflow(), "promotion_margin": str(margin), "model_name": model_name})
        trained = train_model(labelled, params)
        mlflow.log_param("test_first_day", trained.test_start.isoformat())
        mlflow.log_metrics(trained.metrics)
        mlflow.log_dict(trained.importances, "feature_importances.json")
        mlflow.log_metrics({f"importance_{name}": value for name, value in trained.importances.items()})
        # Spark flavour: the PipelineModel itself, loaded back with mlflow.spark.load_model.
        # Explicit requirements: inferring them would start a second Spark JVM.
        info = mlflow.spark.log_model(trained.model, "model", registered_model_name=model_name,
                                      pip_requirements=[f"pyspark=={pyspark.__version__}",
                                                        f"mlflow=={mlflow.__version__}"])
        version = str(info.registered_model_version)
        current = champion_version(model_name)
        champion_auc = None
        if current is not None:
            champion = mlflow.spark.load_model(f"models:/{model_name}/{current}")
            champion_auc = evaluate(champion, trained.test)["roc_auc"]
            mlflow.log_metric("champion_roc_auc", champion_auc)
        promote, reason = decide_promotion(trained.metrics, champion_auc, margin)
        if promote:
            client.set_registered_model_alias(model_name, CHAMPION_ALIAS, version)
        tags = {"promotion_decision": "promoted" if promote else "rejected", "promotion_reason": reason,
                "compared_with_version": current or ""}
        mlflow.set_tags(tags)
        for key, value in tags.items():
            client.set_model_version_tag(model_name, version, key, value)
    labelled.unpersist()
    return TrainingOutcome(run_id=run.info.run_id, model_version=version, metrics=trained.metrics,
                           champion_version=current, champion_roc_auc=champion_auc,
                           decision=tags["promotion_decision"], reason=reason)


# -- scoring -----------------------------------------------------------------------------------
def score(features: DataFrame, model: PipelineModel, day: date, model_name: str, model_version: str) -> DataFrame:
    """The vessel-days of `day` with the model's probability of maintenance within the horizon."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    scored = model.transform(features.where(F.col("event_date") == F.lit(day)))
    return scored.select(
        "mmsi",
        F.col("event_date").alias("date"),
        vector_to_array("probability")[1].alias("probability"),
        (F.col("prediction") == 1.0).alias("predicted"),
        F.lit(model_name).alias("model_name"),
        F.lit(int(model_version)).alias("model_version"),
    )


def write_predictions(predictions: DataFrame, output: str, day: date) -> None:
    """Replace exactly `day` in the predictions table."""
    (predictions.write.format("delta").mode("overwrite").partitionBy("date")
     .option("replaceWhere", f"`date` = DATE'{day.isoformat()}'").save(output))


def extract(spark, readings_path: str, maintenance_path: str, first: date, last: date
            ) -> tuple[DataFrame, DataFrame]:
    """Readings and maintenance events with event_date in [first, last]."""
    from pyspark.sql import functions as F

    def days(path: str) -> DataFrame:
        return spark.read.format("delta").load(path).where(F.col("event_date").between(F.lit(first), F.lit(last)))

    return days(readings_path), days(maintenance_path)


def run_training(spark, args: argparse.Namespace) -> TrainingOutcome:
    from pyspark.sql import functions as F

    first = args.end - timedelta(days=args.days - 1)
    readings, maintenance = extract(spark, args.readings, args.maintenance,
                                    first - timedelta(days=args.history_days), args.end)
    params = TrainParams(horizon_days=args.horizon_days, test_weeks=args.test_weeks, num_trees=args.num_trees,
                         max_depth=args.max_depth, seed=args.seed)
    features = build_features(readings, maintenance).where(F.col("event_date").between(F.lit(first), F.lit(args.end)))
    labelled = label(features, maintenance, args.horizon_days, observed_until=args.end)
    return train_and_register(labelled, params, model_name=args.model_name, experiment=args.experiment,
                              margin=args.margin,
                              run_tags={"train_first_day": first.isoformat(), "train_last_day": args.end.isoformat()})


def run_scoring(spark, args: argparse.Namespace) -> int:
    import mlflow.spark

    version = args.model_version or champion_version(args.model_name)
    if version is None:
        raise SystemExit(f"model {args.model_name!r} has no {CHAMPION_ALIAS!r} alias yet: run `train` first")
    model = mlflow.spark.load_model(f"models:/{args.model_name}/{version}")
    readings, maintenance = extract(spark, args.readings, args.maintenance,
                                    args.date - timedelta(days=args.history_days), args.date)
    predictions = score(build_features(readings, maintenance), model, args.date, args.model_name, version).cache()
    write_predictions(predictions, args.output, args.date)
    return predictions.count()


def main(argv: list[str] | None = None) -> None:
    import mlflow

    from maritimeiq.config import get_config
    from maritimeiq.spark import get_spark

    config = get_config()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--model-name", default=DEFAULT_MODEL_NAME)
    common.add_argument("--readings", default=config.lake.table_path("silver", "environmental_readings"))
    common.add_argument("--maintenance", default=config.lake.table_path("silver", "maintenance_events"))
    common.add_argument("--history-days", type=int, default=120,
                        help="days of readings before the first feature day (running hours, trends)")
    train = commands.add_parser("train", parents=[common], help="train, register, promote if better")
    train.add_argument("--end", required=True, type=date.fromisoformat,
                       help="last UTC day with complete data (YYYY-MM-DD)")
    train.add_argument("--days", type=int, default=182, help="feature days ending with --end")
    train.add_argument("--horizon-days", type=int, default=TrainParams.horizon_days)
    train.add_argument("--test-weeks", type=int, default=TrainParams.test_weeks)
    train.add_argument("--num-trees", type=int, default=TrainParams.num_trees)
    train.add_argument("--max-depth", type=int, default=TrainParams.max_depth)
    train.add_argument("--seed", type=int, default=TrainParams.seed)
    train.add_argument("--margin", type=float, default=0.01, help="ROC AUC the candidate must gain over the champion")
    train.add_argument("--experiment", default=DEFAULT_EXPERIMENT)
    scoring = commands.add_parser("score", parents=[common], help="score one day with the champion")
    scoring.add_argument("--date", required=True, type=date.fromisoformat, help="UTC day (YYYY-MM-DD)")
    scoring.add_argument("--model-version", help="a registered version instead of the champion")
    scoring.add_argument("--output", default=config.lake.table_path("gold", "maintenance_predictions"))
    args = parser.parse_args(argv)

    mlflow.set_tracking_uri(tracking_uri())
    spark = get_spark(f"maintenance-model-{args.command}", config=config)
    if args.command == "train":
        outcome = run_training(spark, args)
        print(f"{args.model_name} v{outcome.model_version}: {outcome.decision} ({outcome.reason}); "
              f"roc_auc={outcome.metrics['roc_auc']:.4f} accuracy={outcome.metrics['accuracy']:.4f}")
    else:
        print(f"gold.maintenance_predictions {args.date}: {run_scoring(spark, args)} vessels")


if __name__ == "__main__":
    main()
