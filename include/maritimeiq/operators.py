"""Operators shared by the platform's DAGs."""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

from maritimeiq.alerting import on_spark_task_success


class LakeSparkSubmitOperator(SparkSubmitOperator):
    """spark-submit of one of the platform's job modules with the platform's Spark setup.

    Master and deploy mode come from the ``spark_default`` Connection; Delta and Kafka
    jars, driver memory and session settings from the platform configuration, resolved
    when the task runs (never at DAG parse time). With ``mlflow_conn_id`` the job also
    gets that Connection's MLflow settings (:func:`mlflow_environment`).
    """

    def __init__(self, *, job_module: str, job_args: list[str] | None = None,
                 mlflow_conn_id: str | None = None, **kwargs: Any) -> None:
        # P2 when a run takes more than twice its trailing average.
        kwargs.setdefault("on_success_callback", on_spark_task_success)
        kwargs.setdefault("conn_id", "spark_default")
        kwargs.setdefault("name", job_module.rsplit(".", 1)[-1].replace("_", "-"))
        super().__init__(application=job_module, application_args=job_args or [], **kwargs)
        self.job_module = job_module
        self.mlflow_conn_id = mlflow_conn_id

    def execute(self, context: Any) -> None:
        from maritimeiq.config import get_config
        from maritimeiq.spark import connector_jars, spark_submit_conf

        config = get_config()
        spec = importlib.util.find_spec(self.job_module)
        if spec is None or spec.origin is None:
            raise ModuleNotFoundError(f"Spark job module {self.job_module!r} is not installed")
        self.application = spec.origin
        self.conf = {**spark_submit_conf(config, app_name=self.name), **(self.conf or {})}
        self.jars = ",".join(connector_jars())
        self._driver_memory = config.spark.driver_memory
        # The driver runs this interpreter, where the platform's packages are installed.
        env = {"PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
        if self.mlflow_conn_id:
            env.update(mlflow_environment(self.mlflow_conn_id))
        self.env_vars = {**env, **(self.env_vars or {})}
        super().execute(context)


def mlflow_environment(conn_id: str) -> dict[str, str]:
    """MLflow client settings from an Airflow Connection: ``MLFLOW_TRACKING_URI`` from its
    host and, for a server with basic auth, ``MLFLOW_TRACKING_USERNAME``/``_PASSWORD`` from
    its login and password.

    Read when the task runs, not templated in the DAG, so the password never lands in the
    rendered task fields; fetching the Connection registers it with the log masker.
    """
    from airflow.sdk import BaseHook

    connection = BaseHook.get_connection(conn_id)
    env = {"MLFLOW_TRACKING_URI": connection.host}
    if connection.login:
        env["MLFLOW_TRACKING_USERNAME"] = connection.login
    if connection.password:
        env["MLFLOW_TRACKING_PASSWORD"] = connection.password
    return env
