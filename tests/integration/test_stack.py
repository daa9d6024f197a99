"""The local stack as a user meets it: `maritime up`, a locked-down Airflow API, MLflow,
and `maritime down` leaving no process behind. Runs last (see conftest)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from maritime_stack import airflow as airflow_stack
from maritime_stack import postgres as postgres_stack
from maritime_stack.airflow_api import ACTIVE_STATES, AirflowClient
from maritimeiq.config import PROJECT_ROOT

pytestmark = [pytest.mark.integration, pytest.mark.stack_lifecycle]
MARITIME = str(Path(sys.executable).parent / "maritime")


def _status_code(url: str, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _own_descendants() -> set[int]:
    """This test process and what it forked (the suite's Spark JVM names var/jars too)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
    own = {os.getpid()}
    grew = True
    while grew:
        children = {pid for pid, ppid in parents.items() if ppid in own} - own
        own |= children
        grew = bool(children)
    return own


def _stack_processes() -> list[str]:
    """Command lines of live processes that belong to this checkout's stack."""
    own = _own_descendants()
    markers = (
        str(PROJECT_ROOT / "var"),
        str(PROJECT_ROOT / ".venv" / "bin" / "airflow"),
        str(PROJECT_ROOT / ".venv" / "bin" / "mlflow"),
    )
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in own:
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if state != "Z" and any(marker in cmdline for marker in markers):
            found.append(f"{entry.name}: {cmdline[:200]}")
    return found


def _bronze_lands_and_commits(config) -> None:
    """Alerts produced now reach Bronze: the worker's group offsets and metrics show them."""
    from confluent_kafka import Consumer, TopicPartition

    from maritime_streaming.producer import KafkaSink
    from maritimeiq.events import make_event

    sink = KafkaSink(config.kafka)
    for n in range(5):
        sink.event(
            make_event(
                "alert", "test", datetime.now(UTC), alert_id=f"stack-test-{n}", severity="P3", title="stack test"
            )
        )
    assert sink.close()["delivered"]["maritime.alerts"] == 5
    consumer = Consumer(config.kafka.client_config(**{"group.id": config.bronze.consumer_group}))
    try:
        partitions = consumer.list_topics("maritime.alerts", timeout=10).topics["maritime.alerts"].partitions
        ends = {
            p: consumer.get_watermark_offsets(TopicPartition("maritime.alerts", p), timeout=10)[1] for p in partitions
        }
        filled = [TopicPartition("maritime.alerts", p) for p, end in ends.items() if end > 0]
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            committed = {tp.partition: tp.offset for tp in consumer.committed(filled, timeout=10)}
            if all(committed[p.partition] == ends[p.partition] for p in filled):
                break
            time.sleep(3)
        else:
            raise AssertionError(f"bronze worker did not commit {ends}, committed {committed}")
    finally:
        consumer.close()
    with urllib.request.urlopen(f"http://127.0.0.1:{config.bronze.metrics_port}/metrics", timeout=10) as resp:
        metrics = resp.read().decode()
    assert 'bronze_rows_total{topic="maritime.alerts"}' in metrics


ARTIFACTS = PROJECT_ROOT / "var" / "test-artifacts"


def _browser(download_dir: Path):
    """Debian's headless Chromium driven by its chromedriver; no downloaded browsers."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1440,900",
        f"--user-data-dir={download_dir}",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def _ui_shows_dags_and_a_successful_run(config, client: AirflowClient, run_id: str, tmp_path: Path) -> None:
    """Log in through the UI, see every DAG listed, open a run that succeeded; screenshots
    of each step land in var/test-artifacts."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    dag_ids = sorted(p.stem for p in (PROJECT_ROOT / "dags").glob("*.py") if not p.name.startswith("_"))
    browser = _browser(tmp_path / "chromium")
    wait = WebDriverWait(browser, 60)
    try:
        browser.get(config.airflow.api_url)
        wait.until(ready.presence_of_element_located((By.NAME, "username"))).send_keys(config.airflow.admin_user)
        password = browser.find_element(By.NAME, "password")
        password.send_keys(airflow_stack.admin_password(config))
        browser.save_screenshot(str(ARTIFACTS / "01-login.png"))
        password.send_keys(Keys.ENTER)
        wait.until(lambda b: "/auth/login" not in b.current_url and "login" not in b.title.lower())

        browser.get(f"{config.airflow.api_url}/dags")
        wait.until(lambda b: all(dag_id in b.page_source for dag_id in dag_ids))
        assert "Import Error" not in browser.page_source
        browser.save_screenshot(str(ARTIFACTS / "02-dags.png"))

        browser.get(f"{config.airflow.api_url}/dags/reference_data/runs/{run_id}")
        wait.until(lambda b: run_id in b.page_source and "success" in b.page_source.lower())
        browser.save_screenshot(str(ARTIFACTS / "03-successful-run.png"))
    finally:
        browser.quit()


def _cli_backfill_beside_the_scheduler(config, client: AirflowClient) -> None:
    """`airflow backfill create` from the CLI while the scheduler, dag-processor and API
    server write the same metadata database: it exits 0 and says what it created, a second
    one for the same DAG is refused by name, and every backfill run succeeds."""
    env = airflow_stack.airflow_env(config)
    # reference_data is @weekly: the Sundays 8 and 15 November 2026.
    command = [
        str(Path(sys.executable).parent / "airflow"),
        "backfill",
        "create",
        "--dag-id",
        "reference_data",
        "--from-date",
        "2026-11-02T00:00:00",
        "--to-date",
        "2026-11-15T00:00:00",
        "--max-active-runs",
        "1",
        # Runs from an earlier stack of this checkout are queued again under this backfill.
        "--reprocess-behavior",
        "completed",
    ]
    # A backfill an interrupted earlier run of this test left unfinished would refuse ours.
    for leftover in client.backfills("reference_data"):
        if not leftover["completed_at"]:
            client.cancel_backfill(leftover["id"])
    created = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    output = created.stdout + created.stderr
    assert created.returncode == 0, output[-3000:]
    assert "database is locked" not in output
    announced = re.findall(r"Created backfill Dag run.*?logical_date=DateTime\((\d+), (\d+), (\d+)", output)
    assert sorted(tuple(map(int, day)) for day in announced) == [(2026, 11, 8), (2026, 11, 15)], output[-3000:]
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode != 0 and "AlreadyRunningBackfill" in again.stdout + again.stderr, again.stdout[-2000:]

    def backfill_runs() -> list[tuple[str, str]]:
        runs = [r for r in client.runs("reference_data") if r["run_type"] == "backfill"]
        return sorted((r["logical_date"][:10], r["state"]) for r in runs)

    def newest_backfill() -> dict:
        return max(client.backfills("reference_data"), key=lambda b: b["id"])

    deadline = time.monotonic() + 900
    while time.monotonic() < deadline and (
        not newest_backfill()["completed_at"] or any(state in ACTIVE_STATES for _, state in backfill_runs())
    ):
        time.sleep(5)
    assert newest_backfill()["completed_at"], newest_backfill()
    assert backfill_runs() == [("2026-11-08", "success"), ("2026-11-15", "success")]


def test_stack_up_secured_then_down_leaves_nothing(platform_config, tmp_path):
    # This test owns the stack's whole lifecycle; it never passes without having run it.
    assert not airflow_stack.PROCESSES["api-server"].running(), (
        "a stack of this checkout is running: stop it with `make down` before the test suite"
    )

    up = subprocess.run([MARITIME, "up"], capture_output=True, text=True, timeout=600)
    assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
    status = subprocess.run([MARITIME, "status", "--json"], capture_output=True, text=True, timeout=120)
    assert status.returncode == 0, status.stdout
    assert all(component["healthy"] for component in json.loads(status.stdout).values())

    api = platform_config.airflow.api_url
    # Login required: no token, no data; the health endpoint stays open for probes.
    assert _status_code(f"{api}/api/v2/dags") == 401
    assert _status_code(f"{api}/api/v2/monitor/health") == 200
    client = AirflowClient(api, platform_config.airflow.admin_user, airflow_stack.admin_password(platform_config))
    expected = {p.stem for p in (PROJECT_ROOT / "dags").glob("*.py") if not p.name.startswith("_")}
    for dag_id in sorted(expected):  # the dag-processor parses one file at a time
        client.wait_for_dag(dag_id)
    assert client.import_errors() == []
    dag_ids = {dag["dag_id"] for dag in client.get("/api/v2/dags")["dags"]}
    assert expected <= dag_ids
    with pytest.raises(Exception, match="401"):
        AirflowClient(api, platform_config.airflow.admin_user, "wrong-password")

    assert _status_code(f"{platform_config.mlflow.tracking_uri}/health") == 200
    assert (
        _status_code(f"{platform_config.mlflow.tracking_uri}/api/2.0/mlflow/registered-models/search?max_results=1")
        == 200
    )

    _bronze_lands_and_commits(platform_config)

    run_id = f"stack_test__{datetime.now(UTC):%Y%m%dT%H%M%S}"
    client.unpause("reference_data")
    client.trigger("reference_data", run_id, datetime.now(UTC).isoformat())
    assert client.wait_for_run("reference_data", run_id, timeout=600)["state"] == "success"
    _ui_shows_dags_and_a_successful_run(platform_config, client, run_id, tmp_path)
    # Airflow keeps its metadata in the stack's own PostgreSQL, not in SQLite.
    assert not (Path(platform_config.airflow.home) / "airflow.db").exists()
    engine = sa.create_engine(postgres_stack.url(platform_config, "airflow"))
    try:
        with engine.connect() as connection:
            states = connection.execute(
                sa.text("SELECT state FROM dag_run WHERE dag_id = 'reference_data' AND run_id = :run_id"),
                {"run_id": run_id},
            ).scalars()
            assert list(states) == ["success"]
    finally:
        engine.dispose()
    _cli_backfill_beside_the_scheduler(platform_config, client)

    down = subprocess.run([MARITIME, "down"], capture_output=True, text=True, timeout=600)
    assert down.returncode == 0, down.stdout + down.stderr
    assert _stack_processes() == []
    assert not any(
        _port_open(port)
        for port in (
            9092,
            9093,
            platform_config.airflow.api_port,
            platform_config.mlflow.port,
            platform_config.postgres.port,
        )
    )
