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

Every section, alerting and table maintenance included, rejects unknown keys: a wrong key
or value fails at start with a :class:`ConfigError` naming the key path and the file or
variable that set it.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from maritimeiq import catalog

ENV_PREFIX = "MARITIME__"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_FILE = PROJECT_ROOT / "conf" / "platform.yaml"
LOCAL_FILE = PROJECT_ROOT / "conf" / "platform.local.yaml"

# Sections whose keys are dotted property names of another system.
_PASSTHROUGH = {("kafka", "client"), ("spark", "conf")}


class ConfigError(ValueError):
    """The layered configuration has unknown keys or bad values; the message names each
    key path with the file or environment variable that set it."""


class _StrictModel(BaseModel):
    # A misspelt key would otherwise be ignored silently and its default used.
    model_config = ConfigDict(extra="forbid")


class TopicSettings(_StrictModel):
    """Per-deployment settings of one topic; topic names come from :mod:`maritimeiq.catalog`."""

    partitions: int = Field(gt=0)
    config: dict[str, str] = {}


class TopicSpec(TopicSettings):
    """A topic as it is applied to the cluster: catalog name plus settings."""

    name: str


class KafkaSecurityConfig(_StrictModel):
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


class KafkaConfig(_StrictModel):
    bootstrap_servers: str
    controller_port: int = 9093
    client: dict[str, str] = {}
    security: KafkaSecurityConfig = KafkaSecurityConfig()
    broker_heap: str = "512m"
    topics: dict[str, TopicSettings]  # keyed by catalog source topic, every one of them
    dead_letter_retention_ms: str = "2592000000"

    @field_validator("topics")
    @classmethod
    def _catalog_topics(cls, topics: dict[str, TopicSettings]) -> dict[str, TopicSettings]:
        unknown = sorted(set(topics) - set(catalog.SOURCE_TOPICS))
        if unknown:
            raise ValueError(f"{unknown} are not topics of the catalog; known: {list(catalog.SOURCE_TOPICS)}")
        missing = [topic for topic in catalog.SOURCE_TOPICS if topic not in topics]
        if missing:
            raise ValueError(f"no settings for the catalog topics {missing}")
        return topics

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
        return {
            **settings,
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": self.security.mechanism,
            "ssl.endpoint.identification.algorithm": "https",
        }

    def all_topics(self) -> list[TopicSpec]:
        """The catalog's source topics, then one dead-letter topic per source topic with the
        same partitioning and the dead-letter retention."""
        sources = [TopicSpec(name=name, **self.topics[name].model_dump()) for name in catalog.SOURCE_TOPICS]
        dead_letters = [
            TopicSpec(
                name=catalog.dead_letter_topic(t.name),
                partitions=t.partitions,
                config={**t.config, "retention.ms": self.dead_letter_retention_ms},
            )
            for t in sources
        ]
        return [*sources, *dead_letters]


class BronzeConfig(_StrictModel):
    trigger_seconds: float = 30.0
    max_offsets_per_trigger: int = 500_000
    fail_on_data_loss: bool = True
    consumer_group: str = "maritime-platform-consumers"
    metrics_port: int = 9464


class SparkConfig(_StrictModel):
    master: str = "local[*]"
    driver_memory: str = "4g"
    shuffle_partitions: int = 4
    conf: dict[str, str] = {}


class LakeConfig(_StrictModel):
    root: str
    checkpoint_root: str

    def checkpoint_path(self, name: str) -> str:
        return f"{self.checkpoint_root.rstrip('/')}/{name}"


class PostgresConfig(_StrictModel):
    """The PostgreSQL server the local stack starts in its own folder (Debian's binaries)."""

    host: str = "127.0.0.1"
    port: int = 5433  # beside a system server on 5432
    state_dir: str = "var/postgres"
    max_connections: int = 200


class AirflowConfig(_StrictModel):
    home: str
    # The metadata database: the local stack's PostgreSQL, or SQLite in the Airflow home
    # (one writer at a time: `airflow dags test`, not a running scheduler beside the CLI).
    # A `database_url` (a server of your own) takes precedence over both.
    database: Literal["postgres", "sqlite"] = "postgres"
    database_url: str = ""
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    parallelism: int = 4
    admin_user: str = "admin"

    @property
    def api_url(self) -> str:
        return f"http://{self.api_host}:{self.api_port}"

    @property
    def uses_local_postgres(self) -> bool:
        return not self.database_url and self.database == "postgres"


class MlflowConfig(_StrictModel):
    host: str = "127.0.0.1"
    port: int = 5000
    tracking_uri: str
    backend_store_uri: str = ""
    artifacts_destination: str = ""
    # MLflow's basic-auth app, credentials generated under var/mlflow (docs/SECURITY.md).
    auth: bool = False


class ServingConfig(_StrictModel):
    database_url: str = ""


class AlertThresholds(_StrictModel):
    """Limits of the severity policy in :mod:`maritimeiq.alerting` (docs/OPERATIONS.md)."""

    consumer_lag_messages: int = 10_000
    producer_latency_seconds: float = 1.0
    duration_ratio: float = 2.0
    duration_history_runs: int = 10
    duration_min_history: int = 3
    quarantine_rate: float = 0.05
    bronze_freshness_minutes: float = 30.0
    worker_stale_seconds: float = 300.0


class LogChannelConfig(_StrictModel):
    enabled: bool = True


class WebhookChannelConfig(_StrictModel):
    enabled: bool = False
    timeout_seconds: float = 10.0


class EmailChannelConfig(_StrictModel):
    enabled: bool = False
    smtp_host: str = ""
    smtp_port: int = 25
    starttls: bool = False
    username: str = ""
    sender: str = Field(default="maritimeiq-alerts@localhost", alias="from")  # `from` is a Python keyword
    to: list[str] = []


class KafkaChannelConfig(_StrictModel):
    enabled: bool = False
    timeout_seconds: float = 10.0


class AlertChannels(_StrictModel):
    log: LogChannelConfig = LogChannelConfig()
    webhook: WebhookChannelConfig = WebhookChannelConfig()
    email: EmailChannelConfig = EmailChannelConfig()
    kafka: KafkaChannelConfig = KafkaChannelConfig()


class AlertingConfig(_StrictModel):
    """Alert routing; secrets (webhook URL, SMTP password) come from the environment or
    an Airflow Connection, never from here."""

    production_dags: tuple[str, ...] = ("*",)
    dedupe_window_minutes: float = 30.0
    state_path: str = "var/alerts.sqlite"
    thresholds: AlertThresholds = AlertThresholds()
    channels: AlertChannels = AlertChannels()


class TableMaintenanceOverride(_StrictModel):
    """Deployment overrides of one table's OPTIMIZE/VACUUM settings; None keeps the catalog's."""

    cadence: Literal["daily", "weekly"] | None = None
    recent_days: int | None = None
    zorder_by: list[str] | None = None
    vacuum_retention_hours: float | None = None


class TableMaintenanceConfig(_StrictModel):
    tables: dict[str, TableMaintenanceOverride] = {}  # keyed by `<layer>/<table>`


class PlatformConfig(_StrictModel):
    kafka: KafkaConfig
    bronze: BronzeConfig = BronzeConfig()
    spark: SparkConfig
    lake: LakeConfig
    airflow: AirflowConfig
    postgres: PostgresConfig = PostgresConfig()
    mlflow: MlflowConfig
    serving: ServingConfig
    alerting: AlertingConfig = AlertingConfig()
    table_maintenance: TableMaintenanceConfig = TableMaintenanceConfig()

    def resolved(self) -> PlatformConfig:
        """Copy with project-relative local paths made absolute and defaults filled."""
        var = PROJECT_ROOT / "var"
        data = self.model_dump(by_alias=True)
        data["lake"]["root"] = _absolute(self.lake.root)
        data["lake"]["checkpoint_root"] = _absolute(self.lake.checkpoint_root)
        data["airflow"]["home"] = _absolute(self.airflow.home)
        data["postgres"]["state_dir"] = _absolute(self.postgres.state_dir)
        data["mlflow"]["backend_store_uri"] = (
            self.mlflow.backend_store_uri or f"sqlite:///{var / 'mlflow' / 'mlflow.db'}"
        )
        data["mlflow"]["artifacts_destination"] = _absolute(
            self.mlflow.artifacts_destination or str(var / "mlflow" / "artifacts")
        )
        data["serving"]["database_url"] = self.serving.database_url or f"sqlite:///{var / 'serving' / 'maritime.db'}"
        data["alerting"]["state_path"] = _absolute(self.alerting.state_path)
        return PlatformConfig.model_validate(data)


def _absolute(location: str) -> str:
    """Project-relative local paths become absolute; URIs (s3a://, abfss://) stay."""
    if "://" in location:
        return location
    path = Path(location)
    return str(path if path.is_absolute() else PROJECT_ROOT / path)


# Where each key path of the merged configuration was last set: a file or an env variable.
_Sources = dict[tuple[Any, ...], str]


def _merge_layer(
    base: dict[str, Any], layer: dict[str, Any], source: str, sources: _Sources, path: tuple[Any, ...] = ()
) -> dict[str, Any]:
    """``layer`` merged into ``base`` key by key, with ``sources`` noting who set each key."""
    merged = dict(base)
    for key, value in layer.items():
        key_path = (*path, key)
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge_layer(merged[key], value, source, sources, key_path)
            continue
        for replaced in [p for p in sources if p[: len(key_path)] == key_path]:
            del sources[replaced]
        sources[key_path] = source
        # A new section is walked too, so that a later layer's key inside it keeps its own source.
        merged[key] = _merge_layer({}, value, source, sources, key_path) if isinstance(value, dict) else value
    return merged


def _env_layers(environ: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """One single-key layer per ``MARITIME__`` variable, named after the variable."""
    layers = []
    for name, value in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX):
            continue
        parts = [p.lower() for p in name[len(ENV_PREFIX) :].split("__") if p]
        if len(parts) < 2:
            raise ConfigError(f"{name}: expected {ENV_PREFIX}<SECTION>__<KEY>")
        if tuple(parts[:2]) in _PASSTHROUGH and len(parts) > 2:
            parts = [*parts[:2], ".".join(parts[2:]).replace("_", ".")]
        layer: Any = value
        for part in reversed(parts):
            layer = {part: layer}
        layers.append((name, layer))
    return layers


def _file_layer(path: Path) -> tuple[str, dict[str, Any]]:
    label = str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{label}: expected a mapping of sections, got {type(data).__name__}")
    return label, data


def _error_source(loc: tuple[Any, ...], sources: _Sources) -> str:
    """Who set the key at ``loc`` and the keys below it (a section can fail as a whole),
    else the section around it."""
    here = sorted({source for path, source in sources.items() if path[: len(loc)] == loc})
    if here:
        return ", ".join(here)
    for end in range(len(loc) - 1, 0, -1):
        if loc[:end] in sources:
            return sources[loc[:end]]
    return "not set"


def _config_error(error: ValidationError, sources: _Sources) -> ConfigError:
    problems = []
    for detail in error.errors(include_url=False):
        loc = tuple(detail["loc"])
        if detail["type"] == "extra_forbidden":
            problem = "unknown key"
        elif detail["type"] == "missing":
            problem = "required key missing"
        elif isinstance(detail["input"], (dict, list)):
            problem = detail["msg"]
        else:
            problem = f"{detail['msg']}, got {detail['input']!r}"
        problems.append(f"{'.'.join(map(str, loc))}: {problem} ({_error_source(loc, sources)})")
    return ConfigError("invalid platform configuration:\n  " + "\n  ".join(problems))


def load_config(environ: dict[str, str] | None = None) -> PlatformConfig:
    """Read the layered configuration; raises :class:`ConfigError` naming every unknown
    key and bad value with the file or environment variable it came from."""
    environ = dict(os.environ if environ is None else environ)
    files = [DEFAULT_FILE, LOCAL_FILE]
    # Several files, separated like PATH, layer left to right (e.g. cluster + object storage).
    for name in filter(None, environ.get("MARITIME_CONFIG", "").split(os.pathsep)):
        explicit = Path(name)
        if not explicit.is_file():
            raise FileNotFoundError(f"MARITIME_CONFIG points to a missing file: {explicit}")
        files.append(explicit.resolve())
    layers = [_file_layer(path) for path in files if path.is_file()] + _env_layers(environ)
    data: dict[str, Any] = {}
    sources: _Sources = {}
    for source, layer in layers:
        data = _merge_layer(data, layer, source, sources)
    try:
        return PlatformConfig.model_validate(data).resolved()
    except ValidationError as error:
        raise _config_error(error, sources) from None


@functools.lru_cache(maxsize=1)
def get_config() -> PlatformConfig:
    """Process-wide configuration, read once."""
    return load_config()
