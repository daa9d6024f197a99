"""Secure Kafka mode without a broker: configuration, broker properties, the Java client's
options, and the generated material. Expected values are written out by hand."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from maritime_stack import kafka as kafka_stack
from maritime_stack import kafka_security
from maritime_stack.kafka_security import Material, Secrets
from maritime_streaming.bronze import spark_kafka_options
from maritimeiq.config import load_config

SECRETS = Secrets("store-pw", {"admin": "admin-pw", "maritime-platform": "platform-pw"})
SCRAM = "org.apache.kafka.common.security.scram.ScramLoginModule"


def secure_config(tmp_path: Path, **env: str):
    return load_config(
        environ={
            "MARITIME__KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:19092",
            "MARITIME__KAFKA__CONTROLLER_PORT": "19093",
            "MARITIME__KAFKA__SECURITY__ENABLED": "true",
            "MARITIME__KAFKA__SECURITY__CLIENT_FILE": str(tmp_path / "client.yaml"),
            "MARITIME__KAFKA__SECURITY__ADMIN_FILE": str(tmp_path / "admin.yaml"),
            **env,
        }
    )


def properties(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_security_is_off_by_default_and_the_plaintext_broker_is_unchanged():
    config = load_config(environ={})
    assert config.kafka.security.enabled is False
    assert (config.kafka.security.admin_user, config.kafka.security.client_user) == ("admin", "maritime-platform")
    assert (
        config.kafka.admin_config()
        == config.kafka.client_config()
        == {"bootstrap.servers": "127.0.0.1:9092", "security.protocol": "PLAINTEXT"}
    )
    props = properties(kafka_stack.server_properties(config, Path("/state")))
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    assert props["listener.security.protocol.map"] == "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
    assert props["log.dirs"] == "/state/data"
    assert "authorizer.class.name" not in props


def test_secure_broker_properties(tmp_path):
    config = secure_config(tmp_path)
    props = properties(kafka_stack.server_properties(config, tmp_path, SECRETS))
    sec = tmp_path / "security"
    expected = {
        "controller.quorum.voters": "1@127.0.0.1:19093",
        "listeners": "SASL_SSL://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093",
        "advertised.listeners": "SASL_SSL://127.0.0.1:19092",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "SASL_SSL",
        "listener.security.protocol.map": "CONTROLLER:SSL,SASL_SSL:SASL_SSL",
        "listener.name.controller.ssl.client.auth": "required",
        "sasl.enabled.mechanisms": "SCRAM-SHA-512",
        "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": f'{SCRAM} required username="admin" password="admin-pw";',  # pragma: allowlist secret
        "ssl.keystore.type": "PKCS12",
        "ssl.keystore.location": f"{sec}/broker.p12",
        "ssl.keystore.password": "store-pw",  # pragma: allowlist secret
        "ssl.truststore.type": "PKCS12",
        "ssl.truststore.location": f"{sec}/truststore.p12",
        "ssl.truststore.password": "store-pw",  # pragma: allowlist secret
        "ssl.endpoint.identification.algorithm": "https",
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": "User:admin;User:CN=maritimeiq-kafka",
        "allow.everyone.if.no.acl.found": "false",
        "log.dirs": f"{tmp_path}/data-secure",
    }
    assert {key: props.get(key) for key in expected} == expected
    assert "PLAINTEXT" not in kafka_stack.server_properties(config, tmp_path, SECRETS)
    with pytest.raises(ValueError, match="secrets"):
        kafka_stack.server_properties(config, tmp_path)


def test_platform_acls_are_prefixed_read_write_describe_and_group_read():
    config = load_config(environ={"MARITIME__KAFKA__SECURITY__ENABLED": "true"})
    head = ["--add", "--allow-principal", "User:maritime-platform", "--resource-pattern-type", "prefixed"]
    assert kafka_security.acl_commands(config.kafka) == [
        [*head, "--operation", "Read", "--operation", "Write", "--operation", "Describe", "--topic", "maritime."],
        [*head, "--operation", "Read", "--group", "maritime-"],
    ]


def test_client_settings_come_from_the_generated_file_and_the_environment_wins(tmp_path):
    (tmp_path / "client.yaml").write_text(
        "sasl.username: maritime-platform\nsasl.password: from-file\nssl.ca.location: /ca.pem\n"
        "ssl.endpoint.identification.algorithm: none\n"
    )
    (tmp_path / "admin.yaml").write_text("sasl.username: admin\nsasl.password: admin-file\nssl.ca.location: /ca.pem\n")
    secured = {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "ssl.endpoint.identification.algorithm": "https",
    }

    config = secure_config(tmp_path)
    assert config.kafka.client_config(**{"group.id": "g"}) == {
        "bootstrap.servers": "127.0.0.1:19092",
        "sasl.username": "maritime-platform",
        "sasl.password": "from-file",  # pragma: allowlist secret
        "ssl.ca.location": "/ca.pem",
        **secured,
        "group.id": "g",
    }  # hostname verification cannot be turned off
    assert config.kafka.admin_config() == {
        "bootstrap.servers": "127.0.0.1:19092",
        "sasl.username": "admin",
        "sasl.password": "admin-file",  # pragma: allowlist secret
        "ssl.ca.location": "/ca.pem",
        **secured,
    }

    overridden = secure_config(tmp_path, MARITIME__KAFKA__CLIENT__SASL_PASSWORD="from-env")
    assert overridden.kafka.client_config()["sasl.password"] == "from-env"  # pragma: allowlist secret
    assert overridden.kafka.admin_config()["sasl.password"] == "admin-file"  # pragma: allowlist secret

    (tmp_path / "admin.yaml").unlink()  # no admin settings: administration runs as the client
    assert config.kafka.admin_config() == config.kafka.client_config()
    plain = load_config(environ={"MARITIME__KAFKA__SECURITY__CLIENT_FILE": str(tmp_path / "client.yaml")})
    assert plain.kafka.client_config() == {"bootstrap.servers": "127.0.0.1:9092", "security.protocol": "PLAINTEXT"}


def test_spark_options_carry_scram_jaas_pem_truststore_and_hostname_verification(tmp_path):
    (tmp_path / "client.yaml").write_text(
        'sasl.username: maritime-platform\nsasl.password: pa"ss\\word\nssl.ca.location: /state/security/ca.pem\n'
    )
    options = spark_kafka_options(secure_config(tmp_path).kafka)
    assert options == {
        "kafka.bootstrap.servers": "127.0.0.1:19092",
        "kafka.security.protocol": "SASL_SSL",
        "kafka.sasl.mechanism": "SCRAM-SHA-512",
        # JAAS quoting: the password pa"ss\word, quote and backslash escaped.
        # pragma: allowlist nextline secret
        "kafka.sasl.jaas.config": f'{SCRAM} required username="maritime-platform" password="pa\\"ss\\\\word";',
        "kafka.ssl.truststore.type": "PEM",
        "kafka.ssl.truststore.location": "/state/security/ca.pem",
        "kafka.ssl.endpoint.identification.algorithm": "https",
    }


def test_librdkafka_none_turns_into_the_java_clients_empty_algorithm():
    config = load_config(environ={"MARITIME__KAFKA__CLIENT__SSL_ENDPOINT_IDENTIFICATION_ALGORITHM": "none"})
    assert spark_kafka_options(config.kafka)["kafka.ssl.endpoint.identification.algorithm"] == ""


def test_certificate_names_cover_the_advertised_host_and_loopback():
    assert kafka_security.san("127.0.0.1") == "IP:127.0.0.1,DNS:localhost"
    assert kafka_security.san("kafka.internal") == "DNS:kafka.internal,IP:127.0.0.1,DNS:localhost"
    assert kafka_security.san("10.0.0.5") == "IP:10.0.0.5,IP:127.0.0.1,DNS:localhost"


def test_passwords_are_generated_once_per_user_and_kept_private(tmp_path):
    config = load_config(environ={"MARITIME__KAFKA__SECURITY__ENABLED": "true"})
    material = Material(tmp_path)
    material.root.mkdir()
    first, new_store = kafka_security.load_secrets(config.kafka, material)
    assert new_store and set(first.passwords) == {"admin", "maritime-platform"}
    assert len(set(first.passwords.values())) == 2 and all(len(p) >= 32 for p in first.passwords.values())
    assert material.passwords_file.stat().st_mode & 0o777 == 0o600
    again, new_store = kafka_security.load_secrets(config.kafka, material)
    assert again == first and not new_store
    renamed = load_config(
        environ={"MARITIME__KAFKA__SECURITY__ENABLED": "true", "MARITIME__KAFKA__SECURITY__CLIENT_USER": "bronze"}
    )
    third, _ = kafka_security.load_secrets(renamed.kafka, material)
    assert third.passwords["admin"] == first.passwords["admin"] and set(third.passwords) >= {"bronze"}


def test_argument_file_quotes_every_argument_and_disappears(tmp_path):
    with kafka_security.argument_file(tmp_path, ["Main", 'SCRAM=[password=a"b\\c]', "two words"]) as path:
        assert path.stat().st_mode & 0o777 == 0o600
        assert path.read_text() == '"Main"\n"SCRAM=[password=a\\"b\\\\c]"\n"two words"\n'
    assert not path.exists()


def test_material_is_made_once_and_the_broker_certificate_follows_the_host(tmp_path):
    config = load_config(environ={"MARITIME__KAFKA__SECURITY__ENABLED": "true"})
    material = Material(tmp_path)
    kafka_security.ensure_material(config.kafka, "127.0.0.1", material)
    text = subprocess.run(
        ["openssl", "x509", "-in", str(material.broker_cert), "-noout", "-subject", "-ext", "subjectAltName"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "CN = maritimeiq-kafka" in text and "IP Address:127.0.0.1, DNS:localhost" in text
    verified = subprocess.run(
        ["openssl", "verify", "-CAfile", str(material.ca_cert), str(material.broker_cert)],
        capture_output=True,
        text=True,
    )
    assert verified.returncode == 0, verified.stderr
    assert material.root.stat().st_mode & 0o777 == 0o700
    assert material.ca_key.stat().st_mode & 0o777 == 0o600 and material.keystore.stat().st_mode & 0o777 == 0o600
    assert not list(material.root.glob("broker.key"))  # the key lives only in the keystore

    stamps = {p.name: p.read_bytes() for p in material.root.iterdir()}
    kafka_security.ensure_material(config.kafka, "127.0.0.1", material)
    assert {p.name: p.read_bytes() for p in material.root.iterdir()} == stamps

    kafka_security.ensure_material(config.kafka, "kafka.internal", material)
    assert material.broker_cert.read_bytes() != stamps["broker.pem"]
    assert material.ca_cert.read_bytes() == stamps["ca.pem"]
    san = subprocess.run(
        ["openssl", "x509", "-in", str(material.broker_cert), "-noout", "-ext", "subjectAltName"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "DNS:kafka.internal" in san
