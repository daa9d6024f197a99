"""Secrets stay out of Airflow task logs; Connections stay out of the metadata DB.

A task reads Connections defined only as ``AIRFLOW_CONN_*`` variables (one of its own,
the platform's ``mlflow_default`` with credentials and ``alert_webhook``) and Variables
from ``AIRFLOW_VAR_*``, then logs and prints them every careless way. It runs the way the
scheduler runs it: LocalExecutor, a supervised task process and the Execution API of a
real ``airflow api-server`` on a free port, in the isolated home of ``airflow_home``.
(Without ``--use-executor``, ``airflow dags test`` runs the task in-process, where
nothing is masked, so it would not tell what a deployed task log holds.)
"""

from __future__ import annotations

import json
import secrets
import subprocess
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from tests.integration.conftest import AIRFLOW
from tests.integration.servers import answers_ok, free_port, run_or_dump, running_server

pytestmark = pytest.mark.integration

DAG_ID = "secret_probe"
TASK_ID = "log_secrets"
PROBE_DAG = f'''
import logging
from datetime import datetime

from airflow.sdk import BaseHook, Variable, dag, task


@dag(dag_id="{DAG_ID}", schedule=None, start_date=datetime(2026, 1, 1), catchup=False)
def probe():
    @task(task_id="{TASK_ID}")
    def log_secrets():
        from maritimeiq.alerting import webhook_url
        from maritimeiq.operators import mlflow_environment

        log = logging.getLogger("secret_probe")
        connection = BaseHook.get_connection("probe_api")
        log.info("password %s", connection.password)
        log.info("in a longer string: token=%s;", connection.password)
        log.info("uri %s", connection.get_uri())
        print("printed", connection.password)
        log.info("secret variable %s", Variable.get("probe_secret_token"))
        log.info("plain variable %s", Variable.get("probe_region"))
        log.info("mlflow env %s", mlflow_environment("mlflow_default"))
        log.info("webhook %s", webhook_url())

    log_secrets()


probe()
'''


def test_secrets_from_the_environment_are_masked_in_task_logs_and_never_stored(airflow_home, tmp_path):
    config, env = airflow_home
    # Characters that percent-encode, so that the URI form of the password differs from it.
    password = f"{secrets.token_urlsafe(12)}/+@ {secrets.token_hex(4)}"
    secret_variable = secrets.token_urlsafe(16)
    mlflow_password = secrets.token_urlsafe(16)
    webhook = f"https://hooks.example.org/services/{secrets.token_urlsafe(24)}"
    region = "north-sea-7"

    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / f"{DAG_ID}.py").write_text(PROBE_DAG)
    api = f"http://127.0.0.1:{free_port()}"
    env = {k: v for k, v in env.items() if k != "MARITIME_ALERT_WEBHOOK_URL"}
    env.update(
        {
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__API__PORT": api.rsplit(":", 1)[1],
            "AIRFLOW__API__BASE_URL": api,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api}/execution/",
            "AIRFLOW_CONN_PROBE_API": json.dumps(
                {
                    "conn_type": "http",
                    "host": "api.example.org",
                    "schema": "https",
                    "login": "probe",
                    "password": password,
                }
            ),
            "AIRFLOW_CONN_MLFLOW_DEFAULT": json.dumps(
                {
                    "conn_type": "http",
                    "host": "http://127.0.0.1:5999",
                    "login": "airflow-jobs",
                    "password": mlflow_password,
                }
            ),
            "AIRFLOW_CONN_ALERT_WEBHOOK": json.dumps({"conn_type": "http", "extra": {"url": webhook}}),
            "AIRFLOW_VAR_PROBE_SECRET_TOKEN": secret_variable,
            "AIRFLOW_VAR_PROBE_REGION": region,
            # One LocalExecutor worker. With several, `LocalExecutor.end()` (Airflow 3.3) races:
            # it sends one stop message per worker it still finds alive, so a worker that takes
            # one and exits while it counts leaves another waiting forever, and `dags test`
            # hangs after the run succeeded (reproduced here under load; the stack's scheduler
            # is SIGKILLed by `maritime down` after 45 s if its shutdown hangs the same way).
            "AIRFLOW__CORE__PARALLELISM": "1",
        }
    )

    api_log = tmp_path / "api-server.log"
    with running_server(
        [AIRFLOW, "api-server"],
        env,
        api_log,
        lambda: answers_ok(f"{api}/api/v2/monitor/health"),
        "airflow api-server",
        timeout_s=120,
    ):
        run = run_or_dump(
            [AIRFLOW, "dags", "test", "--use-executor", DAG_ID, "2026-01-02T00:00:00+00:00"],
            env,
            timeout_s=240,
            logs=(api_log,),
        )
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]

    task_logs = sorted(
        (Path(config.airflow.home) / "logs" / f"dag_id={DAG_ID}").glob(f"run_id=*/task_id={TASK_ID}/attempt=*.log")
    )
    assert len(task_logs) == 1, task_logs
    text = task_logs[0].read_text()
    events = [json.loads(line).get("event") for line in text.splitlines() if line.startswith("{")]
    # What the UI shows: every secret replaced by ***, other values left readable.
    assert "password ***" in events
    assert "in a longer string: token=***;" in events
    assert "uri http://probe:***@api.example.org/https" in events
    assert "printed ***" in events
    assert "secret variable ***" in events
    assert f"plain variable {region}" in events
    expected_mlflow = {
        "MLFLOW_TRACKING_URI": "http://127.0.0.1:5999",
        "MLFLOW_TRACKING_USERNAME": "airflow-jobs",
        "MLFLOW_TRACKING_PASSWORD": "***",
    }
    assert f"mlflow env {expected_mlflow}" in events
    assert "webhook ***" in events
    for secret in (
        password,
        quote(password, safe=""),
        quote_plus(password, safe=""),
        secret_variable,
        mlflow_password,
        webhook,
    ):
        assert secret not in text

    # The Connections lived in the environment only: the metadata DB holds none.
    listed = subprocess.run(
        [AIRFLOW, "connections", "list", "--output", "json"], env=env, capture_output=True, text=True, timeout=120
    )
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert json.loads(listed.stdout) == []
