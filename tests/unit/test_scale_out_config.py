"""The scale-out examples in conf/examples: each is a configuration file only, loaded by
MARITIME_CONFIG, and yields the cluster settings it promises without a code change."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from maritimeiq.catalog import SILVER_AIS_POSITIONS
from maritimeiq.config import PROJECT_ROOT, load_config
from maritimeiq.spark import session_settings, spark_submit_conf
from maritimeiq.topics import replication_factor

EXAMPLES = PROJECT_ROOT / "conf" / "examples"
S3_LAKE = "s3a://maritime-lake/platform"
S3_CHECKPOINTS = "s3a://maritime-lake/checkpoints"


def example(name: str, **environ: str):
    return load_config(environ={"MARITIME_CONFIG": str(EXAMPLES / name), **environ})


def object_storage_settings(conf: dict[str, str]) -> dict[str, str]:
    return {
        k: v
        for k, v in conf.items()
        if k.startswith(("spark.hadoop.fs.s3a.", "spark.delta.logStore.", "spark.io.delta.storage."))
    }


def test_cluster_example_sets_the_standalone_master_and_executors():
    config = example("cluster.yaml")
    settings = session_settings(config, app_name="silver-ais")
    assert settings["spark.master"] == "spark://spark-master:7077"
    assert settings["spark.executor.memory"] == "8g"
    assert settings["spark.executor.cores"] == "4"
    assert settings["spark.cores.max"] == "16"
    assert settings["spark.sql.shuffle.partitions"] == "48"
    assert settings["spark.driver.memory"] == "2g"
    # Executors on other hosts need a lake they can all reach.
    assert (config.lake.root, config.lake.checkpoint_root) == (S3_LAKE, S3_CHECKPOINTS)
    assert SILVER_AIS_POSITIONS.path(config.lake.root) == f"{S3_LAKE}/silver/ais_positions"
    assert settings["spark.hadoop.fs.s3a.aws.credentials.provider"] == (
        "software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider"
    )
    assert settings["spark.delta.logStore.s3a.impl"] == "io.delta.storage.S3DynamoDBLogStore"
    # What every job needs still travels with the cluster settings.
    assert settings["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    assert any("delta-spark" in jar for jar in settings["spark.jars"].split(","))


def test_airflow_spark_submit_carries_the_cluster_settings_but_not_the_master():
    # The master reaches spark-submit through the spark_default Connection, never twice.
    conf = spark_submit_conf(example("cluster.yaml"), app_name="silver-ais")
    assert "spark.master" not in conf
    assert conf["spark.executor.memory"] == "8g"
    assert conf["spark.hadoop.fs.s3a.endpoint.region"] == "eu-west-1"


def test_kubernetes_example_runs_executors_from_the_project_image():
    config = example("cluster-k8s.yaml")
    settings = session_settings(config)
    assert settings["spark.master"] == "k8s://https://kubernetes.default.svc:443"
    assert settings["spark.kubernetes.container.image"].rsplit("/", 1)[-1].startswith("maritimeiq:")
    assert settings["spark.kubernetes.authenticate.executor.serviceAccountName"] == "spark"
    assert settings["spark.executor.instances"] == "4"
    assert config.lake.root == S3_LAKE


def test_object_storage_example_moves_lake_and_checkpoints_only():
    config = example("object-storage.yaml")
    defaults = load_config(environ={})
    assert (config.lake.root, config.lake.checkpoint_root) == (S3_LAKE, S3_CHECKPOINTS)
    assert config.spark.master == defaults.spark.master == "local[*]"
    settings = session_settings(config)
    assert settings["spark.hadoop.fs.s3a.endpoint.region"] == "eu-west-1"
    assert settings["spark.io.delta.storage.S3DynamoDBLogStore.ddb.tableName"] == "maritime_delta_log"


@pytest.mark.parametrize("name", ["cluster.yaml", "cluster-k8s.yaml"])
def test_cluster_examples_use_the_object_storage_settings_unchanged(name):
    expected = object_storage_settings(example("object-storage.yaml").spark.conf)
    assert len(expected) == 5
    assert object_storage_settings(example(name).spark.conf) == expected


def test_environment_still_overrides_an_example_file():
    config = example(
        "cluster.yaml",
        MARITIME__SPARK__MASTER="spark://other-master:7077",
        MARITIME__SPARK__CONF__SPARK_HADOOP_FS_S3A_ENDPOINT_REGION="us-east-1",
    )
    settings = session_settings(config)
    assert settings["spark.master"] == "spark://other-master:7077"
    assert settings["spark.hadoop.fs.s3a.endpoint.region"] == "us-east-1"


def test_no_example_holds_a_credential():
    forbidden = re.compile(r"(access\.key|secret\.key|session\.token|password|sasl\.password)\s*:", re.I)
    for path in EXAMPLES.glob("*.yaml"):
        for line in path.read_text().splitlines():
            if not line.lstrip().startswith("#"):
                assert not forbidden.search(line), f"{path.name}: {line.strip()}"


def test_three_broker_example_lists_three_brokers_and_the_default_topics():
    config = example("kafka-3-brokers.yaml")
    defaults = load_config(environ={})
    brokers = config.kafka.bootstrap_servers.split(",")
    assert brokers == ["kafka:9092", "kafka-2:9092", "kafka-3:9092"]
    assert [(t.name, t.partitions) for t in config.kafka.all_topics()] == [
        (t.name, t.partitions) for t in defaults.kafka.all_topics()
    ]
    for topic, default in zip(config.kafka.all_topics(), defaults.kafka.all_topics()):
        assert topic.config == {**default.config, "min.insync.replicas": "2"}


def test_three_brokers_tolerate_the_loss_of_one():
    config = example("kafka-3-brokers.yaml")
    rf = replication_factor(len(config.kafka.bootstrap_servers.split(",")))
    assert rf == 3
    for topic in config.kafka.all_topics():  # dead-letter topics too
        min_isr = int(topic.config["min.insync.replicas"])
        assert min_isr == 2 and rf - min_isr == 1, topic.name


def test_session_settings_put_the_master_first_and_extra_conf_last():
    config = load_config(environ={"MARITIME__SPARK__MASTER": "local[2]"})
    settings = session_settings(config, app_name="probe", extra_conf={"spark.sql.shuffle.partitions": "1"})
    assert next(iter(settings.items())) == ("spark.master", "local[2]")
    assert settings["spark.app.name"] == "probe"
    assert settings["spark.sql.shuffle.partitions"] == "1"


def _pom_properties(path: Path) -> dict[str, str]:
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    root = ET.parse(path).getroot()
    return {child.tag.split("}", 1)[1]: (child.text or "") for child in root.find("m:properties", ns)}


def test_object_storage_maven_profile_matches_the_wheel_and_is_off_by_default():
    import pyspark

    pom = PROJECT_ROOT / "jvm" / "spark-connectors" / "pom.xml"
    properties = _pom_properties(pom)
    wheel_jars = Path(pyspark.__file__).parent / "jars"
    wheel_hadoop = {
        p.name.removeprefix("hadoop-client-api-").removesuffix(".jar")
        for p in wheel_jars.glob("hadoop-client-api-*.jar")
    }
    assert wheel_hadoop == {properties["hadoop.version"]}
    # Without the profile nothing is added to the default copy of jars.
    assert properties["object.storage.artifacts"] == ""
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    profile = next(
        p
        for p in ET.parse(pom).getroot().iterfind("m:profiles/m:profile", ns)
        if p.findtext("m:id", namespaces=ns) == "object-storage"
    )
    artifacts = [d.findtext("m:artifactId", namespaces=ns) for d in profile.iterfind("m:dependencies/m:dependency", ns)]
    assert artifacts == ["hadoop-aws"]
    assert "hadoop-aws" in profile.findtext("m:properties/m:object.storage.artifacts", namespaces=ns).split(",")


def test_every_example_is_plain_yaml_of_known_sections():
    sections = set(load_config(environ={}).model_dump())
    for path in EXAMPLES.glob("*.yaml"):
        assert set(yaml.safe_load(path.read_text())) <= sections, path.name
