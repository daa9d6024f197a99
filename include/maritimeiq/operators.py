"""Operators shared by the platform's DAGs."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator

from maritimeiq.alerting import on_spark_task_success


class LakeSparkSubmitOperator(BaseOperator):
    """spark-submit of one of the platform's job modules with the platform's Spark setup,
    through the Spark provider's ``SparkSubmitHook``.

    Master and deploy mode come from the ``spark_default`` Connection; Delta and Kafka
    jars, driver memory and session settings from the platform configuration, resolved
    when the task runs (never at DAG parse time). With ``mlflow_conn_id`` the job also
    gets that Connection's MLflow settings (:func:`mlflow_environment`).

    Not a ``SparkSubmitOperator`` subclass on purpose: the provider's operator module
    imports the Kubernetes client whenever the cncf.kubernetes provider is installed,
    which made every DAG file take 3 s to import on an idle machine and over 10 s under
    load, against the 30 s budget a task's own parse of its DAG file has before Airflow
    reports "Dag not found during start up". The hook is imported when the task runs.
    """

    template_fields: Sequence[str] = ("job_args", "conf", "env_vars")
    ui_color = "#e47128"

    def __init__(
        self,
        *,
        job_module: str,
        job_args: list[str] | None = None,
        mlflow_conn_id: str | None = None,
        conn_id: str = "spark_default",
        conf: dict[str, str] | None = None,
        env_vars: dict[str, str] | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        # P2 when a run takes more than twice its trailing average.
        kwargs.setdefault("on_success_callback", on_spark_task_success)
        super().__init__(**kwargs)
        self.job_module = job_module
        self.job_args = job_args or []
        self.mlflow_conn_id = mlflow_conn_id
        self.conn_id = conn_id
        self.conf = conf or {}
        self.env_vars = env_vars or {}
        self.name = name or job_module.rsplit(".", 1)[-1].replace("_", "-")
        self._hook: Any = None

    def execute(self, context: Any) -> None:
        from airflow.providers.apache.spark.hooks.spark_submit import SparkSubmitHook

        from maritimeiq.config import get_config
        from maritimeiq.spark import connector_jars, spark_submit_conf

        config = get_config()
        spec = importlib.util.find_spec(self.job_module)
        if spec is not None and spec.submodule_search_locations is not None:
            # A job package runs its __main__ module, as `python -m` would.
            spec = importlib.util.find_spec(f"{self.job_module}.__main__")
        if spec is None or spec.origin is None:
            raise ModuleNotFoundError(f"Spark job module {self.job_module!r} is not installed")
        # The driver runs this interpreter, where the platform's packages are installed.
        env = {"PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
        if self.mlflow_conn_id:
            env.update(mlflow_environment(self.mlflow_conn_id))
        self._hook = SparkSubmitHook(
            conn_id=self.conn_id,
            conf={**spark_submit_conf(config, app_name=self.name), **self.conf},
            jars=",".join(connector_jars()),
            driver_memory=config.spark.driver_memory,
            name=self.name,
            application_args=[str(arg) for arg in self.job_args],
            env_vars={**env, **self.env_vars},
        )
        self._hook.submit(spec.origin)

    def on_kill(self) -> None:
        if self._hook is not None:
            self._hook.on_kill()


def mlflow_environment(conn_id: str) -> dict[str, str]:
    """MLflow client settings from an Airflow Connection: ``MLFLOW_TRACKING_URI`` from its
    host and, for a server with basic auth, ``MLFLOW_TRACKING_USERNAME``/``_PASSWORD`` from
    its login and password.

    Read when the task runs, not templated in the DAG, so the password never lands in the
    rendered task fields; fetching the Connection registers it with the log masker.
    """
    from airflow.sdk import BaseHook

    connection = BaseHook.get_connection(conn_id)
    env = {"MLFLOW_TRACKING_URI": connection.host or ""}
    if connection.login:
        env["MLFLOW_TRACKING_USERNAME"] = connection.login
    if connection.password:
        env["MLFLOW_TRACKING_PASSWORD"] = connection.password
    return env
