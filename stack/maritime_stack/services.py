"""The local stack's services: Kafka, the Bronze worker, MLflow and Airflow started,
stopped and checked as background processes."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from maritime_stack import airflow as airflow_stack
from maritime_stack import kafka as kafka_stack
from maritime_stack import mlflow as mlflow_stack
from maritime_stack import postgres as postgres_stack
from maritime_streaming import supervisor as bronze
from maritimeiq.config import PlatformConfig
from maritimeiq.process import ManagedProcess, wait_until
from maritimeiq.topics import apply_topics

STACK_COMPONENTS = ("postgres", "kafka", "bronze", "mlflow", "airflow")


def say(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def up(config: PlatformConfig, components: set[str]) -> None:
    started = time.monotonic()
    if "postgres" in components or ("airflow" in components and config.airflow.uses_local_postgres):
        say(f"PostgreSQL on {config.postgres.host}:{config.postgres.port} ({config.postgres.state_dir}) ...")
        postgres_stack.start(config)
    if "kafka" in components:
        say(f"Kafka broker (KRaft) on {config.kafka.bootstrap_servers} ...")
        kafka_stack.start(config)
        changes = apply_topics(config.kafka)
        say(
            f"topics: created {changes.created or 'none'}, partitions added {changes.partitions_added or 'none'}, "
            f"configs updated {changes.configs_updated or 'none'}"
        )
    if "bronze" in components:
        say(f"Kafka-to-Bronze streaming worker into the lake at {config.lake.root} ...")
        if bronze.SUPERVISOR.running():
            wait_until(
                lambda: bronze.metrics_up(config.bronze.metrics_port),
                timeout=180,
                what="Bronze worker",
                process=bronze.SUPERVISOR,
            )
        else:
            bronze.start([])
    if "mlflow" in components:
        say(f"MLflow tracking server on {config.mlflow.tracking_uri} ...")
        mlflow_stack.start(config)
    if "airflow" in components:
        say(f"Airflow (api-server, scheduler, dag-processor, triggerer) on {config.airflow.api_url} ...")
        airflow_stack.start(config)
    say(f"stack up in {time.monotonic() - started:.0f}s")


def down() -> None:
    stopped = airflow_stack.stop()
    if bronze.stop():
        stopped.append("bronze-worker")
    if mlflow_stack.stop():
        stopped.append("mlflow")
    if kafka_stack.stop():
        stopped.append("kafka")
    # Last: Airflow and MLflow were its clients.
    if postgres_stack.stop():
        stopped.append("postgres")
    say(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")


def status(config: PlatformConfig) -> dict[str, dict]:
    # PostgreSQL is part of the stack when Airflow keeps its metadata there.
    local_postgres = config.airflow.uses_local_postgres or postgres_stack.SERVER.running()
    processes: list[ManagedProcess] = [
        *([postgres_stack.SERVER] if local_postgres else []),
        kafka_stack.BROKER,
        bronze.SUPERVISOR,
        mlflow_stack.SERVER,
        *airflow_stack.PROCESSES.values(),
    ]
    report = {p.name: {"pid": p.pid(), "log": str(p.log_file)} for p in processes}
    if local_postgres:
        report["postgres"]["healthy"] = report["postgres"]["pid"] is not None and postgres_stack.is_ready(config)
    report["kafka"]["healthy"] = report["kafka"]["pid"] is not None and kafka_stack.is_ready(config)
    report["bronze-worker"]["healthy"] = report["bronze-worker"]["pid"] is not None and bronze.metrics_up(
        config.bronze.metrics_port
    )
    report["mlflow"]["healthy"] = report["mlflow"]["pid"] is not None and mlflow_stack.is_ready(config)
    health = airflow_stack.health(config) or {}
    component_health = {
        "airflow-api-server": bool(health),
        "airflow-scheduler": health.get("scheduler", {}).get("status") == "healthy",
        "airflow-dag-processor": health.get("dag_processor", {}).get("status") == "healthy",
        "airflow-triggerer": health.get("triggerer", {}).get("status") == "healthy",
    }
    for name, healthy in component_health.items():
        report[name]["healthy"] = report[name]["pid"] is not None and healthy
    return report
