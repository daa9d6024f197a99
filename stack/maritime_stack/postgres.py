"""PostgreSQL for the local stack: an instance of Debian's server that the project
initialises in its own folder (``postgres.state_dir``, ``var/postgres`` by default) and
starts on loopback. It holds Airflow's metadata database by default: SQLite cannot take
the scheduler, dag-processor, API server, task runners and the ``airflow`` CLI writing at
once (``database is locked``).

Password authentication (scram-sha-256) over TCP on ``postgres.host`` only, no Unix
socket. The passwords of the superuser and of each database's owner are generated once
into ``<state>/passwords.json`` (mode 600, under the git-ignored ``var/``). PostgreSQL
refuses to run as root, so under root the server runs as Debian's ``postgres`` user,
which then owns the data folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import time
from pathlib import Path

from maritimeiq.config import PlatformConfig
from maritimeiq.process import ManagedProcess, wait_until

SERVER = ManagedProcess("postgres")
SUPERUSER = "maritime"
SERVER_OS_USER = "postgres"  # Debian's package creates it; used only when running as root


def server_bin() -> Path:
    """Folder of the server binaries: the newest of Debian's versions, else the PATH's."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name), reverse=True
    )
    if versions:
        return versions[0].parent
    found = shutil.which("postgres")
    if found is None:
        raise RuntimeError("PostgreSQL server binaries not found: `make setup` installs Debian's postgresql package")
    return Path(found).resolve().parent


def _state(config: PlatformConfig) -> Path:
    return Path(config.postgres.state_dir)


def data_dir(config: PlatformConfig) -> Path:
    return _state(config) / "data"


def passwords_file(config: PlatformConfig) -> Path:
    return _state(config) / "passwords.json"


def password(config: PlatformConfig, role: str) -> str:
    """The role's password, generated on first use and kept owner-only."""
    path = passwords_file(config)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    known = json.loads(path.read_text()) if path.exists() else {}
    if role not in known:
        known[role] = secrets.token_urlsafe(24)  # URL-safe: it goes into connection URLs unescaped
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(known, handle)
    return known[role]


def url(config: PlatformConfig, database: str) -> str:
    """SQLAlchemy URL of `database` on the local server, logged in as its owner (a role of
    the same name)."""
    host, port = config.postgres.host, config.postgres.port
    return f"postgresql+psycopg2://{database}:{password(config, database)}@{host}:{port}/{database}"


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["setpriv", f"--reuid={SERVER_OS_USER}", f"--regid={SERVER_OS_USER}", "--init-groups", "--", *argv]


def _give_to_server_user(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, SERVER_OS_USER, SERVER_OS_USER)


def ensure_cluster(config: PlatformConfig) -> None:
    """``initdb`` the data folder once, the superuser's password from the generated file."""
    data = data_dir(config)
    if (data / "PG_VERSION").exists():
        return
    state = _state(config)
    superuser_password = password(config, SUPERUSER)
    data.mkdir(parents=True, exist_ok=True, mode=0o700)
    _give_to_server_user(data)
    pwfile = state / "initdb.pw"
    fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(superuser_password + "\n")
    _give_to_server_user(pwfile)
    _give_to_server_user(state)  # the server user must reach its data folder
    try:
        result = subprocess.run(
            _as_server_user(
                [
                    str(server_bin() / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    SUPERUSER,
                    f"--pwfile={pwfile}",
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C",
                ]
            ),
            capture_output=True,
            text=True,
        )
    finally:
        pwfile.unlink(missing_ok=True)
    if result.returncode != 0:
        shutil.rmtree(data, ignore_errors=True)
        raise RuntimeError(f"initdb failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")


def server_command(config: PlatformConfig) -> list[str]:
    return _as_server_user(
        [
            str(server_bin() / "postgres"),
            "-D",
            str(data_dir(config)),
            "-p",
            str(config.postgres.port),
            "-c",
            f"listen_addresses={config.postgres.host}",
            "-c",
            "unix_socket_directories=",
            # Every Airflow process keeps a pool; LocalExecutor task runners open their own.
            "-c",
            f"max_connections={config.postgres.max_connections}",
            "-c",
            "shared_buffers=128MB",
        ]
    )


def start(config: PlatformConfig, databases: tuple[str, ...] = ("airflow",)) -> None:
    if not SERVER.running():
        ensure_cluster(config)
        SERVER.start(server_command(config), dict(os.environ))
        wait_until(lambda: is_ready(config), timeout=60, what="PostgreSQL", process=SERVER)
    for database in databases:
        ensure_database(config, database)


def stop() -> bool:
    pid = SERVER.pid()
    if pid is None:
        return SERVER.stop()
    # SIGINT is PostgreSQL's fast shutdown (SIGTERM would wait for every client to leave).
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and SERVER.running():
        time.sleep(0.1)
    SERVER.stop(timeout=15)  # whatever is left of its process group
    return True


def _connect(config: PlatformConfig, database: str = "postgres"):
    import psycopg2

    return psycopg2.connect(
        host=config.postgres.host,
        port=config.postgres.port,
        user=SUPERUSER,
        password=password(config, SUPERUSER),
        dbname=database,
        connect_timeout=3,
    )


def is_ready(config: PlatformConfig) -> bool:
    import psycopg2

    try:
        _connect(config).close()
        return True
    except psycopg2.OperationalError:
        return False


def ensure_database(config: PlatformConfig, database: str) -> None:
    """The database and its owner role (same name), the role's password as generated."""
    from psycopg2 import sql

    connection = _connect(config)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (database,))
            verb = "ALTER" if cursor.fetchone() else "CREATE"
            cursor.execute(
                sql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(database), sql.Literal(password(config, database))
                )
            )
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
            if not cursor.fetchone():
                cursor.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database), sql.Identifier(database))
                )
    finally:
        connection.close()
