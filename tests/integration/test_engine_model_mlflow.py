"""Training, registry promotion and scoring against a real MLflow tracking server.

The server is this module's own: `mlflow server` on a free port with a SQLite backend
and proxied artifacts in a temporary directory, stopped when the module ends.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from maritime_jobs.engine_model import CHAMPION_ALIAS
from maritime_jobs.engine_model.features import build_features, label
from maritime_jobs.engine_model.training import TrainParams, train_and_register
from maritimeiq import catalog
from tests.integration.servers import answers_ok, free_port, running_server
from tests.unit.test_engine_model import SIM_HORIZON, simulated_silver

pytestmark = pytest.mark.integration

# A deliberately weak candidate: two usage features, a few shallow trees.
WEAK = TrainParams(
    horizon_days=SIM_HORIZON,
    num_trees=10,
    max_depth=3,
    features=("running_hours_since_maintenance", "engine_load_mean_pct"),
)
STRONG = TrainParams(horizon_days=SIM_HORIZON)


@pytest.fixture(scope="module")
def tracking_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    # The platform's flags (maritime_stack.mlflow), on a port of our own.
    argv = [
        str(Path(sys.executable).parent / "mlflow"),
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--backend-store-uri",
        f"sqlite:///{root / 'mlflow.db'}",
        "--artifacts-destination",
        str(root / "artifacts"),
        "--serve-artifacts",
        "--workers",
        "1",
    ]
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    with running_server(argv, env, root / "server.log", lambda: answers_ok(f"{uri}/health"), "mlflow server"):
        yield uri


@pytest.fixture
def mlflow_client(tracking_server, monkeypatch):
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_server)
    mlflow.set_tracking_uri(tracking_server)
    return mlflow.MlflowClient(tracking_server)


@pytest.fixture(scope="module")
def silver(spark):
    readings, maintenance, last_day = simulated_silver(spark)
    return readings.cache(), maintenance.cache(), last_day


def test_champion_moves_only_to_a_better_candidate(silver, mlflow_client):
    readings, maintenance, last_day = silver
    labelled = label(build_features(readings, maintenance).cache(), maintenance, SIM_HORIZON, last_day)
    name = "maintenance-registry-test"

    first = train_and_register(labelled, WEAK, model_name=name, experiment="registry-test")
    assert first.decision == "promoted" and first.champion_version is None, first.reason
    assert first.metrics["accuracy"] > first.metrics["baseline_accuracy"]

    better = train_and_register(labelled, STRONG, model_name=name, experiment="registry-test")
    assert better.decision == "promoted", better.reason
    assert better.champion_version == first.model_version
    # The champion, re-scored on the candidate's test window (the same days here), keeps its AUC.
    assert better.champion_roc_auc == pytest.approx(first.metrics["roc_auc"])
    assert better.metrics["roc_auc"] >= first.metrics["roc_auc"] + 0.01

    worse = train_and_register(labelled, WEAK, model_name=name, experiment="registry-test")
    assert worse.decision == "rejected"
    assert worse.champion_version == better.model_version
    assert worse.champion_roc_auc == pytest.approx(better.metrics["roc_auc"])

    assert mlflow_client.get_model_version_by_alias(name, CHAMPION_ALIAS).version == better.model_version
    for outcome in (first, better, worse):
        version = mlflow_client.get_model_version(name, outcome.model_version)
        run = mlflow_client.get_run(outcome.run_id)
        assert version.run_id == outcome.run_id
        for tags in (version.tags, run.data.tags):
            assert tags["promotion_decision"] == outcome.decision
            assert tags["promotion_reason"] == outcome.reason
        # Metrics read back from the server are the ones training returned.
        assert {k: run.data.metrics[k] for k in outcome.metrics} == outcome.metrics
        assert "feature_importances.json" in {a.path for a in mlflow_client.list_artifacts(outcome.run_id)}
    assert "does not beat the champion" in worse.reason


def test_airflow_dags_test_retrains_then_scores_against_the_tracking_server(
    airflow_home, spark, silver, tracking_server
):
    """`engine_model_retraining` then `engine_maintenance_scoring` through Airflow, MLflow reached
    through the `mlflow_default` Connection."""
    import json

    import mlflow

    from tests.integration.conftest import AIRFLOW

    config, env = airflow_home
    readings, maintenance, last_day = silver
    assert last_day == date(2026, 12, 20) and last_day.weekday() == 6  # the Sunday a Monday run closes
    readings.write.format("delta").partitionBy("event_date").save(
        catalog.SILVER_ENVIRONMENTAL_READINGS.path(config.lake.root)
    )
    maintenance.write.format("delta").partitionBy("event_date").save(
        catalog.SILVER_MAINTENANCE_EVENTS.path(config.lake.root)
    )
    env = {**env, "AIRFLOW_CONN_MLFLOW_DEFAULT": json.dumps({"conn_type": "http", "host": tracking_server})}

    # The manual run of 2026-12-21 04:00 covers the week closing Monday 03:00: feature days up to
    # Sunday 2026-12-20 (--end 2026-12-21).
    conf = json.dumps({"horizon_days": SIM_HORIZON, "days": 60})
    run = subprocess.run(
        [AIRFLOW, "dags", "test", "engine_model_retraining", "2026-12-21T04:00:00+00:00", "-c", conf],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    client = mlflow.MlflowClient(tracking_server)
    champion = client.get_model_version_by_alias("maritime-maintenance", CHAMPION_ALIAS)
    metrics = client.get_run(champion.run_id).data.metrics
    assert metrics["accuracy"] >= 0.85 and metrics["accuracy"] > metrics["baseline_accuracy"]

    run = subprocess.run(
        [AIRFLOW, "dags", "test", "engine_maintenance_scoring", "2026-12-21T03:00:00+00:00"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    predictions = spark.read.format("delta").load(catalog.GOLD_MAINTENANCE_PREDICTIONS.path(config.lake.root))
    rows = predictions.collect()
    assert {str(r.date) for r in rows} == {"2026-12-20"}
    assert {r.model_version for r in rows} == {int(champion.version)}
    assert len(rows) == readings.where("event_date = DATE'2026-12-20'").select("mmsi").distinct().count()
    assert all(0.0 <= r.probability <= 1.0 for r in rows)
