"""A task failing under Airflow reaches the webhook through the platform's failure
callback; a second failure within the de-duplication window does not."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from maritime_stack.airflow import airflow_env
from maritimeiq.config import load_config

pytestmark = pytest.mark.integration
AIRFLOW = str(Path(sys.executable).parent / "airflow")

FAILING_DAG = '''
"""Fails on purpose: the alert delivery test."""
from datetime import datetime

from airflow.sdk import task

from maritimeiq.dag_factory import maritime_dag


@maritime_dag(schedule=None, start_date=datetime(2026, 11, 1), doc_md=__doc__, tags=["test"], retries=0)
def alert_delivery_probe():
    @task
    def explode():
        raise RuntimeError("probe failure 7f3a")

    explode()


alert_delivery_probe()
'''


@pytest.fixture
def webhook():
    """A local HTTP receiver on a free port; yields (url, queue of received JSON bodies)."""
    received: queue.Queue = queue.Queue()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            received.put(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()
    server.server_close()


@pytest.fixture
def airflow_home(tmp_path, webhook):
    """Isolated Airflow home and DAGs folder holding only the failing DAG; alerts to the receiver."""
    import os

    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "alert_delivery_probe.py").write_text(textwrap.dedent(FAILING_DAG))
    overrides = {
        "MARITIME__AIRFLOW__HOME": str(tmp_path / "airflow"),
        # `airflow dags test` is the one writer of this home's metadata: SQLite serves it.
        "MARITIME__AIRFLOW__DATABASE": "sqlite",
        "MARITIME__LAKE__ROOT": str(tmp_path / "lake"),
        "MARITIME__ALERTING__DEDUPE_WINDOW_MINUTES": "30",
        "MARITIME__ALERTING__STATE_PATH": str(tmp_path / "alerts.sqlite"),
        "MARITIME__ALERTING__CHANNELS__WEBHOOK__ENABLED": "true",
        "MARITIME__ALERTING__CHANNELS__WEBHOOK__TIMEOUT_SECONDS": "5",
        "MARITIME__ALERTING__CHANNELS__KAFKA__ENABLED": "false",
    }
    config = load_config(environ=overrides)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "MARITIME"))}
    env = airflow_env(config, base={**base, **overrides})
    env.update({"AIRFLOW__CORE__DAGS_FOLDER": str(dags), "MARITIME_ALERT_WEBHOOK_URL": webhook[0]})
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    return env


def _dags_test(env, logical_date: str) -> str:
    run = subprocess.run(
        [AIRFLOW, "dags", "test", "alert_delivery_probe", logical_date],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return run.stdout + run.stderr


def test_failure_reaches_the_webhook_once_per_window(airflow_home, webhook):
    _, received = webhook
    output = _dags_test(airflow_home, "2026-11-01")
    assert "probe failure 7f3a" in output, output[-4000:]
    try:
        body = received.get(timeout=60)
    except queue.Empty:
        pytest.fail("no alert reached the webhook within 60 s:\n" + output[-4000:])
    text = body["text"]
    assert text.startswith("[P1] Task failed: alert_delivery_probe.explode")
    assert "exception: RuntimeError: probe failure 7f3a" in text
    assert "log: http" in text and "alert_delivery_probe" in text.split("log: ", 1)[1]
    assert body["blocks"][0]["text"]["text"] == text

    output = _dags_test(airflow_home, "2026-11-02")  # same condition, a new run: within the window
    assert "probe failure 7f3a" in output, output[-4000:]
    with pytest.raises(queue.Empty):
        received.get(timeout=5)
    assert "alert suppressed" in output
