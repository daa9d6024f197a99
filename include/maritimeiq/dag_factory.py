"""`maritime_dag`, the one way the platform declares a DAG: every task gets an owner,
retries with exponential backoff, a timeout and the failure alert, and every DAG its doc,
a fixed start date and the `maritime` tag, so a DAG file only wires its tasks."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import dag

from maritimeiq.alerting import on_task_failure

OWNER = "data-platform"
PLATFORM_TAG = "maritime"


def maritime_dag(
    *,
    schedule: Any,
    start_date: datetime,
    doc_md: str,
    tags: Iterable[str],
    retries: int = 3,
    retry_delay: timedelta = timedelta(minutes=1),
    max_retry_delay: timedelta = timedelta(minutes=15),
    execution_timeout: timedelta = timedelta(minutes=30),
    catchup: bool = False,
    max_active_runs: int = 1,
    **dag_kwargs: Any,
) -> Callable[..., Any]:
    """Airflow's `dag` decorator with the platform's defaults. `start_date` is a fixed date
    (a moving one shifts the schedule at every parse); other DAG arguments such as
    `params` pass through."""
    if not doc_md or not doc_md.strip():
        raise ValueError("a DAG needs doc_md: it is what on-call reads first")
    return dag(
        schedule=schedule,
        start_date=start_date,
        catchup=catchup,
        max_active_runs=max_active_runs,
        doc_md=doc_md,
        tags=[PLATFORM_TAG, *(tag for tag in tags if tag != PLATFORM_TAG)],
        default_args={
            "owner": OWNER,
            "retries": retries,
            "retry_delay": retry_delay,
            "retry_exponential_backoff": True,
            "max_retry_delay": max_retry_delay,
            "execution_timeout": execution_timeout,
            "on_failure_callback": on_task_failure,
        },
        **dag_kwargs,
    )
