"""Single-node Apache Kafka broker in KRaft mode, run from the Maven-copied jars.

Plaintext by default; with ``kafka.security.enabled`` the client listener speaks SASL_SSL
with SCRAM-SHA-512 and ACLs apply (:mod:`maritime_stack.kafka_security`). Every
function takes the state directory (default ``var/kafka``) and reads ports from the
configuration, so a second broker can run beside the default one.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path

from maritime_stack import kafka_security
from maritime_stack.kafka_security import Material, Secrets
from maritimeiq.config import PROJECT_ROOT, PlatformConfig
from maritimeiq.process import ManagedProcess, wait_until

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


def tool_command(tool: str, args: list[str], argfile: Path | None = None) -> list[str]:
    """A wrapped Kafka tool's command line; with ``argfile`` (written by the caller) the
    tool's class and arguments are read from that file instead (``java @file``)."""
    head = [java_binary(), "-Xmx256m", f"-Dlog4j2.configurationFile={TOOLS_LOG4J}", "-cp", classpath()]
    return [*head, f"@{argfile}"] if argfile else [*head, TOOLS[tool], *args]


def run_tool(tool: str, args: list[str], private_dir: Path | None = None, redact: tuple[str, ...] = ()) -> str:
    """Run a wrapped Kafka tool and return its output. With ``private_dir`` the arguments
    travel in a 0600 argument file there, off the process list (passwords); ``redact``
    masks them in the error."""
    if private_dir is None:
        done = subprocess.run(tool_command(tool, args), capture_output=True, text=True)
    else:
        with kafka_security.argument_file(private_dir, [TOOLS[tool], *args]) as argfile:
            done = subprocess.run(tool_command(tool, args, argfile), capture_output=True, text=True)
    if done.returncode != 0:
        output = (done.stderr or done.stdout).strip()[-2000:]
        for secret in redact:
            output = output.replace(secret, "***")
        shown = " ".join(a for a in args if not any(secret in a for secret in redact))
        raise RuntimeError(f"{tool} {shown} failed ({done.returncode}):\n{output}")
    return done.stdout


def _host_port(bootstrap: str) -> tuple[str, int]:
    first = bootstrap.split(",")[0]
    host, _, port = first.rpartition(":")
    return host, int(port)


def server_properties(config: PlatformConfig, state_dir: Path | None = None, secrets: Secrets | None = None) -> str:
    """The broker's configuration; ``secrets`` (generated passwords) only in secure mode."""
    state = state_dir or KAFKA_DIR
    host, port = _host_port(config.kafka.bootstrap_servers)
    if config.kafka.security.enabled:
        if secrets is None:
            raise ValueError("a secure broker needs its generated secrets")
        listeners = kafka_security.listener_properties(config.kafka, host, port, Material(state), secrets)
    else:
        controller = f"{host}:{config.kafka.controller_port}"
        listeners = [
            f"controller.quorum.voters=1@{controller}",
            f"listeners=PLAINTEXT://{host}:{port},CONTROLLER://{controller}",
            f"advertised.listeners=PLAINTEXT://{host}:{port}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        ]
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            *listeners,
            f"log.dirs={log_dir(config, state)}",
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


def log_dir(config: PlatformConfig, state_dir: Path | None = None) -> Path:
    """The secure broker is a cluster of its own: switching modes never mixes their logs."""
    return (state_dir or KAFKA_DIR) / ("data-secure" if config.kafka.security.enabled else "data")


def _cluster_id() -> str:
    # Kafka cluster ids are 16 random bytes, URL-safe base64 without padding. One in 64
    # starts with "-", so the tool gets it as `--cluster-id=…`, never as a separate argument.
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


def format_storage(config: PlatformConfig, state_dir: Path | None = None, secrets: Secrets | None = None) -> None:
    """Write server.properties and format the log directory once; in secure mode the format
    bootstraps every user's SCRAM credential."""
    state = state_dir or KAFKA_DIR
    props = state / "server.properties"
    state.mkdir(parents=True, exist_ok=True)
    text = server_properties(config, state, secrets)
    if secrets is None:
        props.write_text(text)
    else:  # holds the admin and store passwords
        kafka_security.write_private(props, text)
    if (log_dir(config, state) / "meta.properties").exists():
        return
    args = ["format", f"--cluster-id={_cluster_id()}", "-c", str(props), "--ignore-formatted"]
    if secrets is None:
        run_tool("kafka-storage", args)
        return
    material = Material(state)
    run_tool(
        "kafka-storage",
        [*args, *kafka_security.scram_arguments(config.kafka, secrets)],
        private_dir=material.root,
        redact=tuple(secrets.passwords.values()),
    )
    kafka_security.save_applied(
        material,
        {
            "users": {u: kafka_security.digest(secrets.passwords[u]) for u in kafka_security.users(config.kafka)},
            "acls": [],
        },
    )


def broker_command(config: PlatformConfig, state_dir: Path | None = None) -> list[str]:
    state = state_dir or KAFKA_DIR
    return [
        java_binary(),
        "-Xms128m",
        f"-Xmx{config.kafka.broker_heap}",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={BROKER_LOG4J}",
        f"-Dkafka.logs.dir={state / 'logs'}",
        "-cp",
        classpath(),
        "kafka.Kafka",
        str(state / "server.properties"),
    ]


def start(config: PlatformConfig, state_dir: Path | None = None, process: ManagedProcess = BROKER) -> None:
    """Start the broker unless it runs. In secure mode first generate what is missing
    (CA, stores, passwords, client files), afterwards apply users and ACLs the broker
    does not have yet. Idempotent across restarts."""
    if process.running():
        return
    state = state_dir or KAFKA_DIR
    if not config.kafka.security.enabled:
        format_storage(config, state)
        process.start(broker_command(config, state), dict(os.environ))
        wait_until(lambda: is_ready(config), timeout=90, what="Kafka broker", process=process)
        return
    material = Material(state)
    secrets = kafka_security.ensure_material(config.kafka, _host_port(config.kafka.bootstrap_servers)[0], material)
    kafka_security.write_client_files(config.kafka, material, secrets)
    format_storage(config, state, secrets)
    process.start(broker_command(config, state), dict(os.environ))
    admin = kafka_security.client_settings(config.kafka, material, secrets, config.kafka.security.admin_user)
    wait_until(
        lambda: is_ready(config, {"bootstrap.servers": config.kafka.bootstrap_servers, **admin}),
        timeout=90,
        what="Kafka broker (SASL_SSL)",
        process=process,
    )
    provision(config, material, secrets)


def provision(config: PlatformConfig, material: Material, secrets: Secrets) -> None:
    """As the admin over SASL_SSL: SCRAM credentials the broker lacks (a user added to the
    configuration, a rotated password) and ACLs not granted yet; ``applied.json`` records both."""
    kafka = config.kafka
    applied = kafka_security.load_applied(material)
    for user in kafka_security.users(kafka):
        password = secrets.passwords[user]
        if applied["users"].get(user) != kafka_security.digest(password):
            set_scram_password(config, material, user, password)
            applied["users"][user] = kafka_security.digest(password)
            kafka_security.save_applied(material, applied)
    for args in kafka_security.acl_commands(kafka):
        if args not in applied["acls"]:
            run_tool(
                "kafka-acls",
                [
                    "--bootstrap-server",
                    kafka.bootstrap_servers,
                    "--command-config",
                    str(material.admin_properties),
                    *args,
                ],
            )
            applied["acls"].append(args)
            kafka_security.save_applied(material, applied)


def set_scram_password(config: PlatformConfig, material: Material, user: str, password: str) -> None:
    """Create or change a user's SCRAM credential with kafka-configs, as the admin."""
    run_tool(
        "kafka-configs",
        [
            "--bootstrap-server",
            config.kafka.bootstrap_servers,
            "--command-config",
            str(material.admin_properties),
            "--alter",
            "--entity-type",
            "users",
            "--entity-name",
            user,
            "--add-config",
            f"{config.kafka.security.mechanism}=[password={password}]",
        ],
        private_dir=material.root,
        redact=(password,),
    )


def rotate_password(config: PlatformConfig, user: str, state_dir: Path | None = None) -> None:
    """A new random password for ``user`` on the running secure broker; the generated
    client files follow. Clients pick it up when they next start."""
    material = Material(state_dir or KAFKA_DIR)
    current, _ = kafka_security.load_secrets(config.kafka, material)
    if user not in current.passwords:
        raise KeyError(f"{user!r} is not a user of this broker: {sorted(current.passwords)}")
    password = kafka_security.new_password()
    set_scram_password(config, material, user, password)  # still authenticated with the old admin password
    rotated = kafka_security.Secrets(current.store_password, {**current.passwords, user: password})
    kafka_security.save_secrets(material, rotated)
    applied = kafka_security.load_applied(material)
    applied["users"][user] = kafka_security.digest(password)
    kafka_security.save_applied(material, applied)
    kafka_security.write_client_files(config.kafka, material, rotated)
    format_storage(config, material.state_dir, rotated)  # the broker's own login, for its next start


def stop(process: ManagedProcess = BROKER) -> bool:
    return process.stop(timeout=60)


def _listening(config: PlatformConfig) -> bool:
    host, port = _host_port(config.kafka.bootstrap_servers)
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError:
        return False
    return True


def is_ready(config: PlatformConfig, settings: dict[str, str] | None = None) -> bool:
    """The broker answers a metadata request, as the admin (``kafka.admin_config``) unless
    ``settings`` are given."""
    from confluent_kafka.admin import AdminClient

    # A plain TCP probe first keeps librdkafka from logging refused connections.
    if not _listening(config):
        return False
    # log_level 4: warnings only, not the informational purge note when the probe closes.
    admin = AdminClient({**(settings or config.kafka.admin_config()), "log_level": 4})
    try:
        metadata = admin.list_topics(timeout=3)
    except Exception:  # noqa: BLE001 - any client error means "not ready yet"
        return False
    return bool(metadata.brokers)


def main(argv: list[str] | None = None) -> int:
    import argparse

    from maritimeiq.config import get_config

    parser = argparse.ArgumentParser(
        prog="python -m maritime_stack.kafka",
        description="Operations on the local secure broker (docs/KAFKA_SECURITY.md).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    rotate = sub.add_parser("rotate-password", help="new random SCRAM password for a user of the running broker")
    rotate.add_argument("user")
    args = parser.parse_args(argv)
    config = get_config()
    if not config.kafka.security.enabled:
        parser.error("kafka.security.enabled is false: the broker has no users")
    rotate_password(config, args.user)
    print(f"rotated the password of {args.user}; restart its clients (for Airflow: its connections too)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
