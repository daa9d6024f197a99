"""Shared fixtures: one Spark session per test run, the real Kafka broker, an
isolated Airflow home. Services the suite starts are stopped when it ends."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

# Airflow reads its configuration when first imported: point it at a scratch home
# before any test module imports it, so tests never touch the stack's own home.
_AIRFLOW_TEST_HOME = tempfile.mkdtemp(prefix="maritime-airflow-test-")
atexit.register(shutil.rmtree, _AIRFLOW_TEST_HOME, ignore_errors=True)
os.environ["AIRFLOW_HOME"] = _AIRFLOW_TEST_HOME
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(__file__).resolve().parents[1] / "dags")

# py4j logs from finalizers after pytest has closed its capture streams.
logging.getLogger("py4j").setLevel(logging.WARNING)

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def platform_config():
    from maritimeiq.config import get_config

    return get_config()


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    from maritimeiq.spark import get_spark

    warehouse = tmp_path_factory.mktemp("warehouse")
    session = get_spark(
        "maritimeiq-tests",
        extra_conf={
            "spark.master": "local[2]",
            "spark.ui.enabled": "false",
            "spark.sql.shuffle.partitions": "2",
            "spark.databricks.delta.snapshotPartitions": "2",
            "spark.sql.warehouse.dir": str(warehouse),
            "spark.driver.memory": "2g",
        },
    )
    yield session
    session.stop()


@pytest.fixture(scope="session")
def kafka_broker(platform_config):
    """The local KRaft broker: reused when already up, otherwise started and stopped here."""
    from maritime_stack import kafka as kafka_stack
    from maritimeiq.topics import apply_topics

    started_here = not kafka_stack.is_ready(platform_config)
    if started_here:
        kafka_stack.start(platform_config)
    apply_topics(platform_config.kafka)
    yield platform_config.kafka
    if started_here:
        kafka_stack.stop()


@pytest.fixture
def unique_topic(kafka_broker):
    """A fresh topic per test, deleted afterwards."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient(kafka_broker.admin_config())
    name = f"test.{uuid.uuid4().hex[:12]}"
    admin.create_topics([NewTopic(name, num_partitions=3, replication_factor=1)])[name].result()
    yield name
    admin.delete_topics([name])[name].result()


def pytest_collection_modifyitems(config, items):
    # The stack lifecycle test stops every service, so it runs after all users of them.
    items.sort(key=lambda item: item.get_closest_marker("stack_lifecycle") is not None)
