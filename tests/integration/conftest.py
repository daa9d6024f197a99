"""Fixtures of the integration tests that drive Airflow."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from maritime_stack.airflow import airflow_env
from maritimeiq.config import load_config

AIRFLOW = str(Path(sys.executable).parent / "airflow")


def plain_environment() -> dict[str, str]:
    """This process's environment without the test session's Airflow settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}


@pytest.fixture
def airflow_home(tmp_path):
    """An Airflow home and lake of the test's own, its metadata DB migrated: (config, env)."""
    overrides = {
        "MARITIME__AIRFLOW__HOME": str(tmp_path / "airflow"),
        # `airflow dags test` is the one writer of this home's metadata: SQLite serves it.
        "MARITIME__AIRFLOW__DATABASE": "sqlite",
        "MARITIME__LAKE__ROOT": str(tmp_path / "lake"),
        "MARITIME__SPARK__DRIVER_MEMORY": "1g",
    }
    config = load_config(environ=overrides)
    env = airflow_env(config, base={**plain_environment(), **overrides})
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    return config, env
