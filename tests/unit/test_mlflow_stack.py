"""The MLflow server's settings: basic-auth files, command line, environment, Connection."""

from __future__ import annotations

import json
import stat

import pytest

from maritime_stack import mlflow as mlflow_stack
from maritime_stack.airflow import connections
from maritimeiq.config import load_config


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _config(tmp_path, auth: bool):
    return load_config(
        environ={
            "MARITIME__MLFLOW__AUTH": str(auth).lower(),
            "MARITIME__MLFLOW__BACKEND_STORE_URI": f"sqlite:///{tmp_path / 'db' / 'mlflow.db'}",
            "MARITIME__MLFLOW__ARTIFACTS_DESTINATION": str(tmp_path / "artifacts"),
        }
    )


@pytest.fixture
def no_injected_password(monkeypatch):
    monkeypatch.delenv(mlflow_stack.ADMIN_PASSWORD_ENV, raising=False)


def test_auth_files_are_private_stable_and_keep_secrets_out_of_the_ini(tmp_path, monkeypatch, no_injected_password):
    state = tmp_path / "state"
    first = mlflow_stack.auth_env(state)
    ini = state / "basic_auth.ini"
    files = [ini, state / "admin_password", state / "flask_secret_key"]
    assert first["MLFLOW_AUTH_CONFIG_PATH"] == str(ini)
    assert [_mode(f) for f in files] == [0o600] * 3
    assert _mode(state) == 0o700  # the auth DB created there later inherits no wider access
    ini_text = ini.read_text()

    ini.chmod(0o644)  # a loosened file is tightened again at the next start
    second = mlflow_stack.auth_env(state)
    assert second == first
    assert ini.read_text() == ini_text
    assert [_mode(f) for f in files] == [0o600] * 3
    assert sorted(p.name for p in state.iterdir()) == sorted(f.name for f in files)  # no drafts left

    password, key = first["MLFLOW_AUTH_ADMIN_PASSWORD"], first["MLFLOW_FLASK_SERVER_SECRET_KEY"]
    assert password != key
    assert password not in ini_text and key not in ini_text

    # Read the way the server reads it: the ini for settings, the environment for the password.
    from mlflow.server.auth.config import read_auth_config

    for name, value in first.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MLFLOW_AUTH_ADMIN_USERNAME", raising=False)
    auth = read_auth_config()
    assert auth.default_permission == "NO_PERMISSIONS"
    assert auth.database_uri == f"sqlite:///{state / 'basic_auth.db'}"
    assert auth.admin_username == "admin"
    assert auth.admin_password == password
    assert len(auth.admin_password) >= 12  # MLflow's password policy
    monkeypatch.delenv("MLFLOW_AUTH_ADMIN_PASSWORD")
    assert read_auth_config().admin_password is None  # the ini alone holds no password


def test_an_injected_admin_password_wins_and_is_not_written(tmp_path, monkeypatch):
    monkeypatch.setenv(mlflow_stack.ADMIN_PASSWORD_ENV, "injected-from-a-vault")
    env = mlflow_stack.auth_env(tmp_path)
    assert env["MLFLOW_AUTH_ADMIN_PASSWORD"] == "injected-from-a-vault"
    assert not (tmp_path / "admin_password").exists()


def test_command_and_environment_follow_the_auth_switch(tmp_path, no_injected_password):
    plain = _config(tmp_path, auth=False)
    argv = mlflow_stack.server_command(plain)
    assert argv[argv.index("--host") + 1] == "127.0.0.1"
    assert "--app-name" not in argv
    env = mlflow_stack.server_env(plain, tmp_path / "state", base={})
    assert not any(name.startswith("MLFLOW_AUTH") for name in env)
    assert "MLFLOW_FLASK_SERVER_SECRET_KEY" not in env
    assert not (tmp_path / "state").exists()

    secured = _config(tmp_path, auth=True)
    argv = mlflow_stack.server_command(secured)
    assert argv[argv.index("--app-name") + 1] == "basic-auth"
    assert argv[argv.index("--host") + 1] == "127.0.0.1"
    env = mlflow_stack.server_env(secured, tmp_path / "state", base={})
    assert env["MLFLOW_AUTH_CONFIG_PATH"] == str(tmp_path / "state" / "basic_auth.ini")
    assert env["MLFLOW_AUTH_ADMIN_PASSWORD"] == (tmp_path / "state" / "admin_password").read_text()
    assert env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] == "false"
    assert (tmp_path / "db").is_dir() and (tmp_path / "artifacts").is_dir()


def test_mlflow_connection_carries_the_admin_login_only_with_auth(tmp_path, monkeypatch):
    monkeypatch.setenv(mlflow_stack.ADMIN_PASSWORD_ENV, "injected-from-a-vault")
    plain = json.loads(connections(_config(tmp_path, auth=False))["AIRFLOW_CONN_MLFLOW_DEFAULT"])
    assert plain == {"conn_type": "http", "host": "http://127.0.0.1:5000"}
    secured = json.loads(connections(_config(tmp_path, auth=True))["AIRFLOW_CONN_MLFLOW_DEFAULT"])
    assert secured == {
        "conn_type": "http",
        "host": "http://127.0.0.1:5000",
        "login": "admin",
        "password": "injected-from-a-vault",
    }
