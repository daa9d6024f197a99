"""MLflow with basic auth on, against a real server.

The server is this module's own: the platform's command line and environment
(`maritime_stack.mlflow` with `mlflow.auth: true`) on a free port, its state, backend
and artifacts in a temporary directory, stopped when the module ends.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

from maritime_stack import mlflow as mlflow_stack
from maritimeiq.config import load_config
from tests.integration.servers import free_port, running_server

pytestmark = pytest.mark.integration


def _call(
    uri: str,
    method: str,
    path: str,
    auth: tuple[str, str] | None = None,
    body: dict | None = None,
    params: dict | None = None,
) -> tuple[int, dict]:
    """One REST call; (status, JSON body or {})."""
    url = f"{uri}/{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
    request = urllib.request.Request(url, method=method)
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, data=data, timeout=10) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, {}


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    """(config, state dir, admin credentials) of a running auth-enabled server."""
    root = tmp_path_factory.mktemp("mlflow-auth")
    port = free_port()
    config = load_config(
        environ={
            "MARITIME__MLFLOW__AUTH": "true",
            "MARITIME__MLFLOW__PORT": str(port),
            "MARITIME__MLFLOW__TRACKING_URI": f"http://127.0.0.1:{port}",
            "MARITIME__MLFLOW__BACKEND_STORE_URI": f"sqlite:///{root / 'mlflow.db'}",
            "MARITIME__MLFLOW__ARTIFACTS_DESTINATION": str(root / "artifacts"),
        }
    )
    state = root / "state"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(mlflow_stack.ADMIN_PASSWORD_ENV, raising=False)  # generated, not injected
        env = mlflow_stack.server_env(config, state)
    admin = (mlflow_stack.ADMIN_USER, env["MLFLOW_AUTH_ADMIN_PASSWORD"])
    with running_server(
        mlflow_stack.server_command(config),
        env,
        root / "server.log",
        lambda: mlflow_stack.is_ready(config),
        "mlflow server",
    ):
        yield config, state, admin


def test_health_is_open_and_the_api_wants_the_admins_password(auth_server):
    config, _, (user, password) = auth_server
    uri = config.mlflow.tracking_uri
    assert _call(uri, "GET", "health")[0] == 200
    search = "api/2.0/mlflow/experiments/search"
    params = {"max_results": 10}
    assert _call(uri, "GET", search, params=params)[0] == 401
    assert _call(uri, "GET", search, auth=(user, password + "x"), params=params)[0] == 401
    assert _call(uri, "GET", search, auth=("nobody", password), params=params)[0] == 401
    status, body = _call(uri, "GET", search, auth=(user, password), params=params)
    assert status == 200
    assert "Default" in {e["name"] for e in body["experiments"]}


def test_a_new_user_reads_an_experiment_only_once_granted(auth_server):
    config, _, admin = auth_server
    uri = config.mlflow.tracking_uri
    status, body = _call(uri, "POST", "api/2.0/mlflow/experiments/create", auth=admin, body={"name": "fleet-emissions"})
    assert status == 200, body
    experiment_id = body["experiment_id"]
    analyst = ("analyst", "analyst-password-1")
    status, body = _call(
        uri, "POST", "api/2.0/mlflow/users/create", auth=admin, body={"username": analyst[0], "password": analyst[1]}
    )
    assert status == 200 and body["user"]["is_admin"] is False, body

    get = ("GET", "api/2.0/mlflow/experiments/get")
    assert _call(uri, *get, auth=analyst, params={"experiment_id": experiment_id})[0] == 403

    status, body = _call(
        uri,
        "POST",
        "api/3.0/mlflow/users/permissions/grant",
        auth=admin,
        body={
            "username": analyst[0],
            "resource_type": "experiment",
            "resource_id": experiment_id,
            "permission": "READ",
        },
    )
    assert status == 200, body
    status, body = _call(uri, *get, auth=analyst, params={"experiment_id": experiment_id})
    assert status == 200 and body["experiment"]["name"] == "fleet-emissions"
    # READ does not let the user write into the experiment.
    status, _ = _call(uri, "POST", "api/2.0/mlflow/runs/create", auth=analyst, body={"experiment_id": experiment_id})
    assert status == 403
    # Only an admin manages users.
    status, _ = _call(
        uri,
        "POST",
        "api/2.0/mlflow/users/create",
        auth=analyst,
        body={"username": "mallory", "password": "mallory-password-1"},
    )
    assert status == 403


def test_the_mlflow_default_connection_logs_a_run(auth_server, monkeypatch):
    """Platform config → `AIRFLOW_CONN_MLFLOW_DEFAULT` → `mlflow_environment` (what the model
    DAGs call) → the mlflow client, credentials only from the environment."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from maritime_stack.airflow import connections
    from maritimeiq.operators import mlflow_environment

    config, _, (user, password) = auth_server
    # The test server's password, handed over the way a deployment injects one.
    monkeypatch.setenv(mlflow_stack.ADMIN_PASSWORD_ENV, password)
    monkeypatch.setenv("AIRFLOW_CONN_MLFLOW_DEFAULT", connections(config)["AIRFLOW_CONN_MLFLOW_DEFAULT"])
    env = mlflow_environment("mlflow_default")
    assert env == {
        "MLFLOW_TRACKING_URI": config.mlflow.tracking_uri,
        "MLFLOW_TRACKING_USERNAME": user,
        "MLFLOW_TRACKING_PASSWORD": password,
    }

    for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(MlflowException, match="401"):
        mlflow.MlflowClient(env["MLFLOW_TRACKING_URI"]).search_experiments()

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    client = mlflow.MlflowClient(env["MLFLOW_TRACKING_URI"])
    experiment_id = client.create_experiment("maintenance-auth-test")
    run = client.create_run(experiment_id)
    client.log_metric(run.info.run_id, "roc_auc", 0.91)
    client.set_terminated(run.info.run_id)

    status, body = _call(
        config.mlflow.tracking_uri,
        "GET",
        "api/2.0/mlflow/runs/get",
        auth=(user, password),
        params={"run_id": run.info.run_id},
    )
    assert status == 200
    assert body["run"]["info"]["status"] == "FINISHED"
    assert [(m["key"], m["value"]) for m in body["run"]["data"]["metrics"]] == [("roc_auc", 0.91)]
