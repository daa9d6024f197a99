"""Typed platform configuration: one YAML file of defaults plus overrides.

Precedence, lowest first:
1. ``conf/platform.yaml`` in the project (committed defaults for the local stack);
2. ``conf/platform.local.yaml`` (git-ignored, per machine);
3. the files named by ``MARITIME_CONFIG`` (several separated by ``:``, later ones win);
4. environment variables ``MARITIME__<SECTION>__<KEY>[__<SUBKEY>]``, e.g.
   ``MARITIME__SPARK__MASTER=spark://spark-master:7077`` or
   ``MARITIME__KAFKA__CLIENT__SASL_PASSWORD=...``. Keys are lower-cased and, below
   the first level of ``kafka.client`` and ``spark.conf``, ``_`` becomes ``.`` so
   that librdkafka and Spark property names can be written in the environment.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field

ENV_PREFIX = "MARITIME__"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_FILE = PROJECT_ROOT / "conf" / "platform.yaml"
LOCAL_FILE = PROJECT_ROOT / "conf" / "platform.local.yaml"

# Sections whose keys are dotted property names of another system.
_PASSTHROUGH = {("kafka", "client"), ("spark", "conf")}


class TopicSpec(BaseModel):
    name: str
    partitions: int = Field(gt=0)
    config: dict[str, str] = {}


class KafkaSecurityConfig(BaseModel):
    """SASL_SSL with SCRAM-SHA-512 and ACLs (docs/KAFKA_SECURITY.md)."""

    enabled: bool = False
    mechanism: Literal["SCRAM-SHA-512"] = "SCRAM-SHA-512"
    admin_user: str = "admin"  # super user; the broker's own inter-broker login
    client_user: str = "maritime-platform"
    topic_prefix: str = "maritime."  # the client user's ACLs: topics and consumer groups
    group_prefix: str = "maritime-"  # starting with these prefixes
    # librdkafka settings (sasl.username, sasl.password, ssl.ca.location) kept out of the
    # repository; the local stack writes both files, elsewhere mount a secret there.
    client_file: str = "var/kafka/client.yaml"
    admin_file: str = "var/kafka/admin.yaml"

    def settings(self, file: str) -> dict[str, str]:
        path = Path(_absolute(file)) if file else None
        if not (self.enabled and path and path.is_file()):
            return {}
        return {str(k): str(v) for k, v in (yaml.safe_load(path.read_text()) or {}).items()}


class KafkaConfig(BaseModel):
    bootstrap_servers: str
    controller_port: int = 9093
    client: dict[str, str] = {}
    security: KafkaSecurityConfig = KafkaSecurityConfig()
    broker_heap: str = "512m"
    topics: list[TopicSpec]
    dead_letter_suffix: str = ".dlq"
    dead_letter_retention_ms: str = "2592000000"

    def client_config(self, **extra: Any) -> dict[str, Any]:
        """librdkafka settings for any producer, consumer or admin client. With security
        enabled, ``client`` (environment, override files) wins over ``security.client_file``."""
        generated = self.security.settings(self.security.client_file)
        return {"bootstrap.servers": self.bootstrap_servers, **self._secured({**generated, **self.client}), **extra}

    def admin_config(self, **extra: Any) -> dict[str, Any]:
        """Settings for topic administration: the admin principal's from
        ``security.admin_file`` when that file exists, otherwise ``client_config``."""
        admin = self.security.settings(self.security.admin_file)
        if not admin:
            return self.client_config(**extra)
        return {"bootstrap.servers": self.bootstrap_servers, **self._secured({**self.client, **admin}), **extra}

    def _secured(self, settings: dict[str, str]) -> dict[str, str]:
        if not self.security.enabled:
            return settings
        settings.pop("sasl.mechanisms", None)  # librdkafka's alias of sasl.mechanism
        # Hostname verification stays on: it is what ties the broker certificate to the host.
        return {**settings, "security.protocol": "SASL_SSL", "sasl.mechanism": self.security.mechanism,
                "ssl.endpoint.identification.algorithm": "https"}

    def all_topics(self) -> list[TopicSpec]:
        """Source topics followed by one dead-letter topic per source topic."""
        dead_letters = [
            TopicSpec(
                name=t.name + self.dead_letter_suffix,
                partitions=t.partitions,
                config={**t.config, "retention.ms": self.dead_letter_retention_ms},
            )
            for t in self.topics
        ]
        return [*self.topics, *dead_letters]


class BronzeConfig(BaseModel):
    trigger_seconds: float = 30.0
    max_offsets_per_trigger: int = 500_000
    fail_on_data_loss: bool = True
    consumer_group: str = "maritime-platform-consumers"
    metrics_port: int = 9464


class SparkConfig(BaseModel):
    master: str = "local[*]"
    driver_memory: str = "4g"
    shuffle_partitions: int = 4
    conf: dict[str, str] = {}


class LakeConfig(BaseModel):
    root: str
    checkpoint_root: str

    def table_path(self, layer: str, table: str) -> str:
        return f"{self.root.rstrip('/')}/{layer}/{table}"

    def checkpoint_path(self, name: str) -> str:
        return f"{self.checkpoint_root.rstrip('/')}/{name}"


class AirflowConfig(BaseModel):
    home: str
    database_url: str = ""
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    parallelism: int = 4
    admin_user: str = "admin"

    @property
    def api_url(self) -> str:
        return f"http://{self.api_host}:{self.api_port}"

    def sql_alchemy_conn(self) -> str:
        return self.database_url or f"sqlite:///{Path(self.home) / 'airflow.db'}"


class MlflowConfig(BaseModel):
    host: str = "127.0.0.1"
    port: int = 5000
    tracking_uri: str
    backend_store_uri: str = ""
    artifacts_destination: str = ""
    # MLflow's basic-auth app, credentials generated under var/mlflow (docs/SECURITY.md).
    auth: bool = False


class ServingConfig(BaseModel):
    database_url: str = ""


class PlatformConfig(BaseModel):
    kafka: KafkaConfig
    bronze: BronzeConfig = BronzeConfig()
    spark: SparkConfig
    lake: LakeConfig
    airflow: AirflowConfig
    mlflow: MlflowConfig
    serving: ServingConfig

    def resolved(self) -> PlatformConfig:
        """Copy with project-relative local paths made absolute and defaults filled."""
        var = PROJECT_ROOT / "var"
        data = self.model_dump()
        data["lake"]["root"] = _absolute(self.lake.root)
        data["lake"]["checkpoint_root"] = _absolute(self.lake.checkpoint_root)
        data["airflow"]["home"] = _absolute(self.airflow.home)
        data["mlflow"]["backend_store_uri"] = (
            self.mlflow.backend_store_uri or f"sqlite:///{var / 'mlflow' / 'mlflow.db'}"
        )
        data["mlflow"]["artifacts_destination"] = _absolute(
            self.mlflow.artifacts_destination or str(var / "mlflow" / "artifacts")
        )
        data["serving"]["database_url"] = (
            self.serving.database_url or f"sqlite:///{var / 'serving' / 'maritime.db'}"
        )
        return PlatformConfig.model_validate(data)


def _absolute(location: str) -> str:
    """Project-relative local paths become absolute; URIs (s3a://, abfss://) stay."""
    if "://" in location:
        return location
    path = Path(location)
    return str(path if path.is_absolute() else PROJECT_ROOT / path)


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        parts = [p.lower() for p in name[len(ENV_PREFIX) :].split("__") if p]
        if len(parts) < 2:
            raise ValueError(f"{name}: expected {ENV_PREFIX}<SECTION>__<KEY>")
        if tuple(parts[:2]) in _PASSTHROUGH and len(parts) > 2:
            parts = [*parts[:2], ".".join(parts[2:]).replace("_", ".")]
        node = overrides
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return overrides


def load_config(environ: dict[str, str] | None = None) -> PlatformConfig:
    """Read the layered configuration; raises ``pydantic.ValidationError`` on bad values."""
    environ = dict(os.environ if environ is None else environ)
    data: dict[str, Any] = yaml.safe_load(DEFAULT_FILE.read_text())
    files = [LOCAL_FILE]
    # Several files, separated like PATH, layer left to right (e.g. cluster + object storage).
    for name in filter(None, environ.get("MARITIME_CONFIG", "").split(os.pathsep)):
        explicit = Path(name)
        if not explicit.is_file():
            raise FileNotFoundError(f"MARITIME_CONFIG points to a missing file: {explicit}")
        files.append(explicit)
    for path in files:
        if path.is_file():
            data = _deep_merge(data, yaml.safe_load(path.read_text()) or {})
    data = _deep_merge(data, _env_overrides(environ))
    return PlatformConfig.model_validate(data).resolved()


@functools.lru_cache(maxsize=1)
def get_config() -> PlatformConfig:
    """Process-wide configuration, read once."""
    return load_config()
