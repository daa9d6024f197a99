from __future__ import annotations

import re

import pytest
import yaml

from maritimeiq import config as platform_config
from maritimeiq.catalog import SILVER_AIS_POSITIONS
from maritimeiq.config import PROJECT_ROOT, ConfigError, load_config


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
    ais = config.kafka.topics["maritime.ais.data"]
    assert ais.partitions == 12
    assert int(ais.config["retention.ms"]) == 7 * 24 * 3600 * 1000
    # Retention from arrival: replayed or simulated past days must not expire on arrival.
    assert all(t.config["message.timestamp.type"] == "LogAppendTime" for t in config.kafka.all_topics())


def test_every_source_topic_has_a_dead_letter_topic():
    config = load_config(environ={})
    names = [t.name for t in config.kafka.all_topics()]
    sources = list(config.kafka.topics)
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
    assert SILVER_AIS_POSITIONS.path(config.lake.root) == "s3a://maritime-lake/prod/silver/ais_positions"
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
    expected = r"spark\.shuffle_partitions: .*integer.* \(MARITIME__SPARK__SHUFFLE_PARTITIONS\)"
    with pytest.raises(ConfigError, match=expected):
        load_config(environ={"MARITIME__SPARK__SHUFFLE_PARTITIONS": "many"})
    with pytest.raises(FileNotFoundError, match="MARITIME_CONFIG"):
        load_config(environ={"MARITIME_CONFIG": str(tmp_path / "missing.yaml")})
    with pytest.raises(ValueError, match="SECTION"):
        load_config(environ={"MARITIME__SPARK": "x"})


def test_unknown_key_names_the_key_path_and_the_file(tmp_path, monkeypatch):
    local = tmp_path / "conf" / "platform.local.yaml"
    local.parent.mkdir()
    local.write_text("alerting:\n  thresholds:\n    consumer_lag: 5000\nsparkk:\n  master: local[2]\n")
    monkeypatch.setattr(platform_config, "PROJECT_ROOT", tmp_path)
    monkeypatch.setattr(platform_config, "LOCAL_FILE", local)
    with pytest.raises(ConfigError) as error:
        load_config(environ={})
    message = str(error.value)
    # Every bad key is listed, not only the first.
    assert "alerting.thresholds.consumer_lag: unknown key (conf/platform.local.yaml)" in message
    assert "sparkk: unknown key (conf/platform.local.yaml)" in message


def test_bad_type_names_the_key_the_file_and_the_expected_type(tmp_path):
    override = tmp_path / "prod.yaml"
    override.write_text(
        "alerting:\n  thresholds:\n    consumer_lag_messages: lots\n"
        "table_maintenance:\n  tables:\n    silver/ais_positions: {cadence: hourly}\n"
    )
    with pytest.raises(ConfigError) as error:
        load_config(environ={"MARITIME_CONFIG": str(override)})
    message = str(error.value)
    expected = r"alerting\.thresholds\.consumer_lag_messages: .*valid integer.*'lots' \("
    assert re.search(expected + re.escape(str(override)), message)
    assert re.search(
        r"table_maintenance\.tables\.silver/ais_positions\.cadence: .*'daily' or 'weekly'.*'hourly'", message
    )


def test_environment_overrides_an_alerting_threshold_and_names_itself_when_wrong():
    config = load_config(environ={"MARITIME__ALERTING__THRESHOLDS__CONSUMER_LAG_MESSAGES": "2500"})
    assert config.alerting.thresholds.consumer_lag_messages == 2500
    assert config.alerting.thresholds.worker_stale_seconds == 300.0  # the rest of the section stays
    with pytest.raises(
        ConfigError,
        match=r"alerting\.thresholds\.consumer_lag: unknown key "
        r"\(MARITIME__ALERTING__THRESHOLDS__CONSUMER_LAG\)",
    ):
        load_config(environ={"MARITIME__ALERTING__THRESHOLDS__CONSUMER_LAG": "2500"})


def test_table_maintenance_overrides_default_to_the_catalog(tmp_path):
    assert load_config(environ={}).table_maintenance.tables == {}
    override_file = tmp_path / "prod.yaml"
    override_file.write_text("table_maintenance:\n  tables:\n    silver/ais_positions: {cadence: weekly}\n")
    config = load_config(environ={"MARITIME_CONFIG": str(override_file)})
    override = config.table_maintenance.tables["silver/ais_positions"]
    assert (override.cadence, override.recent_days, override.zorder_by, override.vacuum_retention_hours) == (
        "weekly",
        None,
        None,
        None,
    )


@pytest.mark.parametrize("example", sorted((PROJECT_ROOT / "conf" / "examples").glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_file_validates(example):
    load_config(environ={"MARITIME_CONFIG": str(example)})


def _compose_environment(name: str) -> dict[str, str]:
    """The MARITIME settings a compose file gives its containers, with ``${VAR:-default}``
    taking the default and required secrets a placeholder."""
    compose = yaml.safe_load((PROJECT_ROOT / name).read_text())
    settings: dict[str, str] = {}
    for service in compose["services"].values():
        for key, value in (service.get("environment") or {}).items():
            if key.startswith("MARITIME"):
                value = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(value))
                value = re.sub(r"\$\{\w+:\?[^}]*\}", "placeholder", value)
                settings[key] = value.replace("/opt/maritimeiq", str(PROJECT_ROOT))
    return settings


@pytest.mark.parametrize("files", [["docker-compose.yaml"], ["docker-compose.yaml", "docker-compose.scale.yaml"]])
def test_compose_environment_validates(files):
    environ = {key: value for name in files for key, value in _compose_environment(name).items()}
    assert environ, "no MARITIME settings found in the compose files"
    config = load_config(environ=environ)
    assert config.spark.master == "spark://spark-master:7077"
