"""Static checks of docker-compose.yaml (no Docker engine runs here)."""

from __future__ import annotations

import re

import pytest
import yaml

from maritimeiq.config import PROJECT_ROOT


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((PROJECT_ROOT / "docker-compose.yaml").read_text())


def test_platform_services_are_declared(compose):
    assert {"kafka", "postgres", "airflow-init", "airflow-api-server", "airflow-scheduler",
            "airflow-dag-processor", "airflow-triggerer", "mlflow"} <= set(compose["services"])


def test_every_dependency_waits_on_a_condition_backed_by_a_healthcheck(compose):
    services = compose["services"]
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            condition = rule["condition"]
            assert condition in {"service_healthy", "service_completed_successfully"}, name
            if condition == "service_healthy":
                assert "healthcheck" in services[dependency], f"{dependency} needs a healthcheck"


def test_no_secret_is_written_into_the_file():
    text = (PROJECT_ROOT / "docker-compose.yaml").read_text()
    for key in ("POSTGRES_PASSWORD", "AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET",
                "AIRFLOW__API__SECRET_KEY"):
        for value in re.findall(rf"{key}: (.+)", text):
            assert value.startswith("${"), f"{key} must come from the environment, found {value}"
    assert "${AIRFLOW_ADMIN_PASSWORD:?" in text


def test_airflow_and_mlflow_use_separate_databases(compose):
    airflow_db = compose["x-airflow-common"]["environment"]["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    mlflow_backend = next(a for a in compose["services"]["mlflow"]["command"] if a.startswith("--backend-store-uri"))
    assert airflow_db.rsplit("/", 1)[1] == "airflow"
    assert mlflow_backend.rsplit("/", 1)[1] == "mlflow"
