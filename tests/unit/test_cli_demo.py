"""The demo's wiring and summary: run reuse and ordering against a fake Airflow, the REST
client's reuse of an existing run, and each part of the printed summary (lake, model
registry, serving database)."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from maritime_stack import demo
from maritime_stack.airflow_api import AirflowClient

UTC = UTC


# -- demo parameters ---------------------------------------------------------------------------
def test_retraining_covers_the_engine_history_and_every_simulated_day():
    days = demo.demo_days()
    start = datetime.fromisoformat(demo.DEMO_FLEET["start"])
    assert days == [start, start + timedelta(days=1), start + timedelta(days=2)]
    # --end is the last simulated day; the first feature day is the first day of the history.
    first_feature_day = days[-1] - timedelta(days=demo.DEMO_MODEL_PARAMS["days"] - 1)
    assert first_feature_day == start - timedelta(hours=demo.DEMO_FLEET["history_hours"])
    # Training keeps at least twice the held-out weeks, after the embargo of one horizon.
    labelled = demo.DEMO_MODEL_PARAMS["days"] - demo.DEMO_MODEL_PARAMS["horizon_days"]
    held_out = 7 * demo.DEMO_MODEL_PARAMS["test_weeks"]
    assert labelled - held_out - demo.DEMO_MODEL_PARAMS["horizon_days"] >= 2 * held_out


# -- run_dag against a fake Airflow ---------------------------------------------------------------
class FakeAirflow:
    """Records calls; runs finish with `outcome` once waited for."""

    def __init__(self, existing: dict[str, str] | None = None, outcome: str = "success"):
        self.calls: list[tuple] = []
        self.runs = dict(existing or {})
        self.outcome = outcome
        self.without_tasks: set[str] = set()

    def wait_for_dag(self, dag_id):
        self.calls.append(("wait_for_dag", dag_id))

    def trigger(self, dag_id, run_id, logical_date, conf=None, data_interval=None, run_after=None):
        self.calls.append(("trigger", dag_id, run_id, logical_date, conf, data_interval, run_after))
        self.runs.setdefault(run_id, "queued")
        return {"dag_id": dag_id, "dag_run_id": run_id, "state": self.runs[run_id]}

    def unpause(self, dag_id):
        self.calls.append(("unpause", dag_id))

    def wait_until_idle(self, dag_id, progress):
        self.calls.append(("wait_until_idle", dag_id))

    def clear(self, dag_id, run_id):
        self.calls.append(("clear", dag_id, run_id))
        self.runs[run_id] = "queued"

    def wait_for_run(self, dag_id, run_id, timeout, progress):
        if self.runs[run_id] == "queued":
            self.runs[run_id] = self.outcome
        return {"dag_id": dag_id, "dag_run_id": run_id, "state": self.runs[run_id]}

    def task_instances(self, dag_id, run_id):
        return [] if run_id in self.without_tasks else [{"task_id": "job", "state": self.runs[run_id], "try_number": 1}]


def test_run_dag_creates_the_run_before_unpausing_and_orders_it_by_its_interval_end():
    client = FakeAirflow()
    start = datetime(2026, 11, 3, 2, tzinfo=UTC)
    run = demo.run_dag(
        client, "engine_maintenance_scoring", "demo__2026-11-03", start, start + timedelta(days=1), conf={"k": 1}
    )
    assert run["state"] == "success"
    assert [c[0] for c in client.calls] == ["wait_for_dag", "trigger", "unpause"]
    assert client.calls[1] == (
        "trigger",
        "engine_maintenance_scoring",
        "demo__2026-11-03",
        "2026-11-03T02:00:00Z",
        {"k": 1},
        ("2026-11-03T02:00:00Z", "2026-11-04T02:00:00Z"),
        "2026-11-04T02:00:00Z",
    )


def test_a_run_of_an_interval_still_open_runs_now():
    client = FakeAirflow()
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    before = datetime.now(UTC)
    demo.run_dag(client, "silver_promotion", "demo__now", hour, hour + timedelta(hours=1))
    run_after = datetime.fromisoformat(client.calls[1][-1].replace("Z", "+00:00"))
    assert before <= run_after <= datetime.now(UTC)  # the scheduler starts no run before its run_after


def test_run_dag_reuses_a_successful_run_and_reruns_a_failed_one():
    client = FakeAirflow(existing={"demo__ok": "success", "demo__bad": "failed"})
    start = datetime(2026, 11, 1, tzinfo=UTC)
    assert demo.run_dag(client, "gold_daily_metrics", "demo__ok", start)["state"] == "success"
    assert not [c for c in client.calls if c[0] == "clear"]
    assert client.calls[1][-1] == "2026-11-01T00:00:00Z"  # no interval: runs after its logical date
    assert demo.run_dag(client, "gold_daily_metrics", "demo__bad", start)["state"] == "success"
    assert ("clear", "gold_daily_metrics", "demo__bad") in client.calls


def test_a_run_without_task_instances_does_not_count_as_a_success():
    client = FakeAirflow()
    client.without_tasks.add("demo__early")
    assert (
        demo.run_dag(client, "engine_model_retraining", "demo__early", datetime(2026, 10, 28, tzinfo=UTC))["state"]
        == "no tasks"
    )


@pytest.fixture(scope="module")
def dags():
    return demo.load_dags()


@pytest.fixture
def pipeline(monkeypatch, platform_config, dags):
    """The demo pipeline against a fake Airflow: (client, its trigger calls)."""
    import maritimeiq.kafka_lag

    monkeypatch.setattr(maritimeiq.kafka_lag, "wait_until_caught_up", lambda *args, **kwargs: None)
    fleet = {
        "produced": ["2026-11-28T13:58:00+00:00", "2026-11-28T13:59:30+00:00"],
        "landed": "2026-11-28T14:01:00+00:00",
    }
    client = FakeAirflow()
    runs = demo.run_demo_pipeline(platform_config, client, fleet, dags)
    assert all(r["state"] == "success" for r in runs)
    return client, [c for c in client.calls if c[0] == "trigger"]


def test_the_pipeline_runs_the_intervals_each_timetable_schedules(pipeline):
    """The intervals the DAGs' cron offsets give, written out: the demo reads them from the
    timetables, so a changed schedule shows up here."""
    _, triggers = pipeline

    def daily(dag_id, days, at):
        return [
            (dag_id, f"demo__2026-11-{d:02}", f"2026-11-{d:02}T{at}:00Z", f"2026-11-{d + 1:02}T{at}:00Z") for d in days
        ]

    assert [(dag_id, run_id, *interval) for _, dag_id, run_id, _, _, interval, _ in triggers] == [
        # The hours the fleet arrived in: 13:00 and 14:00 (landed at 14:01).
        (demo.SILVER_DAG, "demo__2026-11-28T13", "2026-11-28T13:00:00Z", "2026-11-28T14:00:00Z"),
        (demo.SILVER_DAG, "demo__2026-11-28T14", "2026-11-28T14:00:00Z", "2026-11-28T15:00:00Z"),
        *daily(demo.GOLD_DAG, [2, 4], "01:00"),
        *daily(demo.VOYAGES_DAG, [3], "02:00"),
        *daily(demo.CII_DAG, [3], "03:00"),
        *daily(demo.RETRAINING_DAG, [3], "03:00"),
        *daily(demo.SCORING_DAG, [1, 2, 3], "02:00"),
        *daily(demo.TABLE_MAINTENANCE_DAG, [3], "04:30"),
        *daily(demo.SERVING_DAG, [1, 2, 3], "05:00"),
    ]


def test_the_pipeline_runs_every_dag_over_the_simulated_days_in_order(pipeline, dags):
    client, triggers = pipeline

    def day(iso):
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).date()

    intervals = defaultdict(list)  # dag_id -> [(interval start, interval end)]
    for _, dag_id, _, logical_date, _, interval, _ in triggers:
        assert interval[0] == logical_date
        intervals[dag_id].append((day(interval[0]), day(interval[1])))
    simulated = [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]
    # Retraining: --end (the day before the interval's end) is the last simulated day.
    (retraining,) = intervals[demo.RETRAINING_DAG]
    assert retraining[1] - timedelta(days=1) == simulated[-1]
    assert [t[4] for t in triggers if t[1] == demo.RETRAINING_DAG] == [demo.DEMO_MODEL_PARAMS]
    # Scoring and serving take their interval start's day; Delta maintenance its end's.
    assert [start for start, _ in intervals[demo.SCORING_DAG]] == simulated
    assert [start for start, _ in intervals[demo.SERVING_DAG]] == simulated
    assert [end for _, end in intervals[demo.TABLE_MAINTENANCE_DAG]] == [date(2026, 11, 4)]
    # Scoring starts once retraining (the demo's and the scheduler's own) is over.
    order = [c[1] for c in client.calls if c[0] in ("trigger", "wait_until_idle")]
    assert order.index(demo.RETRAINING_DAG) < order.index(demo.SCORING_DAG)
    assert ("wait_until_idle", demo.RETRAINING_DAG) in client.calls
    assert client.calls.index(("wait_until_idle", demo.RETRAINING_DAG)) < next(
        i for i, c in enumerate(client.calls) if c[:2] == ("trigger", demo.SCORING_DAG)
    )
    # Airflow creates no task instance for a logical date before the DAG's start_date.
    for _, dag_id, run_id, logical_date, *_ in triggers:
        assert datetime.fromisoformat(logical_date.replace("Z", "+00:00")) >= dags[dag_id].start_date, run_id


# -- the REST client reuses a run another client created meanwhile ---------------------------------------
class _Api(BaseHTTPRequestHandler):
    posts: list[dict] = []
    created = False

    def _reply(self, status: int, body: dict) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self):  # noqa: N802 (http.server's naming)
        if type(self).created:
            self._reply(200, {"dag_run_id": "demo__x", "state": "running"})
        else:
            self._reply(404, {"detail": "not found"})

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/auth/token":
            self._reply(201, {"access_token": "t"})
            return
        type(self).posts.append(body)
        type(self).created = True  # the run appeared between our GET and POST
        self._reply(409, {"detail": "DAG Run already exists"})

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_api():
    _Api.posts, _Api.created = [], False
    server = HTTPServer(("127.0.0.1", 0), _Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_trigger_sends_interval_and_run_after_and_reuses_a_run_that_already_exists(fake_api):
    client = AirflowClient(fake_api, "admin", "pw")
    run = client.trigger(
        "d",
        "demo__x",
        "2026-11-01T00:00:00Z",
        conf={"days": 59},
        data_interval=("2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z"),
        run_after="2026-11-02T00:00:00Z",
    )
    assert run == {"dag_run_id": "demo__x", "state": "running"}
    assert _Api.posts == [
        {
            "dag_run_id": "demo__x",
            "logical_date": "2026-11-01T00:00:00Z",
            "conf": {"days": 59},
            "data_interval_start": "2026-11-01T00:00:00Z",
            "data_interval_end": "2026-11-02T00:00:00Z",
            "run_after": "2026-11-02T00:00:00Z",
        }
    ]


# -- summary: lake -------------------------------------------------------------------------------------------
def test_lake_report_counts_ratings_and_predictions(spark):
    from maritime_jobs.lake_report import predictions_per_day, ratings_per_year, render

    ratings = spark.createDataFrame(
        [("1", 2026, "A"), ("2", 2026, "C"), ("3", 2026, "C"), ("4", 2026, "E"), ("1", 2025, "B")],
        "mmsi string, year int, rating string",
    )
    predictions = spark.createDataFrame(
        [
            ("1", date(2026, 11, 2), True, 1),
            ("2", date(2026, 11, 2), False, 1),
            ("3", date(2026, 11, 2), True, 1),
            ("1", date(2026, 11, 3), False, 2),
            ("2", date(2026, 11, 3), False, 1),
        ],
        "mmsi string, date date, predicted boolean, model_version int",
    )
    per_year = ratings_per_year(ratings)
    assert per_year == {2025: {"A": 0, "B": 1, "C": 0, "D": 0, "E": 0}, 2026: {"A": 1, "B": 0, "C": 2, "D": 0, "E": 1}}
    per_day = predictions_per_day(predictions)
    assert per_day == {
        "2026-11-02": {"vessels": 3, "predicted": 2, "model_versions": [1]},
        "2026-11-03": {"vessels": 2, "predicted": 0, "model_versions": [1, 2]},
    }
    text = render(
        {
            "tables": {"gold": {"cii_ratings": 5}},
            "quarantined_per_rule": {"ais_positions.sog_range": 7},
            "cii_ratings": per_year,
            "maintenance_predictions": per_day,
        }
    )
    assert "    2026  A    1  B    0  C    2  D    0  E    1   (4 rated)" in text.splitlines()
    assert "    2026-11-03     0 of    2 vessels predicted to need maintenance (model v1, v2)" in text.splitlines()
    assert "ais_positions.sog_range" in text


# -- summary: model registry ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """A file-backed MLflow tracking store and registry with two versions, the second the champion."""
    import mlflow
    from mlflow import MlflowClient

    tmp_path = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri)
    experiment = client.create_experiment("demo-test", artifact_location=str(tmp_path / "artifacts"))
    client.create_registered_model("maritime-maintenance")
    for _version, (decision, accuracy) in enumerate((("promoted", 0.81), ("promoted", 0.875)), start=1):
        run = client.create_run(experiment, tags={"train_first_day": "2026-09-06", "train_last_day": "2026-11-03"})
        for key, value in {
            "accuracy": accuracy,
            "baseline_accuracy": 0.6,
            "roc_auc": 0.93,
            "precision": 0.8,
            "recall": 0.9,
            "f1": 0.847,
            "test_rows": 2520.0,
            "test_positive_rate": 0.4,
        }.items():
            client.log_metric(run.info.run_id, key, value)
        client.log_param(run.info.run_id, "horizon_days", "3")
        client.log_param(run.info.run_id, "test_first_day", "2026-10-18")
        mv = client.create_model_version("maritime-maintenance", f"runs:/{run.info.run_id}/model", run.info.run_id)
        client.set_model_version_tag("maritime-maintenance", mv.version, "promotion_decision", decision)
        client.set_registered_model_alias("maritime-maintenance", "champion", mv.version)
    mlflow.set_tracking_uri(None)
    return uri


def test_model_summary_reads_the_champion_and_every_version(registry):
    summary = demo.model_summary(registry)
    assert summary["versions"] == [{"version": 1, "decision": "promoted"}, {"version": 2, "decision": "promoted"}]
    champion = summary["champion"]
    assert champion["version"] == 2 and champion["metrics"]["accuracy"] == pytest.approx(0.875)
    assert (champion["train_first_day"], champion["train_last_day"]) == ("2026-09-06", "2026-11-03")
    lines = demo.render_model(summary, "http://mlflow").splitlines()
    assert lines[0] == (
        "  Maintenance model  maritime-maintenance v2 (alias champion; versions: v1 promoted, v2 promoted)"
    )
    assert lines[1] == (
        "    feature days 2026-09-06 to 2026-11-03, maintenance within 3 days, "
        "tested on the days from 2026-10-18 (2,520 vessel-days, 40% positive)"
    )
    assert lines[2].startswith("    accuracy 0.875 (majority baseline 0.600), ROC AUC 0.930,")


def test_model_summary_before_any_training(registry):
    assert demo.model_summary(registry, "never-trained") is None
    assert demo.render_model(None, "http://mlflow") == "  Maintenance model  none registered yet (http://mlflow)"


# -- summary: serving database ----------------------------------------------------------------------------
def test_serving_summary_counts_published_rows_and_hides_passwords(tmp_path):
    from maritimeiq.serving import PUBLISHED, engine_for, migrate, publish

    url = f"sqlite:///{tmp_path / 'serving.db'}"
    engine = engine_for(url)
    migrate(engine)
    rows = [
        {
            "mmsi": m,
            "date": date(2026, 11, 3),
            "probability": 0.2,
            "predicted": False,
            "model_name": "maritime-maintenance",
            "model_version": 1,
        }
        for m in ("1", "2", "3")
    ]
    publish(engine, PUBLISHED["maintenance_predictions"], date(2026, 11, 3), rows)
    engine.dispose()
    counts = demo.serving_summary(url)
    assert counts == {name: (3 if name == "maintenance_predictions" else 0) for name in PUBLISHED}
    text = demo.render_serving(counts, "postgresql://app:s3cret@db:5432/maritime")
    assert "s3cret" not in text and "postgresql://app:***@db:5432/maritime" in text
    assert "    maintenance_predictions                             3 rows" in text.splitlines()
