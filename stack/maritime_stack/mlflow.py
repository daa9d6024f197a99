"""MLflow tracking server with model registry (SQLite backend, local artifact store).

With ``mlflow.auth`` on, the server runs MLflow's ``basic-auth`` app. Its settings go to
``<state>/basic_auth.ini``, which holds no secret; its users and grants to its own SQLite
DB, ``<state>/basic_auth.db``. The admin password and the Flask secret key are generated
once into ``<state>/admin_password`` and ``<state>/flask_secret_key`` (mode 600, under the
git-ignored ``var/``) and reach the server as environment variables. ``<state>`` is
``var/mlflow`` unless a caller (a test) passes a directory of its own.
"""

from __future__ import annotations

import os
import secrets
import urllib.error
import urllib.request
from pathlib import Path

from maritime_stack import VENV_BIN
from maritimeiq.config import PROJECT_ROOT, PlatformConfig
from maritimeiq.process import ManagedProcess, wait_until

SERVER = ManagedProcess("mlflow")
STATE_DIR = PROJECT_ROOT / "var" / "mlflow"
ADMIN_USER = "admin"
# Takes precedence over the generated file, for a password injected from a secret store.
ADMIN_PASSWORD_ENV = "MARITIME_MLFLOW_ADMIN_PASSWORD"


def start(config: PlatformConfig, state_dir: Path = STATE_DIR) -> None:
    if SERVER.running():
        return
    SERVER.start(server_command(config), server_env(config, state_dir))
    wait_until(lambda: is_ready(config), timeout=120, what="MLflow server", process=SERVER)


def stop() -> bool:
    return SERVER.stop(timeout=30)


def is_ready(config: PlatformConfig) -> bool:
    # /health answers without credentials when basic auth is on as well.
    try:
        with urllib.request.urlopen(f"{config.mlflow.tracking_uri}/health", timeout=3) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def server_command(config: PlatformConfig) -> list[str]:
    """``mlflow server`` argv; creates the local artifact and backend directories."""
    artifacts = config.mlflow.artifacts_destination
    if "://" not in artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
    backend = config.mlflow.backend_store_uri
    if backend.startswith("sqlite:///"):
        Path(backend.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    argv = [
        str(VENV_BIN / "mlflow"),
        "server",
        # Loopback only by default: without auth, whoever reaches the port can write the
        # registry, and loading a registered model runs its code.
        "--host",
        config.mlflow.host,
        "--port",
        str(config.mlflow.port),
        "--backend-store-uri",
        backend,
        "--artifacts-destination",
        artifacts,
        "--serve-artifacts",
        "--workers",
        "1",
    ]
    if config.mlflow.auth:
        argv += ["--app-name", "basic-auth"]
    return argv


def server_env(
    config: PlatformConfig, state_dir: Path = STATE_DIR, base: dict[str, str] | None = None
) -> dict[str, str]:
    env = {
        **(os.environ if base is None else base),
        "MLFLOW_TRACKING_URI": config.mlflow.tracking_uri,
        # The server's job runner (GenAI evaluation jobs) starts seven huey consumers,
        # ~1 GiB idle; the platform's tracking and registry use needs none of them.
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    if config.mlflow.auth:
        env.update(auth_env(state_dir))
    return env


def auth_env(state_dir: Path = STATE_DIR) -> dict[str, str]:
    """What the ``basic-auth`` app reads from its environment. MLflow takes the admin
    password only to create the admin in an empty auth DB and ignores it afterwards. The
    Flask secret key signs CSRF tokens and must be the same for every worker and restart."""
    return {
        "MLFLOW_AUTH_CONFIG_PATH": str(write_auth_config(state_dir)),
        "MLFLOW_AUTH_ADMIN_PASSWORD": admin_password(state_dir),
        "MLFLOW_FLASK_SERVER_SECRET_KEY": _generated_secret(state_dir / "flask_secret_key"),
    }


def write_auth_config(state_dir: Path = STATE_DIR) -> Path:
    """Write ``basic_auth.ini``; the same content on every start for the same state dir."""
    # Owner-only: the auth DB that MLflow creates here holds the users' password hashes.
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    state_dir.chmod(0o700)
    path = state_dir / "basic_auth.ini"
    # NO_PERMISSIONS: a user reaches only what they created or were granted. READ would let
    # every account read every experiment and model (and their pickled artifacts).
    text = (
        "# Written by maritime_stack.mlflow at every start: edits are overwritten.\n"
        "[mlflow]\n"
        "default_permission = NO_PERMISSIONS\n"
        f"database_uri = sqlite:///{state_dir / 'basic_auth.db'}\n"
        f"admin_username = {ADMIN_USER}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its old mode through O_CREAT
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    return path


def admin_password(state_dir: Path = STATE_DIR) -> str:
    """The admin's password: ``MARITIME_MLFLOW_ADMIN_PASSWORD`` if set, otherwise the one
    generated into ``<state>/admin_password`` on first use."""
    return os.environ.get(ADMIN_PASSWORD_ENV) or _generated_secret(state_dir / "admin_password")


def _generated_secret(path: Path) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
        try:
            os.link(draft, path)  # atomic and exclusive: concurrent first starts agree on one
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()
