"""Training, evaluation and the MLflow registry of the engine model.

`train_and_register` fits a RandomForest pipeline on a time-based split, logs it to
MLflow, registers it as a new version and moves the champion alias only when the
candidate beats the champion re-scored on the same test window.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, timedelta

import mlflow
import mlflow.spark
import pyspark
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.classification import RandomForestClassifier
from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.ml.feature import Imputer, VectorAssembler
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from maritime_jobs.engine_model import CHAMPION_ALIAS, DEFAULT_MODEL_NAME
from maritime_jobs.engine_model.features import FEATURES
from maritimeiq.config import get_config

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
        return {
            "horizon_days": str(self.horizon_days),
            "test_weeks": str(self.test_weeks),
            "num_trees": str(self.num_trees),
            "max_depth": str(self.max_depth),
            "seed": str(self.seed),
            "features": ",".join(self.features),
        }


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


def time_split(labelled: DataFrame, test_weeks: int, horizon_days: int) -> tuple[DataFrame, DataFrame, date]:
    """Test: the last `test_weeks` weeks of labelled days. Train: the days whose label
    window closes before the test window opens (an embargo of `horizon_days`), so no
    maintenance event labels both sides. Returns (train, test, first test day)."""
    last_day = labelled.agg(F.max("event_date")).first()[0]
    if last_day is None:
        raise ValueError("no labelled vessel-days: widen the training range")
    test_start = last_day - timedelta(days=7 * test_weeks - 1)
    train = labelled.where(F.col("event_date") < F.lit(test_start - timedelta(days=horizon_days)))
    test = labelled.where(F.col("event_date") >= F.lit(test_start))
    return train, test, test_start


def evaluate(model: PipelineModel, data: DataFrame) -> dict[str, float]:
    """Accuracy, precision, recall and F1 of the positive class, and ROC AUC."""
    scored = model.transform(data).cache()
    predicted, actual = F.col("prediction") == 1.0, F.col("label") == 1.0
    counts = scored.agg(
        *(
            F.sum((p & a).cast("long")).alias(n)
            for n, p, a in (
                ("tp", predicted, actual),
                ("fp", predicted, ~actual),
                ("fn", ~predicted, actual),
                ("tn", ~predicted, ~actual),
            )
        )
    ).first()
    tp, fp, fn, tn = (counts[n] or 0 for n in ("tp", "fp", "fn", "tn"))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    auc = BinaryClassificationEvaluator(
        rawPredictionCol="probability", labelCol="label", metricName="areaUnderROC"
    ).evaluate(scored)
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
    labelled = labelled.cache()  # split, fit and both evaluations read it
    train, test, test_start = time_split(labelled, params.test_weeks, params.horizon_days)
    counts = {row["label"]: row["count"] for row in train.groupBy("label").count().collect()}
    if len(counts) < 2 or test.isEmpty():
        raise ValueError(f"need both classes in training and a non-empty test window; train classes {counts}")
    total = sum(counts.values())
    weight = F.when(F.col("label") == 1.0, total / (2 * counts[1.0])).otherwise(total / (2 * counts[0.0]))
    imputed = [f"imputed_{c}" for c in params.features]
    forest = RandomForestClassifier(
        featuresCol="features",
        labelCol="label",
        weightCol="weight",
        numTrees=params.num_trees,
        maxDepth=params.max_depth,
        seed=params.seed,
    )
    pipeline = Pipeline(
        stages=[
            # Median of the training days for values no reading provided (no running day yet).
            Imputer(inputCols=list(params.features), outputCols=imputed, strategy="median"),
            VectorAssembler(inputCols=imputed, outputCol="features"),
            forest,
        ]
    )
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


def decide_promotion(metrics: dict[str, float], champion_roc_auc: float | None, margin: float) -> tuple[bool, str]:
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
    return False, (
        f"ROC AUC {auc:.4f} does not beat the champion's {champion_roc_auc:.4f} on the same test window by {margin}"
    )


# -- MLflow ------------------------------------------------------------------------------------
def tracking_uri() -> str:
    """`MLFLOW_TRACKING_URI` when set, else the platform configuration's."""
    return os.environ.get("MLFLOW_TRACKING_URI") or get_config().mlflow.tracking_uri


def champion_version(model_name: str) -> str | None:
    client = MlflowClient()
    try:
        return client.get_model_version_by_alias(model_name, CHAMPION_ALIAS).version
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise


def train_and_register(
    labelled: DataFrame,
    params: TrainParams,
    *,
    model_name: str = DEFAULT_MODEL_NAME,
    experiment: str = DEFAULT_EXPERIMENT,
    margin: float = 0.01,
    run_tags: dict[str, str] | None = None,
) -> TrainingOutcome:
    """Train, log to the current tracking server, register a version and decide promotion."""
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
        info = mlflow.spark.log_model(
            trained.model,
            "model",
            registered_model_name=model_name,
            pip_requirements=[f"pyspark=={pyspark.__version__}", f"mlflow=={mlflow.__version__}"],
        )
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
        tags = {
            "promotion_decision": "promoted" if promote else "rejected",
            "promotion_reason": reason,
            "compared_with_version": current or "",
        }
        mlflow.set_tags(tags)
        for key, value in tags.items():
            client.set_model_version_tag(model_name, version, key, value)
    labelled.unpersist()
    return TrainingOutcome(
        run_id=run.info.run_id,
        model_version=version,
        metrics=trained.metrics,
        champion_version=current,
        champion_roc_auc=champion_auc,
        decision=tags["promotion_decision"],
        reason=reason,
    )
