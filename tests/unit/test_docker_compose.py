"""Checks of docker-compose.yaml, docker-compose.scale.yaml and the Dockerfile.

No Docker engine runs here: the files are read as YAML, and `docker compose config`
(interpolation, merge of the overlay, the Compose specification) runs where the compose
plugin is installed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest
import yaml

from maritimeiq.config import PROJECT_ROOT

BASE = PROJECT_ROOT / "docker-compose.yaml"
SCALE = PROJECT_ROOT / "docker-compose.scale.yaml"
IMAGE_ROOT = "/opt/maritimeiq"  # the Dockerfile's WORKDIR, where PROJECT_ROOT is in the image
SECRETS = (
    "POSTGRES_PASSWORD",
    "AIRFLOW_JWT_SECRET",
    "AIRFLOW_API_SECRET_KEY",
    "AIRFLOW_FERNET_KEY",
    "AIRFLOW_ADMIN_PASSWORD",
    "GRAFANA_ADMIN_PASSWORD",
)
SPARK_DRIVERS = ("bronze-worker", "airflow-scheduler")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(BASE.read_text())


@pytest.fixture(scope="module")
def scale():
    return yaml.safe_load(SCALE.read_text())


def test_platform_services_are_declared(compose):
    assert {
        "kafka",
        "postgres",
        "airflow-init",
        "airflow-api-server",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "mlflow",
        "spark-master",
        "spark-worker",
        "bronze-worker",
        "prometheus",
        "grafana",
    } <= set(compose["services"])


@pytest.mark.parametrize("path", [BASE, SCALE], ids=["base", "scale"])
def test_every_dependency_waits_on_a_condition_backed_by_a_healthcheck(compose, path):
    declared = yaml.safe_load(path.read_text())["services"]
    # A dependency's healthcheck may come from either file of base + overlay.
    merged = {
        **compose["services"],
        **{name: compose["services"].get(name, {}) | service for name, service in declared.items()},
    }
    for name, service in declared.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in merged, f"{name} depends on unknown {dependency}"
            condition = rule["condition"]
            assert condition in {"service_healthy", "service_completed_successfully"}, name
            if condition == "service_healthy":
                assert "healthcheck" in merged[dependency], f"{dependency} needs a healthcheck"


def test_every_long_running_service_has_a_healthcheck(compose, scale):
    one_shot = {
        dependency
        for service in compose["services"].values()
        for dependency, rule in service.get("depends_on", {}).items()
        if rule["condition"] == "service_completed_successfully"
    }
    assert one_shot == {"kafka-topics", "airflow-init"}
    added_by_overlay = {name: s for name, s in scale["services"].items() if name not in compose["services"]}
    assert set(added_by_overlay) == {"kafka-2", "kafka-3", "redis", "airflow-worker"}
    for name, service in {**compose["services"], **added_by_overlay}.items():
        if name not in one_shot:
            assert "healthcheck" in service, f"{name} runs for good and needs a healthcheck"


def test_no_secret_is_written_into_the_file():
    for path in (BASE, SCALE):
        text = path.read_text()
        for key in (
            "POSTGRES_PASSWORD",
            "AIRFLOW__CORE__FERNET_KEY",
            "AIRFLOW__API_AUTH__JWT_SECRET",
            "AIRFLOW__API__SECRET_KEY",
            "GF_SECURITY_ADMIN_PASSWORD",
        ):
            for value in re.findall(rf"{key}: (.+)", text):
                assert value.startswith("${"), f"{path.name}: {key} must come from the environment, found {value}"
        credentials = re.findall(r"postgresql\S*?://([^@\n]+)@", text)
        assert credentials, path.name
        for userinfo in credentials:
            assert userinfo.startswith("airflow:${POSTGRES_PASSWORD:?"), f"{path.name}: password in {userinfo}"
    assert "${AIRFLOW_ADMIN_PASSWORD:?" in BASE.read_text()


def test_airflow_masks_secrets_with_the_runtime_library_s_adapter(compose):
    """Airflow imports the adapter by name in every container: it must live in the runtime
    library the image installs, and mask the percent-encoded forms Connection URIs carry."""
    import importlib

    from maritimeiq.secret_masking import url_encoded_forms

    module, _, name = compose["x-airflow-common"]["environment"]["AIRFLOW__LOGGING__SECRET_MASK_ADAPTER"].rpartition(
        "."
    )
    assert module.startswith("maritimeiq.")
    assert getattr(importlib.import_module(module), name) is url_encoded_forms
    assert url_encoded_forms("p@ss word/") == ["p%40ss%20word%2F", "p%40ss+word%2F"]


def test_airflow_and_mlflow_use_separate_databases(compose):
    airflow_db = compose["x-airflow-common"]["environment"]["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    mlflow_backend = next(a for a in compose["services"]["mlflow"]["command"] if a.startswith("--backend-store-uri"))
    assert airflow_db.rsplit("/", 1)[1] == "airflow"
    assert mlflow_backend.rsplit("/", 1)[1] == "mlflow"


def test_spark_jobs_and_bronze_worker_run_on_the_standalone_master(compose):
    services = compose["services"]
    master = services["spark-master"]["command"]
    url = f"spark://{master[master.index('--host') + 1]}:{master[master.index('--port') + 1]}"
    assert url == "spark://spark-master:7077"
    assert services["spark-worker"]["command"][-1] == url
    for name in SPARK_DRIVERS:
        assert services[name]["environment"]["MARITIME__SPARK__MASTER"] == f"${{SPARK_MASTER:-{url}}}"
        # Executors connect back to the driver by its service name.
        assert services[name]["environment"]["SPARK_LOCAL_HOSTNAME"] == name
    # Airflow's spark-submit takes the master from the spark_default Connection.
    connection = json.loads(compose["x-airflow-common"]["environment"]["AIRFLOW_CONN_SPARK_DEFAULT"])
    assert connection["host"] == f"${{SPARK_MASTER:-{url}}}"
    assert services["spark-worker"]["depends_on"]["spark-master"]["condition"] == "service_healthy"
    assert services["bronze-worker"]["depends_on"]["spark-worker"]["condition"] == "service_healthy"


def test_drivers_and_executors_see_the_lake_at_the_same_path(compose):
    services = compose["services"]
    lake_root = services["bronze-worker"]["environment"]["MARITIME__LAKE__ROOT"]
    checkpoints = services["bronze-worker"]["environment"]["MARITIME__LAKE__CHECKPOINT_ROOT"]
    for name in (*SPARK_DRIVERS, "spark-worker"):
        mounts = dict(volume.split(":")[:2] for volume in services[name]["volumes"])
        assert "lake" in mounts, f"{name} lacks the lake volume"
        assert lake_root.startswith(mounts["lake"] + "/") and checkpoints.startswith(mounts["lake"] + "/"), name


def test_project_images_are_built_from_the_repository(compose, scale):
    for services in (compose["services"], scale["services"]):
        for name, service in services.items():
            if str(service.get("image", "")).startswith("maritimeiq:"):
                build = service["build"]
                assert (build if isinstance(build, str) else build["context"]) == ".", name


def test_dockerfile_bakes_the_maven_jars_where_the_platform_looks_for_them():
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \S+(?: AS (\w+))?$", dockerfile, flags=re.M)
    assert stages[0] == "jars" and len(stages) == 2
    assert re.search(r"^COPY jvm/ jvm/$", dockerfile, flags=re.M)
    assert re.search(r"^RUN cd jvm && mvn .*package$", dockerfile, flags=re.M)
    # jvm/pom.xml copies to <jvm>/../var/jars; the runtime image holds them in <WORKDIR>/var/jars.
    assert re.search(r"^WORKDIR /build$", dockerfile, flags=re.M)
    assert re.search(r"^COPY --from=jars /build/var/jars var/jars$", dockerfile, flags=re.M)
    assert re.search(rf"^WORKDIR {IMAGE_ROOT}$", dockerfile, flags=re.M)
    ignored = (PROJECT_ROOT / ".dockerignore").read_text().split()
    assert {"var", ".venv", ".env", "conf/platform.local.yaml"} <= set(ignored)


def test_scale_overlay_runs_three_kafka_nodes_in_one_quorum(scale):
    anchors = scale["x-kafka-env"]
    voters = anchors["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")
    nodes = {"kafka": 1, "kafka-2": 2, "kafka-3": 3}
    assert voters == [f"{node_id}@{name}:9093" for name, node_id in nodes.items()]
    for name, node_id in nodes.items():
        environment = scale["services"][name]["environment"]
        assert environment["KAFKA_NODE_ID"] == node_id
        assert environment["CLUSTER_ID"] == anchors["CLUSTER_ID"]
    assert anchors["KAFKA_MIN_INSYNC_REPLICAS"] == 2 < anchors["KAFKA_DEFAULT_REPLICATION_FACTOR"] == 3
    assert anchors["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == 2
    host_ports = [scale["services"][name]["ports"][0] for name in ("kafka-2", "kafka-3")]
    assert host_ports == ["29093:29093", "29094:29094"]


def test_scale_overlay_points_the_platform_at_the_three_brokers(scale):
    from maritimeiq.config import load_config

    platform = scale["x-platform-env"]
    example = PROJECT_ROOT / platform["MARITIME_CONFIG"].removeprefix(IMAGE_ROOT + "/")
    config = load_config(environ={"MARITIME_CONFIG": str(example)})
    assert platform["MARITIME__KAFKA__BOOTSTRAP_SERVERS"] == config.kafka.bootstrap_servers
    assert config.kafka.bootstrap_servers.split(",") == [f"{n}:9092" for n in ("kafka", "kafka-2", "kafka-3")]
    for name in ("kafka-topics", "bronze-worker"):
        assert scale["services"][name]["environment"] == platform


def test_scale_overlay_runs_airflow_on_celery(scale):
    celery = scale["x-airflow-celery"]
    assert celery["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert celery["environment"]["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0"
    assert celery["environment"]["AIRFLOW__CELERY__RESULT_BACKEND"].endswith("@postgres:5432/airflow")
    # The executor's provider comes from the lock, so the platform image serves as is.
    locked = (PROJECT_ROOT / "requirements.txt").read_text().splitlines()
    assert any(line.startswith("apache-airflow-providers-celery==") for line in locked)
    services = scale["services"]
    for name in (
        "airflow-init",
        "airflow-api-server",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "airflow-worker",
    ):
        assert services[name]["image"] == "maritimeiq:latest", name
        assert services[name]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
    worker = services["airflow-worker"]
    assert worker["command"] == ["airflow", "celery", "worker"]
    assert worker["environment"]["SPARK_LOCAL_HOSTNAME"] == "airflow-worker"
    assert worker["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["spark-worker"]["deploy"]["replicas"] == 2


# -- docker compose config, where the compose plugin is installed ----------------------------


def _compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0


needs_compose = pytest.mark.skipif(not _compose_available(), reason="the docker compose plugin is not installed")


def _compose_config(files, tmp_path, secrets: bool):
    env_file = tmp_path / "compose.env"  # stands in for a developer's .env, which must not leak in
    env_file.write_text("".join(f"{key}=test-{key.lower()}\n" for key in SECRETS) if secrets else "")
    command = ["docker", "compose", "--project-directory", str(PROJECT_ROOT), "--env-file", str(env_file)]
    for path in files:
        command += ["-f", str(path)]
    environment = {key: value for key, value in os.environ.items() if key not in SECRETS}
    return subprocess.run(
        [*command, "config", "--format", "json"], capture_output=True, text=True, env=environment, timeout=60
    )


@needs_compose
def test_compose_config_accepts_the_stack(tmp_path):
    result = _compose_config([BASE], tmp_path, secrets=True)
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    assert services["bronze-worker"]["environment"]["MARITIME__SPARK__MASTER"] == "spark://spark-master:7077"
    assert services["airflow-scheduler"]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"


@needs_compose
def test_compose_config_refuses_to_start_without_secrets(tmp_path):
    result = _compose_config([BASE], tmp_path, secrets=False)
    assert result.returncode != 0
    # Compose names the first missing variable it meets; the order is not fixed.
    assert re.search(rf"set ({'|'.join(SECRETS)})", result.stderr), result.stderr


@needs_compose
def test_compose_config_merges_the_scale_overlay(tmp_path):
    result = _compose_config([BASE, SCALE], tmp_path, secrets=True)
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    assert {"kafka-2", "kafka-3", "redis", "airflow-worker"} <= set(services)
    assert services["kafka"]["environment"]["KAFKA_CONTROLLER_QUORUM_VOTERS"].count("@") == 3
    # The base's single-node settings are overridden, not kept beside the new ones.
    assert services["kafka"]["environment"]["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3"
    for name in ("airflow-scheduler", "airflow-worker", "airflow-api-server"):
        assert services[name]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    worker = services["airflow-worker"]
    assert {v["target"] for v in worker["volumes"]} == {"/data", "/opt/airflow"}
    assert worker["environment"]["MARITIME__SPARK__MASTER"] == "spark://spark-master:7077"
    assert services["bronze-worker"]["environment"]["MARITIME__KAFKA__BOOTSTRAP_SERVERS"] == (
        "kafka:9092,kafka-2:9092,kafka-3:9092"
    )
    assert services["spark-worker"]["deploy"]["replicas"] == 2
