"""Single-node Apache Kafka broker in KRaft mode, run from the Maven-copied jars."""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import uuid
from pathlib import Path

from maritimeiq.config import PROJECT_ROOT, PlatformConfig
from maritimeiq.stack.process import ManagedProcess, wait_until

JARS_DIR = PROJECT_ROOT / "var" / "jars" / "kafka-broker"
KAFKA_DIR = PROJECT_ROOT / "var" / "kafka"
BROKER_LOG4J = PROJECT_ROOT / "conf" / "kafka" / "log4j2.properties"
TOOLS_LOG4J = PROJECT_ROOT / "conf" / "kafka" / "tools-log4j2.properties"

BROKER = ManagedProcess("kafka")

# Wrapped command-line tools: console name -> main class (Kafka 4.x layout).
TOOLS = {
    "kafka-topics": "org.apache.kafka.tools.TopicCommand",
    "kafka-consumer-groups": "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
    "kafka-configs": "kafka.admin.ConfigCommand",
    "kafka-acls": "org.apache.kafka.tools.AclCommand",
    "kafka-console-consumer": "org.apache.kafka.tools.consumer.ConsoleConsumer",
    "kafka-storage": "kafka.tools.StorageTool",
}


def java_binary() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if not found:
        raise FileNotFoundError("java not found: install a JDK 17+ (`make setup` does).")
    return found


def classpath() -> str:
    if not any(JARS_DIR.glob("kafka_2.13-*.jar")):
        raise FileNotFoundError(f"Kafka jars missing from {JARS_DIR}; run `make jars`.")
    return str(JARS_DIR / "*")


def tool_command(tool: str, args: list[str]) -> list[str]:
    return [
        java_binary(),
        "-Xmx256m",
        f"-Dlog4j2.configurationFile={TOOLS_LOG4J}",
        "-cp",
        classpath(),
        TOOLS[tool],
        *args,
    ]


def _host_port(bootstrap: str) -> tuple[str, int]:
    first = bootstrap.split(",")[0]
    host, _, port = first.rpartition(":")
    return host, int(port)


def server_properties(config: PlatformConfig) -> str:
    host, port = _host_port(config.kafka.bootstrap_servers)
    controller = f"{host}:{config.kafka.controller_port}"
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@{controller}",
            f"listeners=PLAINTEXT://{host}:{port},CONTROLLER://{controller}",
            f"advertised.listeners=PLAINTEXT://{host}:{port}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            f"log.dirs={KAFKA_DIR / 'data'}",
            "num.partitions=1",
            # One broker: internal topics cannot have more replicas than brokers.
            "offsets.topic.replication.factor=1",
            "share.coordinator.state.topic.replication.factor=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=false",
            # Two cores: keep the broker's thread pools small.
            "num.network.threads=2",
            "num.io.threads=4",
            "num.recovery.threads.per.data.dir=1",
            "log.retention.check.interval.ms=300000",
            "",
        ]
    )


def _cluster_id() -> str:
    # Kafka cluster ids are 16 random bytes, URL-safe base64 without padding. One in 64
    # starts with "-", so the tool gets it as `--cluster-id=…`, never as a separate argument.
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


def format_storage(config: PlatformConfig) -> None:
    """Write server.properties and format the log directory once."""
    props = KAFKA_DIR / "server.properties"
    KAFKA_DIR.mkdir(parents=True, exist_ok=True)
    props.write_text(server_properties(config))
    if (KAFKA_DIR / "data" / "meta.properties").exists():
        return
    subprocess.run(
        tool_command("kafka-storage", ["format", f"--cluster-id={_cluster_id()}", "-c", str(props),
                                        "--ignore-formatted"]),
        check=True,
        capture_output=True,
        text=True,
    )


def start(config: PlatformConfig) -> None:
    if BROKER.running():
        return
    format_storage(config)
    argv = [
        java_binary(),
        "-Xms128m",
        f"-Xmx{config.kafka.broker_heap}",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={BROKER_LOG4J}",
        f"-Dkafka.logs.dir={KAFKA_DIR / 'logs'}",
        "-cp",
        classpath(),
        "kafka.Kafka",
        str(KAFKA_DIR / "server.properties"),
    ]
    BROKER.start(argv, dict(os.environ))
    wait_until(lambda: is_ready(config), timeout=90, what="Kafka broker", process=BROKER)


def stop() -> bool:
    return BROKER.stop(timeout=60)


def is_ready(config: PlatformConfig) -> bool:
    from confluent_kafka.admin import AdminClient

    # A plain TCP probe first keeps librdkafka from logging refused connections.
    host, port = _host_port(config.kafka.bootstrap_servers)
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError:
        return False
    # log_level 4: warnings only, not the informational purge note when the probe closes.
    admin = AdminClient(config.kafka.client_config(log_level=4))
    try:
        metadata = admin.list_topics(timeout=3)
    except Exception:  # noqa: BLE001 - any client error means "not ready yet"
        return False
    return bool(metadata.brokers)
