"""Where Airflow keeps its metadata, and the local PostgreSQL's command and passwords
(no server started here: `tests/integration/test_stack.py` runs it)."""

from __future__ import annotations

import json
import os
from urllib.parse import urlsplit

import pytest

from maritime_stack import postgres as postgres_stack
from maritime_stack.airflow import metadata_database_url
from maritimeiq.config import ConfigError, load_config


def _config(tmp_path, **env: str):
    return load_config(environ={"MARITIME__POSTGRES__STATE_DIR": str(tmp_path / "pg"), **env})


def test_airflow_metadata_defaults_to_the_stacks_postgres_with_a_generated_private_password(tmp_path):
    config = _config(tmp_path)
    url = urlsplit(metadata_database_url(config))
    assert (url.scheme, url.hostname, url.port, url.path) == ("postgresql+psycopg2", "127.0.0.1", 5433, "/airflow")
    stored = json.loads((tmp_path / "pg" / "passwords.json").read_text())
    assert url.username == "airflow" and url.password == stored["airflow"] and len(url.password) >= 24
    assert (tmp_path / "pg" / "passwords.json").stat().st_mode & 0o777 == 0o600
    assert metadata_database_url(config) == metadata_database_url(_config(tmp_path))  # generated once


def test_sqlite_on_request_and_a_users_own_url_first(tmp_path):
    sqlite = _config(tmp_path, MARITIME__AIRFLOW__DATABASE="sqlite", MARITIME__AIRFLOW__HOME=str(tmp_path / "af"))
    assert metadata_database_url(sqlite) == f"sqlite:///{tmp_path / 'af' / 'airflow.db'}"
    assert not sqlite.airflow.uses_local_postgres
    own = "postgresql+psycopg2://airflow:pw@db.internal:5432/airflow"  # pragma: allowlist secret
    assert metadata_database_url(_config(tmp_path, MARITIME__AIRFLOW__DATABASE_URL=own)) == own
    assert not (tmp_path / "pg").exists()  # no password generated for a server the stack does not run
    with pytest.raises(ConfigError, match="airflow.database"):
        _config(tmp_path, MARITIME__AIRFLOW__DATABASE="mysql")


def test_server_listens_on_loopback_only_and_never_as_root(tmp_path):
    config = _config(tmp_path, MARITIME__POSTGRES__PORT="55433")
    argv = postgres_stack.server_command(config)
    assert "listen_addresses=127.0.0.1" in argv and "unix_socket_directories=" in argv
    assert argv[argv.index("-p") + 1] == "55433"
    assert argv[argv.index("-D") + 1] == str(tmp_path / "pg" / "data")
    if os.geteuid() == 0:
        assert argv[:2] == ["setpriv", "--reuid=postgres"]
    else:
        assert argv[0].endswith("/postgres")
