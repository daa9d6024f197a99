"""Apply the topic definitions from configuration to a cluster, idempotently.

Missing topics are created, partitions only ever grow (Kafka cannot shrink them and
keyed order would break), and topic configs are brought to the declared values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewPartitions,
    NewTopic,
)

from maritimeiq.config import KafkaConfig, TopicSpec


@dataclass
class TopicChanges:
    created: list[str] = field(default_factory=list)
    partitions_added: dict[str, int] = field(default_factory=dict)
    configs_updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def replication_factor(broker_count: int) -> int:
    return min(3, broker_count)


def apply_topics(kafka: KafkaConfig, timeout: float = 30.0) -> TopicChanges:
    """Runs as the admin principal when one is configured (``kafka.admin_config``): creating
    and altering topics is outside the platform user's ACLs."""
    admin = AdminClient(kafka.admin_config())
    metadata = admin.list_topics(timeout=timeout)
    rf = replication_factor(len(metadata.brokers))
    changes = TopicChanges()
    specs = kafka.all_topics()

    missing = [s for s in specs if s.name not in metadata.topics]
    if missing:
        futures = admin.create_topics(
            [
                NewTopic(s.name, num_partitions=s.partitions, replication_factor=rf, config=dict(s.config))
                for s in missing
            ],
            operation_timeout=timeout,
        )
        for name, future in futures.items():
            future.result()
            changes.created.append(name)

    existing = [s for s in specs if s.name in metadata.topics]
    grow = {s.name: s.partitions for s in existing if len(metadata.topics[s.name].partitions) < s.partitions}
    if grow:
        for name, future in admin.create_partitions(
            [NewPartitions(name, count) for name, count in grow.items()], operation_timeout=timeout
        ).items():
            future.result()
            changes.partitions_added[name] = grow[name]

    for spec in existing:
        if _sync_config(admin, spec, timeout):
            changes.configs_updated.append(spec.name)
        elif spec.name not in grow:
            changes.unchanged.append(spec.name)
    return changes


def _sync_config(admin: AdminClient, spec: TopicSpec, timeout: float) -> bool:
    resource = ConfigResource(ConfigResource.Type.TOPIC, spec.name)
    current = admin.describe_configs([resource], request_timeout=timeout)[resource].result()
    if all(key in current and current[key].value == value for key, value in spec.config.items()):
        return False
    update = ConfigResource(
        ConfigResource.Type.TOPIC,
        spec.name,
        incremental_configs=[
            ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET) for key, value in spec.config.items()
        ],
    )
    admin.incremental_alter_configs([update], request_timeout=timeout)[update].result()
    return True
