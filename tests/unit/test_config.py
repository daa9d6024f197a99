from __future__ import annotations

import pytest
from pydantic import ValidationError

from maritimeiq.config import PROJECT_ROOT, load_config


def test_defaults_describe_the_local_stack():
    config = load_config(environ={})
    assert config.kafka.bootstrap_servers == "127.0.0.1:9092"
    assert config.spark.master == "local[*]"
    assert config.kafka.client == {"security.protocol": "PLAINTEXT"}
    # Relative lake paths resolve against the project, not the working directory.
    assert config.lake.root == str(PROJECT_ROOT / "var" / "lake")
    assert config.serving.database_url == f"sqlite:///{PROJECT_ROOT / 'var' / 'serving' / 'maritime.db'}"


def test_ais_topic_matches_the_platform_contract():
    config = load_config(environ={})
    ais = next(t for t in config.kafka.topics if t.name == "maritime.ais.data")
    assert ais.partitions == 12
    assert int(ais.config["retention.ms"]) == 7 * 24 * 3600 * 1000
    # Retention from arrival: replayed or simulated past days must not expire on arrival.
    assert all(t.config["message.timestamp.type"] == "LogAppendTime" for t in config.kafka.all_topics())


def test_every_source_topic_has_a_dead_letter_topic():
    config = load_config(environ={})
    names = [t.name for t in config.kafka.all_topics()]
    sources = [t.name for t in config.kafka.topics]
    assert set(sources) == {
        "maritime.ais.data",
        "maritime.environmental.sensors",
        "maritime.alerts",
        "maritime.voyage.events",
    }
    assert names == sources + [f"{s}.dlq" for s in sources]
    dlq = {t.name: t for t in config.kafka.all_topics()}["maritime.ais.data.dlq"]
    assert dlq.partitions == 12
    assert dlq.config["retention.ms"] == str(30 * 24 * 3600 * 1000)


def test_environment_overrides_typed_fields_and_passthrough_properties():
    config = load_config(
        environ={
            "MARITIME__SPARK__MASTER": "spark://spark-master:7077",
            "MARITIME__SPARK__SHUFFLE_PARTITIONS": "16",
            "MARITIME__LAKE__ROOT": "s3a://maritime-lake/prod",
            "MARITIME__KAFKA__CLIENT__SECURITY_PROTOCOL": "SASL_SSL",
            "MARITIME__KAFKA__CLIENT__SASL_MECHANISM": "SCRAM-SHA-512",
            "MARITIME__SPARK__CONF__SPARK_HADOOP_FS_S3A_ENDPOINT": "http://127.0.0.1:9000",
        }
    )
    assert config.spark.master == "spark://spark-master:7077"
    assert config.spark.shuffle_partitions == 16
    assert config.lake.root == "s3a://maritime-lake/prod"  # URIs are left alone
    assert config.lake.table_path("silver", "ais_positions") == "s3a://maritime-lake/prod/silver/ais_positions"
    assert config.kafka.client_config() == {
        "bootstrap.servers": "127.0.0.1:9092",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
    }
    assert config.spark.conf == {"spark.hadoop.fs.s3a.endpoint": "http://127.0.0.1:9000"}


def test_config_file_sits_between_defaults_and_environment(tmp_path):
    override = tmp_path / "prod.yaml"
    override.write_text("spark:\n  master: k8s://https://k8s.example:6443\n  driver_memory: 8g\n")
    config = load_config(environ={"MARITIME_CONFIG": str(override), "MARITIME__SPARK__DRIVER_MEMORY": "6g"})
    assert config.spark.master == "k8s://https://k8s.example:6443"
    assert config.spark.driver_memory == "6g"
    assert config.spark.shuffle_partitions == 4  # untouched default survives the merge


def test_several_config_files_layer_left_to_right(tmp_path):
    cluster = tmp_path / "cluster.yaml"
    cluster.write_text("spark:\n  master: spark://spark-master:7077\n  shuffle_partitions: 48\n")
    storage = tmp_path / "storage.yaml"
    storage.write_text("lake:\n  root: s3a://lake/maritime\nspark:\n  shuffle_partitions: 64\n")
    config = load_config(environ={"MARITIME_CONFIG": f"{cluster}:{storage}"})
    assert config.spark.master == "spark://spark-master:7077"
    assert config.lake.root == "s3a://lake/maritime"
    assert config.spark.shuffle_partitions == 64


def test_bad_values_fail_with_a_clear_error(tmp_path):
    with pytest.raises(ValidationError, match="shuffle_partitions"):
        load_config(environ={"MARITIME__SPARK__SHUFFLE_PARTITIONS": "many"})
    with pytest.raises(FileNotFoundError, match="MARITIME_CONFIG"):
        load_config(environ={"MARITIME_CONFIG": str(tmp_path / "missing.yaml")})
    with pytest.raises(ValueError, match="SECTION"):
        load_config(environ={"MARITIME__SPARK": "x"})
