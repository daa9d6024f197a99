"""Task-failure alerts. For now one channel: a structured log line per failure, which
log shippers and the on-call tooling read; more channels attach here."""

from __future__ import annotations

import json
import logging
from typing import Any

log = logging.getLogger("maritime.alerts")


def alert_record(context: dict[str, Any], severity: str = "P1") -> dict[str, Any]:
    ti = context.get("task_instance") or context.get("ti")
    return {
        "severity": severity,
        "dag_id": getattr(ti, "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "run_id": getattr(ti, "run_id", None) or context.get("run_id"),
        "try_number": getattr(ti, "try_number", None),
        "log_url": getattr(ti, "log_url", None),
        "logical_date": str(context.get("logical_date")),
        "exception": repr(context.get("exception")),
    }


def on_task_failure(context: dict[str, Any]) -> None:
    """`on_failure_callback` of every platform DAG: a P1 alert for a failed task."""
    log.error("task_failed %s", json.dumps(alert_record(context), default=str))
