"""Airflow 3 components run one by one (not `airflow standalone`, which orphans its
children on SIGTERM): api-server, scheduler, dag-processor and triggerer.

Secrets (JWT secret, API secret key, Fernet key, the admin password) are generated
once into ``var/airflow/secrets.env`` and ``var/airflow/passwords.json`` (mode 600,
git-ignored) and never committed. Connections come only from ``AIRFLOW_CONN_*``
variables (or a secrets backend in production), never from the metadata DB.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from maritime_stack import VENV_BIN
from maritime_stack import mlflow as mlflow_stack
from maritime_stack import postgres as postgres_stack
from maritime_stack.airflow_api import AirflowClient
from maritimeiq.config import PROJECT_ROOT, PlatformConfig
from maritimeiq.process import ManagedProcess, wait_until
from maritimeiq.secret_masking import url_encoded_forms

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
PROCESSES = {name: ManagedProcess(f"airflow-{name}") for name in COMPONENTS}


def _home(config: PlatformConfig) -> Path:
    return Path(config.airflow.home)


def secrets_file(config: PlatformConfig) -> Path:
    return _home(config) / "secrets.env"


def passwords_file(config: PlatformConfig) -> Path:
    return _home(config) / "passwords.json"


def ensure_secrets(config: PlatformConfig) -> dict[str, str]:
    """Generate the local stack's secrets on first use; reuse them afterwards."""
    from cryptography.fernet import Fernet

    path = secrets_file(config)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        values = {
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(48),
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
        }
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.writelines(f"{key}={value}\n" for key, value in values.items())
    pw_path = passwords_file(config)
    if not pw_path.exists():
        fd = os.open(pw_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({config.airflow.admin_user: secrets.token_urlsafe(12)}, handle)
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))


def admin_password(config: PlatformConfig) -> str:
    return json.loads(passwords_file(config).read_text())[config.airflow.admin_user]


def connections(config: PlatformConfig) -> dict[str, str]:
    """Airflow Connections as AIRFLOW_CONN_* variables, built from platform config."""
    spark_master = config.spark.master
    spark = {
        "conn_type": "spark",
        "host": spark_master,
        "extra": {"deploy-mode": "client", "spark-binary": "spark-submit"},
    }
    kafka = {"conn_type": "kafka", "extra": config.kafka.client_config()}
    mlflow = {"conn_type": "http", "host": config.mlflow.tracking_uri}
    if config.mlflow.auth:
        # The DAGs' MLflow jobs log in as the local server's admin (docs/SECURITY.md).
        mlflow.update(login=mlflow_stack.ADMIN_USER, password=mlflow_stack.admin_password())
    serving = {"conn_type": "generic", "host": config.serving.database_url}
    return {
        "AIRFLOW_CONN_SPARK_DEFAULT": json.dumps(spark),
        "AIRFLOW_CONN_KAFKA_DEFAULT": json.dumps(kafka),
        "AIRFLOW_CONN_MLFLOW_DEFAULT": json.dumps(mlflow),
        "AIRFLOW_CONN_SERVING_DB": json.dumps(serving),
    }


def airflow_env(config: PlatformConfig, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment shared by every Airflow component, the CLI wrapper and the tests."""
    env = dict(os.environ if base is None else base)
    home = _home(config)
    env.update(ensure_secrets(config))
    env.update(connections(config))
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            # Two cores: a handful of concurrent tasks, one Spark job at a time per DAG.
            "AIRFLOW__CORE__PARALLELISM": str(config.airflow.parallelism),
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": str(config.airflow.parallelism),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{config.airflow.admin_user}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file(config)),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{config.airflow.api_url}/execution/",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_database_url(config),
            "AIRFLOW__API__HOST": config.airflow.api_host,
            "AIRFLOW__API__PORT": str(config.airflow.api_port),
            "AIRFLOW__API__BASE_URL": config.airflow.api_url,
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            # A task parses its own DAG file at start-up within the import timeout; on two
            # cores shared with Spark drivers a 30 s default can run out and the task then
            # fails as "Dag not found during start up". DAG files import in well under a
            # second (bench/dag_import.py); the headroom is for a saturated machine.
            "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
            "AIRFLOW__DAG_PROCESSOR__DAG_FILE_PROCESSOR_TIMEOUT": "180",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            # Task logs mask Connection passwords and extras, and the values of Variables and
            # extra keys named like a secret; `url` adds the alert webhook's URL, which is
            # its credential. Masking and a hidden config are Airflow's defaults, stated here
            # so that an airflow.cfg edit cannot turn them off.
            "AIRFLOW__CORE__HIDE_SENSITIVE_VAR_CONN_FIELDS": "True",
            "AIRFLOW__CORE__SENSITIVE_VAR_CONN_NAMES": "url",
            "AIRFLOW__LOGGING__SECRET_MASK_ADAPTER": f"{url_encoded_forms.__module__}.{url_encoded_forms.__name__}",
            "AIRFLOW__API__EXPOSE_CONFIG": "False",
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    return env


def metadata_database_url(config: PlatformConfig) -> str:
    """Airflow's metadata database: a URL of the user's own, the stack's PostgreSQL, or
    SQLite in the Airflow home."""
    if config.airflow.database_url:
        return config.airflow.database_url
    if config.airflow.uses_local_postgres:
        return postgres_stack.url(config, "airflow")
    return f"sqlite:///{_home(config) / 'airflow.db'}"


def api_client(config: PlatformConfig) -> AirflowClient:
    """REST client of the local Airflow, logged in as its admin."""
    return AirflowClient(config.airflow.api_url, config.airflow.admin_user, admin_password(config))


def env_script(config: PlatformConfig) -> str:
    """Shell exports so `airflow ...` in a terminal talks to the local stack."""
    env = airflow_env(config, base={})
    lines = ["# Generated by `maritime up`: source it to use the airflow CLI on the local stack."]
    lines += [f"export {key}={shlex.quote(value)}" for key, value in sorted(env.items()) if key != "PATH"]
    lines.append(f'export PATH={shlex.quote(str(VENV_BIN))}:"$PATH"')
    return "\n".join(lines) + "\n"


def migrate(config: PlatformConfig) -> None:
    env = airflow_env(config)
    _home(config).mkdir(parents=True, exist_ok=True)
    _write_private(PROJECT_ROOT / "var" / "env.sh", env_script(config))
    result = subprocess.run([str(VENV_BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read: env.sh carries the JWT secret, the Fernet key
    and the Connections, passwords included."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its old mode through O_CREAT
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def start(config: PlatformConfig) -> None:
    migrate(config)
    env = airflow_env(config)
    for name, process in PROCESSES.items():
        process.start([str(VENV_BIN / "airflow"), name], env)
    wait_until(
        lambda: health(config) is not None, timeout=180, what="Airflow API server", process=PROCESSES["api-server"]
    )
    wait_until(
        lambda: _scheduler_healthy(config), timeout=120, what="Airflow scheduler", process=PROCESSES["scheduler"]
    )


def stop() -> list[str]:
    # Scheduler first so it hands no new work to executors while the rest stops.
    order = ["scheduler", "triggerer", "dag-processor", "api-server"]
    return [name for name in order if PROCESSES[name].stop(timeout=45)]


def health(config: PlatformConfig) -> dict | None:
    try:
        with urllib.request.urlopen(f"{config.airflow.api_url}/api/v2/monitor/health", timeout=5) as resp:
            return json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _scheduler_healthy(config: PlatformConfig) -> bool:
    status = health(config)
    return bool(status) and status.get("scheduler", {}).get("status") == "healthy"
