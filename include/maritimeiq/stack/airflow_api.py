"""Minimal client of the Airflow 3 REST API (``/api/v2``) for the stack's own use:
log in, unpause and trigger a DAG, follow its run."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

TERMINAL_STATES = {"success", "failed"}


class AirflowApiError(RuntimeError):
    pass


class AirflowClient:
    def __init__(self, base_url: str, username: str, password: str, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._token = self._login(username, password)

    def _login(self, username: str, password: str) -> str:
        body = self._send("POST", "/auth/token", {"username": username, "password": password}, auth=False)
        return body["access_token"]

    def _send(self, method: str, path: str, payload: dict | None = None, *, auth: bool = True) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if auth:
            request.add_header("Authorization", f"Bearer {self._token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:2000]
            raise AirflowApiError(f"{method} {path}: HTTP {exc.code}: {detail}") from exc
        return json.loads(raw) if raw else None

    def get(self, path: str) -> Any:
        return self._send("GET", path)

    def dag(self, dag_id: str) -> dict:
        return self.get(f"/api/v2/dags/{dag_id}")

    def import_errors(self) -> list[dict]:
        return self.get("/api/v2/importErrors")["import_errors"]

    def wait_for_dag(self, dag_id: str, timeout: float = 180.0) -> dict:
        """Wait until the dag-processor has parsed ``dag_id`` into the metadata DB."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.dag(dag_id)
            except AirflowApiError as exc:
                if "HTTP 404" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(2)

    def unpause(self, dag_id: str) -> None:
        self._send("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})

    def trigger(self, dag_id: str, run_id: str, logical_date: str, conf: dict | None = None,
                data_interval: tuple[str, str] | None = None) -> dict:
        """Create the run, or return the existing one with the same id (reruns are safe).
        Without `data_interval` the DAG's timetable infers it from the logical date."""
        try:
            return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}")
        except AirflowApiError as exc:
            if "HTTP 404" not in str(exc):
                raise
        return self._send(
            "POST",
            f"/api/v2/dags/{dag_id}/dagRuns",
            {"dag_run_id": run_id, "logical_date": logical_date, "conf": conf or {},
             **({"data_interval_start": data_interval[0], "data_interval_end": data_interval[1]}
                if data_interval else {})},
        )

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 900.0, progress=None) -> dict:
        deadline = time.monotonic() + timeout
        quoted = urllib.parse.quote(run_id, safe="")
        last_state = None
        while time.monotonic() < deadline:
            run = self.get(f"/api/v2/dags/{dag_id}/dagRuns/{quoted}")
            if progress and run["state"] != last_state:
                progress(f"{dag_id} {run_id}: {run['state']}")
                last_state = run["state"]
            if run["state"] in TERMINAL_STATES:
                return run
            time.sleep(3)
        raise TimeoutError(f"{dag_id} run {run_id} not finished after {timeout:.0f}s")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        quoted = urllib.parse.quote(run_id, safe="")
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{quoted}/taskInstances")["task_instances"]
