"""`default_args` shared by the platform's DAGs: an owner, retries with exponential
backoff, a timeout and the failure alert, so every task behaves the same for on-call."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from maritimeiq.alerting import on_task_failure


def default_args(*, retries: int = 3, retry_delay: timedelta = timedelta(minutes=1),
                 max_retry_delay: timedelta = timedelta(minutes=15),
                 execution_timeout: timedelta = timedelta(minutes=30), **extra: Any) -> dict[str, Any]:
    return {
        "owner": "data-platform",
        "retries": retries,
        "retry_delay": retry_delay,
        "retry_exponential_backoff": True,
        "max_retry_delay": max_retry_delay,
        "execution_timeout": execution_timeout,
        "on_failure_callback": on_task_failure,
        **extra,
    }
