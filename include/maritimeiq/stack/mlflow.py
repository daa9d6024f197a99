"""MLflow tracking server with model registry (SQLite backend, local artifact store)."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from pathlib import Path

from maritimeiq.config import PlatformConfig
from maritimeiq.stack.airflow import VENV_BIN
from maritimeiq.stack.process import ManagedProcess, wait_until

SERVER = ManagedProcess("mlflow")


def start(config: PlatformConfig) -> None:
    if SERVER.running():
        return
    artifacts = config.mlflow.artifacts_destination
    if "://" not in artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
    backend = config.mlflow.backend_store_uri
    if backend.startswith("sqlite:///"):
        Path(backend.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    argv = [
        str(VENV_BIN / "mlflow"),
        "server",
        # Loopback only by default: the local server has no authentication.
        "--host", config.mlflow.host,
        "--port", str(config.mlflow.port),
        "--backend-store-uri", backend,
        "--artifacts-destination", artifacts,
        "--serve-artifacts",
        "--workers", "1",
    ]
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": config.mlflow.tracking_uri,
        # The server's job runner (GenAI evaluation jobs) starts seven huey consumers,
        # ~1 GiB idle; the platform's tracking and registry use needs none of them.
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    SERVER.start(argv, env)
    wait_until(lambda: is_ready(config), timeout=120, what="MLflow server", process=SERVER)


def stop() -> bool:
    return SERVER.stop(timeout=30)


def is_ready(config: PlatformConfig) -> bool:
    try:
        with urllib.request.urlopen(f"{config.mlflow.tracking_uri}/health", timeout=3) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False
