"""Secure mode of the local broker: SASL_SSL with SCRAM-SHA-512 for clients, mutual TLS
on the controller listener, ACLs enforced by KRaft's ``StandardAuthorizer``.

Generated once under ``<state dir>/security`` (mode 0700) and reused across restarts
(docs/KAFKA_SECURITY.md):

* ``ca.pem``/``ca.key``: a local certificate authority (openssl);
* ``broker.p12``: the broker's key and certificate signed by that CA, its SAN covering
  the advertised host, ``IP:127.0.0.1`` and ``DNS:localhost``; ``truststore.p12``: the CA
  (keytool); both PKCS12, the JDK's default store type;
* ``passwords.json`` (0600): random SCRAM passwords per user and the stores' password;
  ``applied.json``: which passwords and ACLs the broker already has, so restarts skip them;
* ``admin.properties``: the admin's ``--command-config`` for kafka-topics, kafka-acls,
  kafka-configs and kafka-consumer-groups.

Clients read ``<state dir>/client.yaml`` (platform user) and ``admin.yaml`` (admin)
through ``kafka.security.client_file``/``admin_file``. Passwords never reach a command
line: openssl and keytool read them from the environment, the Kafka tools from a 0600
argument file (``java @file``).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from ipaddress import ip_address
from pathlib import Path

import yaml

from maritimeiq.config import KafkaConfig
from maritimeiq.kafka_auth import jaas

BROKER_CN = "maritimeiq-kafka"
STORE_PASSWORD_ENV = "MARITIME_KAFKA_STORE_PASSWORD"  # pragma: allowlist secret (a variable name)
CA_DAYS, BROKER_DAYS = 3650, 825
RENEW_SECONDS = 30 * 24 * 3600  # reissue a certificate that expires within 30 days


@dataclass(frozen=True)
class Secrets:
    store_password: str
    passwords: Mapping[str, str]  # SCRAM user -> password


@dataclass(frozen=True)
class Material:
    """Where the generated files of one broker live."""

    state_dir: Path

    @property
    def root(self) -> Path:
        return self.state_dir / "security"

    ca_key = property(lambda self: self.root / "ca.key")
    ca_cert = property(lambda self: self.root / "ca.pem")
    broker_cert = property(lambda self: self.root / "broker.pem")
    broker_san = property(lambda self: self.root / "broker.san")
    keystore = property(lambda self: self.root / "broker.p12")
    truststore = property(lambda self: self.root / "truststore.p12")
    passwords_file = property(lambda self: self.root / "passwords.json")
    applied_file = property(lambda self: self.root / "applied.json")
    admin_properties = property(lambda self: self.root / "admin.properties")
    client_file = property(lambda self: self.state_dir / "client.yaml")
    admin_file = property(lambda self: self.state_dir / "admin.yaml")


def users(kafka: KafkaConfig) -> list[str]:
    return [kafka.security.admin_user, kafka.security.client_user]


def san(host: str) -> str:
    """subjectAltName of the broker certificate: the advertised host plus loopback, where
    the controller listener and local clients connect (hostname verification checks it)."""
    try:
        own = f"IP:{ip_address(host)}"
    except ValueError:
        own = f"DNS:{host}"
    return ",".join(dict.fromkeys([own, "IP:127.0.0.1", "DNS:localhost"]))


def listener_properties(kafka: KafkaConfig, host: str, port: int, material: Material, secrets_: Secrets) -> list[str]:
    """server.properties lines of the secure listeners, authentication and authorization."""
    security = kafka.security
    controller = f"127.0.0.1:{kafka.controller_port}"
    store = secrets_.store_password
    mechanism = security.mechanism
    return [
        f"controller.quorum.voters=1@{controller}",
        f"listeners=SASL_SSL://{host}:{port},CONTROLLER://{controller}",
        f"advertised.listeners=SASL_SSL://{host}:{port}",
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=SASL_SSL",
        # A plaintext controller listener would need its ANONYMOUS principal as a super user,
        # and controllers accept CreateAcls and AlterUserScramCredentials directly: anyone on
        # the host could grant themselves anything. It takes the broker's certificate instead.
        "listener.security.protocol.map=CONTROLLER:SSL,SASL_SSL:SASL_SSL",
        "listener.name.controller.ssl.client.auth=required",
        f"sasl.enabled.mechanisms={mechanism}",
        f"sasl.mechanism.inter.broker.protocol={mechanism}",
        f"listener.name.sasl_ssl.{mechanism.lower()}.sasl.jaas.config="
        + jaas(security.admin_user, secrets_.passwords[security.admin_user]),
        "ssl.keystore.type=PKCS12",
        f"ssl.keystore.location={material.keystore}",
        f"ssl.keystore.password={store}",
        "ssl.truststore.type=PKCS12",
        f"ssl.truststore.location={material.truststore}",
        f"ssl.truststore.password={store}",
        "ssl.endpoint.identification.algorithm=https",
        "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        f"super.users=User:{security.admin_user};User:CN={BROKER_CN}",
        "allow.everyone.if.no.acl.found=false",
    ]


def scram_arguments(kafka: KafkaConfig, secrets_: Secrets) -> list[str]:
    """kafka-storage format arguments that bootstrap every user's SCRAM credential."""
    mechanism = kafka.security.mechanism
    return [
        arg
        for user in users(kafka)
        for arg in ("--add-scram", f"{mechanism}=[name={user},password={secrets_.passwords[user]}]")
    ]


def acl_commands(kafka: KafkaConfig) -> list[list[str]]:
    """kafka-acls arguments granting the platform user what its clients do: produce and
    consume the prefixed topics, commit offsets of the prefixed consumer groups. Topic
    creation and configuration stay with the admin (``topics.apply_topics``)."""
    security = kafka.security
    principal = ["--add", "--allow-principal", f"User:{security.client_user}", "--resource-pattern-type", "prefixed"]
    return [
        [
            *principal,
            "--operation",
            "Read",
            "--operation",
            "Write",
            "--operation",
            "Describe",
            "--topic",
            security.topic_prefix,
        ],
        [*principal, "--operation", "Read", "--group", security.group_prefix],
    ]


# -- generated files -------------------------------------------------------------------------
def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, whatever mode it had before."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(text)


def new_password() -> str:
    return secrets.token_urlsafe(24)


def load_secrets(kafka: KafkaConfig, material: Material) -> tuple[Secrets, bool]:
    """Passwords of every configured user, new ones generated for users without one.
    Returns (secrets, whether the stores' password is new)."""
    data = json.loads(material.passwords_file.read_text()) if material.passwords_file.exists() else {}
    stored = dict(data.get("users", {}))
    new_store = "stores" not in data
    wanted = {user: stored.get(user) or new_password() for user in users(kafka)}
    result = Secrets(data.get("stores") or new_password(), {**stored, **wanted})
    if new_store or wanted != {u: stored.get(u) for u in wanted}:
        save_secrets(material, result)
    return result, new_store


def save_secrets(material: Material, secrets_: Secrets) -> None:
    write_private(
        material.passwords_file,
        json.dumps({"stores": secrets_.store_password, "users": dict(secrets_.passwords)}, indent=2),
    )


def digest(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


def load_applied(material: Material) -> dict:
    """What the broker already has: {"users": {user: password digest}, "acls": [kafka-acls args]}."""
    if not material.applied_file.exists():
        return {"users": {}, "acls": []}
    return json.loads(material.applied_file.read_text())


def save_applied(material: Material, applied: dict) -> None:
    write_private(material.applied_file, json.dumps(applied, indent=2))


def ensure_material(kafka: KafkaConfig, host: str, material: Material) -> Secrets:
    """CA, broker keystore and truststore, passwords: made when missing, expiring or, for the
    broker certificate, when the advertised host left its SAN. Idempotent."""
    material.root.mkdir(parents=True, exist_ok=True)
    material.root.chmod(0o700)
    secrets_, new_store = load_secrets(kafka, material)
    env = {**os.environ, STORE_PASSWORD_ENV: secrets_.store_password}
    new_ca = not (material.ca_key.exists() and _valid(material.ca_cert))
    if new_ca:
        _new_ca(material)
    wanted_san = san(host)
    if (
        new_ca
        or new_store
        or not material.keystore.exists()
        or not _valid(material.broker_cert)
        or not material.broker_san.exists()
        or material.broker_san.read_text() != wanted_san
    ):
        _new_broker_keystore(material, wanted_san, env)
    if new_ca or new_store or not material.truststore.exists():
        material.truststore.unlink(missing_ok=True)
        _run(
            [
                "keytool",
                "-importcert",
                "-noprompt",
                "-alias",
                "ca",
                "-file",
                str(material.ca_cert),
                "-keystore",
                str(material.truststore),
                "-storetype",
                "PKCS12",
                "-storepass:env",
                STORE_PASSWORD_ENV,
            ],
            env,
        )
    return secrets_


def client_settings(kafka: KafkaConfig, material: Material, secrets_: Secrets, user: str) -> dict[str, str]:
    """librdkafka settings of one user against this broker (hostname verification is
    librdkafka's default, ``ssl.endpoint.identification.algorithm=https``)."""
    return {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": kafka.security.mechanism,
        "sasl.username": user,
        "sasl.password": secrets_.passwords[user],
        "ssl.ca.location": str(material.ca_cert),
    }


def write_client_files(kafka: KafkaConfig, material: Material, secrets_: Secrets) -> None:
    """The admin's tool command-config and the librdkafka settings of the admin and platform users."""
    security = kafka.security
    admin = security.admin_user
    write_private(
        material.admin_properties,
        "\n".join(
            [
                "security.protocol=SASL_SSL",
                f"sasl.mechanism={security.mechanism}",
                f"sasl.jaas.config={jaas(admin, secrets_.passwords[admin])}",
                "ssl.truststore.type=PEM",
                f"ssl.truststore.location={material.ca_cert}",
                "ssl.endpoint.identification.algorithm=https",
                "",
            ]
        ),
    )
    for path, user in ((material.client_file, security.client_user), (material.admin_file, admin)):
        write_private(
            path,
            f"# Kafka client settings of {user}, generated by the local stack. Never commit.\n"
            + yaml.safe_dump(client_settings(kafka, material, secrets_, user), sort_keys=False),
        )


@contextmanager
def argument_file(directory: Path, args: Sequence[str]) -> Iterator[Path]:
    """A 0600 ``java @file`` holding a tool's class and arguments, removed afterwards: what
    is in it never shows in the process list."""
    fd, name = tempfile.mkstemp(prefix="args-", dir=directory)
    os.close(fd)
    path = Path(name)
    # Java argument files: one quoted argument per line, backslash escapes inside quotes.
    quoted = ('"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"' for arg in args)
    try:
        write_private(path, "\n".join(quoted) + "\n")
        yield path
    finally:
        path.unlink(missing_ok=True)


# -- certificates ----------------------------------------------------------------------------
def _run(argv: list[str], env: Mapping[str, str] | None = None) -> None:
    done = subprocess.run(argv, env=dict(env) if env is not None else None, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:2])} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


def _valid(cert: Path) -> bool:
    if not cert.exists():
        return False
    return (
        subprocess.run(
            ["openssl", "x509", "-in", str(cert), "-noout", "-checkend", str(RENEW_SECONDS)], capture_output=True
        ).returncode
        == 0
    )


def _new_ca(material: Material) -> None:
    conf = material.root / "ca.cnf"
    conf.write_text(
        "\n".join(
            [
                "[req]",
                "distinguished_name = dn",
                "prompt = no",
                "[dn]",
                "CN = MaritimeIQ local Kafka CA",
                "[ca]",
                "basicConstraints = critical,CA:TRUE,pathlen:0",
                "keyUsage = critical,keyCertSign,cRLSign",
                "subjectKeyIdentifier = hash",
                "",
            ]
        )
    )
    try:
        _run(
            [
                "openssl",
                "req",
                "-x509",
                "-config",
                str(conf),
                "-extensions",
                "ca",
                "-newkey",
                "rsa:3072",
                "-noenc",
                "-sha256",
                "-days",
                str(CA_DAYS),
                "-keyout",
                str(material.ca_key),
                "-out",
                str(material.ca_cert),
            ]
        )
        material.ca_key.chmod(0o600)
    finally:
        conf.unlink(missing_ok=True)


def _new_broker_keystore(material: Material, subject_alt_name: str, env: Mapping[str, str]) -> None:
    key, csr, conf = (material.root / name for name in ("broker.key", "broker.csr", "broker.cnf"))
    conf.write_text(
        "\n".join(
            [
                "[broker]",
                f"subjectAltName = {subject_alt_name}",
                "basicConstraints = critical,CA:FALSE",
                "keyUsage = critical,digitalSignature,keyEncipherment",
                # clientAuth too: the broker presents this certificate to its controller listener.
                "extendedKeyUsage = serverAuth,clientAuth",
                "subjectKeyIdentifier = hash",
                "authorityKeyIdentifier = keyid",
                "",
            ]
        )
    )
    try:
        _run(
            [
                "openssl",
                "req",
                "-new",
                "-newkey",
                "rsa:2048",
                "-noenc",
                "-subj",
                f"/CN={BROKER_CN}",
                "-keyout",
                str(key),
                "-out",
                str(csr),
            ]
        )
        key.chmod(0o600)
        _run(
            [
                "openssl",
                "x509",
                "-req",
                "-in",
                str(csr),
                "-CA",
                str(material.ca_cert),
                "-CAkey",
                str(material.ca_key),
                "-set_serial",
                f"0x{secrets.token_hex(16)}",
                "-sha256",
                "-days",
                str(BROKER_DAYS),
                "-extfile",
                str(conf),
                "-extensions",
                "broker",
                "-out",
                str(material.broker_cert),
            ]
        )
        # The key lives on only inside the password-protected PKCS12 keystore.
        _run(
            [
                "openssl",
                "pkcs12",
                "-export",
                "-name",
                "broker",
                "-inkey",
                str(key),
                "-in",
                str(material.broker_cert),
                "-certfile",
                str(material.ca_cert),
                "-out",
                str(material.keystore),
                "-passout",
                f"env:{STORE_PASSWORD_ENV}",
            ],
            env,
        )
        material.keystore.chmod(0o600)
        material.broker_san.write_text(subject_alt_name)
    finally:
        for path in (key, csr, conf):
            path.unlink(missing_ok=True)
