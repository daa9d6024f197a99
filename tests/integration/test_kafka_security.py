"""A secure broker (SASL_SSL, SCRAM-SHA-512, ACLs) of its own, on free ports in a temporary
state directory, beside the default broker: who gets in, who gets data, and the
platform's producer and Bronze worker end to end with the generated settings."""

from __future__ import annotations

import io
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from maritime_stack import kafka as kafka_stack
from maritime_stack.kafka_security import Material, new_password
from maritime_streaming.bronze import BronzeSettings, OffsetCommitter, progress_record, start_query
from maritime_streaming.producer import KafkaSink, StopFlag, pump
from maritime_streaming.simulator import FleetSimulator
from maritimeiq.catalog import bronze_table
from maritimeiq.config import load_config
from maritimeiq.kafka_lag import consumer_lag
from maritimeiq.process import ManagedProcess
from maritimeiq.topics import apply_topics
from tests.integration.servers import free_port

pytestmark = pytest.mark.integration
AIS = "maritime.ais.data"
# Few partitions: the topics' shape is not under test here.
TOPICS = """kafka:
  topics:
    maritime.ais.data: {partitions: 2}
    maritime.environmental.sensors: {partitions: 1}
    maritime.alerts: {partitions: 1}
    maritime.voyage.events: {partitions: 1}
"""


@pytest.fixture(scope="module")
def secure(tmp_path_factory):
    """The secure broker, its platform configuration and the environment that selects it."""
    root = tmp_path_factory.mktemp("secure-kafka")
    state = root / "kafka"
    (root / "topics.yaml").write_text(TOPICS)
    env = {
        "MARITIME_CONFIG": str(root / "topics.yaml"),
        "MARITIME__KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        "MARITIME__KAFKA__CONTROLLER_PORT": str(free_port()),
        "MARITIME__KAFKA__BROKER_HEAP": "384m",
        "MARITIME__KAFKA__SECURITY__ENABLED": "true",
        "MARITIME__KAFKA__SECURITY__CLIENT_FILE": str(state / "client.yaml"),
        "MARITIME__KAFKA__SECURITY__ADMIN_FILE": str(state / "admin.yaml"),
    }
    config = load_config(environ=env)
    process = ManagedProcess(f"kafka-secure-test-{uuid.uuid4().hex[:8]}")
    try:
        kafka_stack.start(config, state, process)
        apply_topics(config.kafka)
        yield SimpleNamespace(config=config, kafka=config.kafka, env=env, state=state, process=process)
    finally:
        kafka_stack.stop(process)
        process.log_file.unlink(missing_ok=True)


class Errors:
    """librdkafka's error callback: connection-level errors (authentication, TLS) land here."""

    def __init__(self):
        self.codes: list[int] = []

    def __call__(self, error: KafkaError) -> None:
        self.codes.append(error.code())

    def wait_for(self, consumer: Consumer, codes: set[int], seconds: float = 20) -> list:
        """Poll until one of `codes` is reported; every message received is returned."""
        received, deadline = [], time.monotonic() + seconds
        while not codes & set(self.codes) and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is not None and msg.error() is None:
                received.append(msg)
        return received


def _consumer(settings: dict, errors: Errors) -> Consumer:
    consumer = Consumer(
        {
            **settings,
            "group.id": f"maritime-test-{uuid.uuid4().hex[:6]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "error_cb": errors,
            "log_level": 0,
        }
    )
    consumer.assign([TopicPartition(AIS, p, 0) for p in (0, 1)])
    return consumer


def _produce_marker(kafka) -> None:
    producer = Producer(kafka.client_config(**{"acks": "all"}))
    producer.produce(AIS, key=b"219000001", value=b'{"marker": true}')
    assert producer.flush(30) == 0


def _refused(settings: dict) -> bool:
    errors = Errors()
    consumer = _consumer(settings, errors)
    try:
        received = errors.wait_for(consumer, {KafkaError._AUTHENTICATION})
    finally:
        consumer.close()
    return KafkaError._AUTHENTICATION in errors.codes and received == []


def _reaches_broker(settings: dict) -> tuple[bool, list[int]]:
    errors = Errors()
    admin = AdminClient({**settings, "error_cb": errors, "log_level": 0})
    try:
        return bool(admin.list_topics(timeout=5).brokers), errors.codes
    except KafkaException:
        admin.poll(0.5)  # serves the error callback
        return False, errors.codes


def test_generated_files_are_private_and_the_broker_config_is_secure(secure):
    material = Material(secure.state)
    for path in (
        material.passwords_file,
        material.keystore,
        material.ca_key,
        material.admin_properties,
        material.client_file,
        material.admin_file,
        secure.state / "server.properties",
    ):
        assert path.stat().st_mode & 0o777 == 0o600, path
    assert material.root.stat().st_mode & 0o777 == 0o700
    props = (secure.state / "server.properties").read_text()
    assert "allow.everyone.if.no.acl.found=false" in props
    assert "PLAINTEXT" not in props  # no listener without TLS


def test_wrong_password_is_refused_and_gets_no_data(secure):
    _produce_marker(secure.kafka)
    assert _refused(secure.kafka.client_config(**{"sasl.password": "not-the-password"}))  # pragma: allowlist secret


def test_a_user_without_acls_authenticates_but_gets_no_data(secure):
    _produce_marker(secure.kafka)
    password = new_password()
    kafka_stack.set_scram_password(secure.config, Material(secure.state), "intruder", password)
    settings = secure.kafka.client_config(**{"sasl.username": "intruder", "sasl.password": password})
    errors = Errors()
    consumer = _consumer(settings, errors)
    denied, received, deadline = None, [], time.monotonic() + 20
    try:
        while denied is None and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is not None and msg.error() is not None:
                denied = msg.error().code()
            elif msg is not None:
                received.append(msg)
        assert AIS not in consumer.list_topics(timeout=10).topics  # not even its existence
    finally:
        consumer.close()
    # Authenticated, then refused: the consumer group's coordinator or the topic, whichever it asks first.
    assert denied in (KafkaError.GROUP_AUTHORIZATION_FAILED, KafkaError.TOPIC_AUTHORIZATION_FAILED)
    assert received == [] and KafkaError._AUTHENTICATION not in errors.codes

    producer = Producer({**settings, "log_level": 0})
    failures = []
    producer.produce(AIS, value=b"x", on_delivery=lambda err, _msg: failures.append(err and err.code()))
    producer.flush(30)
    assert failures == [KafkaError.TOPIC_AUTHORIZATION_FAILED]
    # A lag check under that principal fails loudly rather than reporting no lag.
    intruder = secure.kafka.model_copy(
        update={"client": {**secure.kafka.client, "sasl.username": "intruder", "sasl.password": password}}
    )
    with pytest.raises(KafkaException, match="TOPIC_AUTHORIZATION_FAILED"):
        consumer_lag(intruder, "maritime-test-lag", [AIS])


def test_the_platform_user_gets_its_topics_and_nothing_more(secure):
    admin = AdminClient(secure.kafka.admin_config())
    admin.create_topics([NewTopic("other.topic", num_partitions=1, replication_factor=1)])["other.topic"].result()
    platform = AdminClient(secure.kafka.client_config())
    topics = platform.list_topics(timeout=10).topics
    assert AIS in topics and "other.topic" not in topics
    with pytest.raises(KafkaException, match="AUTHORIZATION_FAILED"):  # topic management is the admin's
        platform.create_topics([NewTopic("maritime.new", num_partitions=1, replication_factor=1)])[
            "maritime.new"
        ].result()


def test_rotated_passwords_replace_the_old_ones_and_survive_a_restart(secure):
    material = Material(secure.state)
    before, admin_before = secure.kafka.client_config(), secure.kafka.admin_config()
    ca, applied = material.ca_cert.read_bytes(), material.applied_file.read_text()
    for user in ("maritime-platform", "admin"):
        kafka_stack.rotate_password(secure.config, user, secure.state)
    after = secure.kafka.client_config()  # the generated client file followed
    assert after["sasl.password"] != before["sasl.password"]
    assert applied != material.applied_file.read_text()
    applied = material.applied_file.read_text()

    # The broker's own login changed with the admin's password: a restart must still come up.
    kafka_stack.stop(secure.process)
    kafka_stack.start(secure.config, secure.state, secure.process)
    assert material.ca_cert.read_bytes() == ca and material.applied_file.read_text() == applied
    assert _reaches_broker(after)[0] and _reaches_broker(secure.kafka.admin_config())[0]
    assert _refused(before) and _refused(admin_before)


@contextmanager
def _forwarder(target: tuple[str, int]):
    """TCP forwarding from 127.0.0.2 (a loopback address not in the broker certificate) to the broker."""
    server = socket.create_server(("127.0.0.2", 0))
    stop = threading.Event()

    def pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            dst.close()

    def accept() -> None:
        server.settimeout(0.5)
        while not stop.is_set():
            try:
                client, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=pipe, args=(a, b), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"127.0.0.2:{server.getsockname()[1]}"
    finally:
        stop.set()
        server.close()


def test_tls_verification_rejects_an_unknown_ca_and_a_host_outside_the_certificate(secure):
    host, port = secure.kafka.bootstrap_servers.split(":")
    settings = secure.kafka.client_config()
    assert _reaches_broker(settings)[0]

    without_ca = {k: v for k, v in settings.items() if k != "ssl.ca.location"}  # the system CAs only
    reached, codes = _reaches_broker(without_ca)
    assert not reached and KafkaError._SSL in codes

    with _forwarder((host, int(port))) as elsewhere:
        reached, codes = _reaches_broker({**settings, "bootstrap.servers": elsewhere})
        assert not reached and KafkaError._SSL in codes
        # The same path with hostname verification off gets through: the refusal above was the name check.
        assert _reaches_broker(
            {**settings, "bootstrap.servers": elsewhere, "ssl.endpoint.identification.algorithm": "none"}
        )[0]


COORDINATOR_MOVING = {
    KafkaError.NOT_COORDINATOR,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
}


def _lag(kafka, group: str) -> list:
    """The group's lag on the AIS topic; a fresh broker's offsets topic may still be moving."""
    for _ in range(30):
        try:
            return consumer_lag(kafka, group, [AIS])
        except KafkaException as exc:
            if exc.args[0].code() not in COORDINATOR_MOVING and not exc.args[0].retriable():
                raise
            time.sleep(1)
    raise AssertionError("group coordinator never became available")


def test_platform_principal_produces_simulator_events_that_bronze_lands_once(secure, spark, tmp_path):
    sink = KafkaSink(secure.kafka)
    fleet = FleetSimulator(vessels=5, hours=2, seed=11, start=datetime(2026, 11, 1, tzinfo=UTC))
    pump(fleet.events(), sink, stop=StopFlag(), log=io.StringIO())
    report = sink.close()
    assert report["failed"] == {} and report["undelivered_at_exit"] == 0
    produced = report["delivered"][AIS]
    assert produced > 100

    # The worker's own query and offset commit, on the session's Spark (one JVM fewer).
    config = load_config(
        environ={
            **secure.env,
            "MARITIME__LAKE__ROOT": str(tmp_path / "lake"),
            "MARITIME__LAKE__CHECKPOINT_ROOT": str(tmp_path / "checkpoints"),
        }
    )
    group = f"maritime-bronze-test-{uuid.uuid4().hex[:6]}"
    query = start_query(spark, config, AIS, BronzeSettings(trigger_seconds=1, metrics_port=None, consumer_group=group))
    try:
        query.processAllAvailable()
        end_offsets = progress_record(query.lastProgress)["end_offsets"]
    finally:
        query.stop()
    committer = OffsetCommitter(config.kafka, group)
    try:
        committer.commit(end_offsets)
    finally:
        committer.close()

    lag = _lag(config.kafka, group)
    assert sum(p.lag for p in lag) == 0 and all(p.committed == p.high_watermark for p in lag)
    # The other tests' marker messages (no headers) are in the topic too: Bronze lands all of it.
    in_topic = sum(p.high_watermark for p in lag)
    bronze = spark.read.format("delta").load(bronze_table(AIS).path(config.lake.root))
    assert bronze.count() == in_topic
    assert bronze.select("partition", "offset").distinct().count() == in_topic
    assert bronze.where("size(headers) > 0").count() == produced
