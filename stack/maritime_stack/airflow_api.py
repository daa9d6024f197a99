"""Minimal client of the Airflow 3 REST API (``/api/v2``) for the stack's own use:
log in, unpause and trigger a DAG, follow, list and clear its runs."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

TERMINAL_STATES = {"success", "failed"}
ACTIVE_STATES = ("queued", "running")


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

    def run(self, dag_id: str, run_id: str) -> dict:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}")

    def trigger(
        self,
        dag_id: str,
        run_id: str,
        logical_date: str,
        conf: dict | None = None,
        data_interval: tuple[str, str] | None = None,
        run_after: str | None = None,
    ) -> dict:
        """Create the run, or return the existing one with the same id (reruns are safe).
        Without `data_interval` the DAG's timetable infers it from the logical date.
        `run_after` (default: now) orders queued runs: the scheduler starts the earliest first."""
        try:
            return self.run(dag_id, run_id)
        except AirflowApiError as exc:
            if "HTTP 404" not in str(exc):
                raise
        body = {"dag_run_id": run_id, "logical_date": logical_date, "conf": conf or {}}
        if data_interval:
            body.update(data_interval_start=data_interval[0], data_interval_end=data_interval[1])
        if run_after:
            body["run_after"] = run_after
        try:
            return self._send("POST", f"/api/v2/dags/{dag_id}/dagRuns", body)
        except AirflowApiError as exc:
            if "HTTP 409" not in str(exc):  # created meanwhile by another client: the same run
                raise
            return self.run(dag_id, run_id)

    def clear(self, dag_id: str, run_id: str, only_failed: bool = True) -> None:
        """Queue the run's (failed) tasks again; the run goes back to queued."""
        self._send(
            "POST",
            f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}/clear",
            {"dry_run": False, "only_failed": only_failed},
        )

    def runs(self, dag_id: str, states: tuple[str, ...] = ()) -> list[dict]:
        """The DAG's runs (up to 100), optionally only those in `states`."""
        query = urllib.parse.urlencode([("limit", 100), *(("state", s) for s in states)])
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns?{query}")["dag_runs"]

    def backfills(self, dag_id: str) -> list[dict]:
        return self.get(f"/api/v2/backfills?dag_id={urllib.parse.quote(dag_id)}")["backfills"]

    def cancel_backfill(self, backfill_id: int) -> None:
        """Stop a backfill: its runs not yet started are not started."""
        self._send("PUT", f"/api/v2/backfills/{backfill_id}/cancel")

    def wait_until_idle(self, dag_id: str, timeout: float = 1800.0, progress=None) -> None:
        """Wait until no run of the DAG is queued or running."""
        deadline = time.monotonic() + timeout
        reported: set[str] = set()
        while active := self.runs(dag_id, ACTIVE_STATES):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{dag_id}: runs {[r['dag_run_id'] for r in active]} still active")
            if progress:
                for run in active:
                    if run["dag_run_id"] not in reported:
                        progress(f"{dag_id} {run['dag_run_id']} ({run['run_type']}): waiting for it to finish")
                        reported.add(run["dag_run_id"])
            time.sleep(5)

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 900.0, progress=None) -> dict:
        deadline = time.monotonic() + timeout
        last_state = None
        while time.monotonic() < deadline:
            run = self.run(dag_id, run_id)
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
