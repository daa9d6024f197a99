"""`maritime demo`: the platform's main job on the embedded default. The stack comes up, a
simulated fleet goes through Kafka, Bronze, Silver and Gold, the model is trained and
scores, and a summary shows what landed where."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from maritime_stack import airflow as airflow_stack
from maritime_stack.airflow_api import AirflowClient
from maritime_stack.services import STACK_COMPONENTS, say, up
from maritimeiq.config import PROJECT_ROOT, PlatformConfig

if TYPE_CHECKING:
    from airflow.sdk import DAG
    from airflow.timetables.base import Timetable

DAGS_FOLDER = PROJECT_ROOT / "dags"
# The DAGs the demo runs, in the order it runs them.
REFERENCE_DAG = "reference_data"
SILVER_DAG = "silver_promotion"
GOLD_DAG = "gold_daily_metrics"
VOYAGES_DAG = "voyage_analytics"
CII_DAG = "emissions_compliance"
RETRAINING_DAG = "engine_model_retraining"
SCORING_DAG = "engine_maintenance_scoring"
TABLE_MAINTENANCE_DAG = "delta_maintenance"
SERVING_DAG = "serving_publish"

# Eight weeks of engine history (readings and maintenance events only) before three days
# of the whole fleet; one reading interval throughout, so the model trains and scores on
# readings of the same cadence.
DEMO_FLEET = {
    "vessels": 200,
    "hours": 72,
    "seed": 42,
    "bad_rate": 0.01,
    "interval_scale": 30,
    "sensor_interval_min": 60,
    "history_hours": 56 * 24,
    "start": "2026-11-01T00:00:00+00:00",
}
# Trained on every simulated day; the last two labelled weeks are held out. A 3-day horizon:
# the simulated engines are overhauled about weekly, so with 7 days most vessel-days are
# positive and the majority baseline is hard to beat (docs/ENGINE_MODEL.md).
DEMO_MODEL_PARAMS = {
    "days": (DEMO_FLEET["history_hours"] + DEMO_FLEET["hours"]) // 24,
    "horizon_days": 3,
    "test_weeks": 2,
}
DEMO_MARKER = PROJECT_ROOT / "var" / "demo" / "fleet.json"


def _save_marker(recorded: dict) -> None:
    DEMO_MARKER.parent.mkdir(parents=True, exist_ok=True)
    DEMO_MARKER.write_text(json.dumps(recorded, indent=2))


def produce_demo_fleet(config: PlatformConfig) -> dict:
    """Simulate the demo fleet into Kafka once; a marker keeps reruns from producing it
    twice and remembers when it was produced (the Bronze ingest window)."""
    from maritime_streaming.producer import KafkaSink, StopFlag, pump
    from maritime_streaming.simulator import FleetSimulator

    if DEMO_MARKER.exists():
        recorded = json.loads(DEMO_MARKER.read_text())
        if recorded["fleet"] == DEMO_FLEET and "produced" in recorded:
            say("demo fleet already in Kafka (var/demo/fleet.json); not producing it again")
            return recorded
    params = {**DEMO_FLEET, "start": datetime.fromisoformat(DEMO_FLEET["start"])}
    say(
        f"simulating {DEMO_FLEET['vessels']} vessels for {DEMO_FLEET['hours']} h, after "
        f"{DEMO_FLEET['history_hours'] // 24} days of engine history, into Kafka ..."
    )
    began = datetime.now(UTC)
    # The topics stamp records on arrival (LogAppendTime), so weeks-old simulated events
    # keep their week of retention; event times stay in the payloads Silver reads.
    sink = KafkaSink(config.kafka)
    pump(FleetSimulator(**params).events(), sink, stop=StopFlag())
    report = sink.close()
    if report["failed"] or report["undelivered_at_exit"]:
        raise RuntimeError(f"demo fleet not fully delivered: {report}")
    recorded = {
        "fleet": DEMO_FLEET,
        "delivered": report["delivered"],
        "produced": [began.isoformat(), datetime.now(UTC).isoformat()],
    }
    _save_marker(recorded)
    return recorded


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def run_dag(
    client: AirflowClient,
    dag_id: str,
    run_id: str,
    start: datetime,
    end: datetime | None = None,
    conf: dict | None = None,
) -> dict:
    """One run of a DAG, over an explicit data interval when `end` is given (else the
    timetable's for the logical date `start`), waited for; task states printed.

    An existing run with the same id is reused; a failed one has its failed tasks cleared
    and run again (every job is idempotent). The run is created before the DAG is unpaused
    and runs after its interval's end (or now, for an interval still open), so it goes
    ahead of the run the scheduler creates for the latest interval when a DAG is unpaused."""
    client.wait_for_dag(dag_id)
    run_after = min(end or start, datetime.now(UTC))  # a run_after in the future waits for it
    run = client.trigger(
        dag_id,
        run_id,
        _iso(start),
        conf=conf,
        data_interval=(_iso(start), _iso(end)) if end else None,
        run_after=_iso(run_after),
    )
    client.unpause(dag_id)
    if run["state"] == "failed":
        say(f"{dag_id} {run_id} failed before: running its failed tasks again")
        client.clear(dag_id, run_id)
    run = client.wait_for_run(dag_id, run_id, timeout=1800, progress=say)
    tasks = client.task_instances(dag_id, run_id)
    for task in tasks:
        say(f"  {dag_id}.{task['task_id']}: {task['state']} (try {task['try_number']})")
    if not tasks:  # e.g. a logical date before the DAG's start_date: the run "succeeds" doing nothing
        say(f"  {dag_id} {run_id}: no task ran")
        return {**run, "state": "no tasks"}
    return run


def demo_days() -> list[datetime]:
    """Midnight (UTC) of every day the whole fleet was simulated."""
    first = datetime.fromisoformat(DEMO_FLEET["start"])
    return [first + timedelta(days=n) for n in range(-(-DEMO_FLEET["hours"] // 24))]


def load_dags(dags_folder: Path = DAGS_FOLDER) -> dict[str, DAG]:
    """The DAGs as Airflow parses them, with Airflow's own DagBag.

    The demo takes each run's data interval from the DAG's timetable object rather than
    from the REST API, which describes a schedule only as text (`timetable_summary`): the
    object computes intervals exactly as the scheduler does."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(dags_folder))
    if bag.import_errors:
        raise RuntimeError(f"DAG files failed to import: {bag.import_errors}")
    return bag.dags


def _utc(moment: datetime) -> datetime:
    return datetime.fromtimestamp(moment.timestamp(), tz=UTC)


def interval_from(timetable: Timetable, moment: datetime) -> tuple[datetime, datetime]:
    """The first data interval the timetable schedules that starts at or after `moment`."""
    import pendulum
    from airflow.timetables.base import TimeRestriction

    restriction = TimeRestriction(earliest=pendulum.instance(moment), latest=None, catchup=True)
    info = timetable.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
    if info is None:
        raise ValueError(f"{timetable.summary} schedules no interval from {moment}")
    return _utc(info.data_interval.start), _utc(info.data_interval.end)


def intervals_overlapping(timetable: Timetable, first: datetime, last: datetime) -> list[tuple[datetime, datetime]]:
    """Every data interval the timetable schedules that holds a moment of [first, last], in order."""
    import pendulum
    from airflow.timetables.base import TimeRestriction

    # The interval a manual run at `first` would get is the last one closed by then; the
    # scheduler's next after it is the one `first` falls in.
    interval = timetable.infer_manual_data_interval(run_after=pendulum.instance(first))
    restriction = TimeRestriction(earliest=None, latest=pendulum.instance(last), catchup=True)
    intervals = []
    while info := timetable.next_dagrun_info(last_automated_data_interval=interval, restriction=restriction):
        interval = info.data_interval
        intervals.append((_utc(interval.start), _utc(interval.end)))
    return intervals


def run_demo_pipeline(
    config: PlatformConfig, client: AirflowClient, fleet: dict, dags: Mapping[str, DAG]
) -> list[dict]:
    """Bronze caught up → Silver for every hour the fleet arrived in → Gold, voyages and CII
    compliance → model retraining → maintenance scores → Delta maintenance → serving. Each
    run's data interval is one its DAG's timetable schedules; run ids are fixed by the
    data, so a second demo reuses the runs."""
    from maritimeiq.kafka_lag import wait_until_caught_up

    say("waiting for the Bronze worker to land every record ...")
    wait_until_caught_up(
        config.kafka, config.bronze.consumer_group, [t.name for t in config.kafka.all_topics()], progress=say
    )
    if "landed" not in fleet:  # the end of the Bronze ingest window, kept for reruns
        fleet["landed"] = datetime.now(UTC).isoformat()
        _save_marker(fleet)
    produced_from, landed = datetime.fromisoformat(fleet["produced"][0]), datetime.fromisoformat(fleet["landed"])
    runs = []
    for start, end in intervals_overlapping(dags[SILVER_DAG].timetable, produced_from, landed):
        runs.append(run_dag(client, SILVER_DAG, f"demo__{start:%Y-%m-%dT%H}", start, end))
    days = demo_days()
    last_day = days[-1]

    def daily_run(dag_id: str, day: datetime) -> dict:
        """The run of the DAG's interval that starts on `day`."""
        start, end = interval_from(dags[dag_id].timetable, day)
        return run_dag(client, dag_id, f"demo__{day:%Y-%m-%d}", start, end)

    # Each gold run recomputes its interval start's day and the one before: runs starting on
    # every second day from the second cover every simulated day.
    for offset in range(1, len(days) + 1, 2):
        runs.append(daily_run(GOLD_DAG, days[0] + timedelta(days=offset)))
    # Voyages over the 14 days up to, and CII compliance of the year of, the last simulated day.
    runs += [daily_run(VOYAGES_DAG, last_day), daily_run(CII_DAG, last_day)]
    # Retraining through the last simulated day: --end is the day before the interval's end.
    # Its timetable's intervals are weeks; the demo's run is one day at the DAG's scheduled
    # time, so the logical date (its start) is not before the DAG's start_date, before which
    # Airflow creates no task instances.
    scheduled, _ = interval_from(dags[RETRAINING_DAG].timetable, last_day)
    start = last_day.replace(hour=scheduled.hour, minute=scheduled.minute)
    runs.append(
        run_dag(
            client,
            RETRAINING_DAG,
            f"demo__{last_day:%Y-%m-%d}",
            start,
            start + timedelta(days=1),
            conf=DEMO_MODEL_PARAMS,
        )
    )
    # Unpausing made the scheduler queue its own run of the latest week, which may register a
    # challenger; every day is scored once the champion is settled.
    client.wait_until_idle(RETRAINING_DAG, progress=say)
    runs += [daily_run(SCORING_DAG, day) for day in days]  # each scores its interval start's day
    # The run date is the interval's end: the day after the last simulated day.
    runs.append(daily_run(TABLE_MAINTENANCE_DAG, last_day))
    runs += [daily_run(SERVING_DAG, day) for day in days]  # each publishes its interval start's day
    return runs


def lake_summary(config: PlatformConfig) -> str:
    from maritime_jobs.lake_report import render, summarise
    from maritimeiq.spark import get_spark

    spark = get_spark("demo-summary", config=config)
    try:
        return render(summarise(spark, config.lake.root.rstrip("/")))
    finally:
        spark.stop()


def model_summary(tracking_uri: str, model_name: str | None = None) -> dict | None:
    """The registered maintenance model (default `maritime-maintenance`): every version's
    promotion decision and the champion's training window, parameters and test metrics;
    None before any training."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from maritime_jobs.engine_model import CHAMPION_ALIAS, DEFAULT_MODEL_NAME

    model_name = model_name or DEFAULT_MODEL_NAME
    client = MlflowClient(tracking_uri)
    versions = client.search_model_versions(f"name = '{model_name}'")
    if not versions:
        return None
    summary: dict = {
        "name": model_name,
        "alias": CHAMPION_ALIAS,
        "champion": None,
        "versions": [
            {"version": int(v.version), "decision": v.tags.get("promotion_decision", "")}
            for v in sorted(versions, key=lambda v: int(v.version))
        ],
    }
    try:
        champion = client.get_model_version_by_alias(model_name, CHAMPION_ALIAS)
    except MlflowException:
        return summary
    run = client.get_run(champion.run_id)
    summary["champion"] = {
        "version": int(champion.version),
        "run_id": champion.run_id,
        "metrics": run.data.metrics,
        "params": run.data.params,
        "train_first_day": run.data.tags.get("train_first_day"),
        "train_last_day": run.data.tags.get("train_last_day"),
    }
    return summary


def render_model(summary: dict | None, tracking_uri: str) -> str:
    if summary is None:
        return f"  Maintenance model  none registered yet ({tracking_uri})"
    versions = ", ".join(f"v{v['version']} {v['decision'] or 'undecided'}" for v in summary["versions"])
    champion = summary["champion"]
    if champion is None:
        return f"  Maintenance model  {summary['name']}: no {summary['alias']} ({versions})"
    m, p = champion["metrics"], champion["params"]
    return "\n".join(
        [
            f"  Maintenance model  {summary['name']} v{champion['version']} (alias {summary['alias']}; "
            f"versions: {versions})",
            f"    feature days {champion['train_first_day']} to {champion['train_last_day']}, maintenance within "
            f"{p['horizon_days']} days, tested on the days from {p['test_first_day']} "
            f"({m['test_rows']:,.0f} vessel-days, {m['test_positive_rate']:.0%} positive)",
            f"    accuracy {m['accuracy']:.3f} (majority baseline {m['baseline_accuracy']:.3f}), "
            f"ROC AUC {m['roc_auc']:.3f}, precision {m['precision']:.3f}, recall {m['recall']:.3f}, F1 {m['f1']:.3f}",
            f"    {tracking_uri}/#/models/{summary['name']}",
        ]
    )


def serving_summary(database_url: str) -> dict[str, int]:
    """Rows per published table in the serving database (tables not created yet left out)."""
    import sqlalchemy as sa

    from maritimeiq.serving import PUBLISHED, engine_for

    engine = engine_for(database_url)
    try:
        with engine.connect() as connection:
            present = set(sa.inspect(connection).get_table_names())
            return {
                name: connection.execute(sa.select(sa.func.count()).select_from(published.table)).scalar_one()
                for name, published in PUBLISHED.items()
                if name in present
            }
    finally:
        engine.dispose()


def hidden_password(database_url: str) -> str:
    import sqlalchemy as sa

    return sa.engine.make_url(database_url).render_as_string(hide_password=True)


def render_serving(rows: dict[str, int], database_url: str) -> str:
    where = hidden_password(database_url)
    if not rows:
        return f"  Serving DB    {where}: nothing published yet"
    return "\n".join(
        [f"  Serving DB    {where}", *(f"    {name:40} {count:>12,} rows" for name, count in rows.items())]
    )


def demo(config: PlatformConfig) -> int:
    """The platform's main job on the embedded default: stack up, pipeline run, summary."""
    from maritime_jobs.emissions_compliance.report import default_reports_dir

    began = time.monotonic()
    up(config, set(STACK_COMPONENTS))
    fleet = produce_demo_fleet(config)
    client = airflow_stack.api_client(config)
    say(f"waiting for the dag-processor to register {REFERENCE_DAG} ...")
    client.wait_for_dag(REFERENCE_DAG)
    errors = client.import_errors()
    if errors:
        for error in errors:
            say(f"import error in {error['filename']}: {error['stack_trace'][-500:]}")
        return 1
    # One fixed logical date per calendar day: rerunning the demo reuses the run.
    today = datetime.now(UTC).date()
    start = datetime(today.year, today.month, today.day, tzinfo=UTC)
    runs = [run_dag(client, REFERENCE_DAG, f"demo__{today.isoformat()}", start)]
    # Airflow reads its configuration when first imported: the stack's home, so parsing
    # the DAG files here leaves nothing in ~/airflow.
    os.environ["AIRFLOW_HOME"] = str(config.airflow.home)
    runs += run_demo_pipeline(config, client, fleet, load_dags())
    print()
    print("MaritimeIQ is up")
    print(
        f"  Kafka         {config.kafka.bootstrap_servers} "
        f"({len(config.kafka.all_topics())} topics; `kafka-topics --bootstrap-server "
        f"{config.kafka.bootstrap_servers} --list`)"
    )
    for topic, count in sorted(fleet["delivered"].items()):
        print(f"    {topic:34} {count:>9,} simulated records")
    print(
        f"  Airflow UI    {config.airflow.api_url}  user {config.airflow.admin_user}, "
        f"password in {airflow_stack.passwords_file(config)}"
    )
    print(f"  Airflow DB    {hidden_password(airflow_stack.metadata_database_url(config))}")
    print(f"  MLflow        {config.mlflow.tracking_uri}")
    print(f"  Delta lake    {config.lake.root}")
    print(lake_summary(config))
    print(render_model(model_summary(config.mlflow.tracking_uri), config.mlflow.tracking_uri))
    print(render_serving(serving_summary(config.serving.database_url), config.serving.database_url))
    report = default_reports_dir(config.lake.root) / f"cii_compliance_{demo_days()[-1].year}.md"
    print(
        f"  CII report    {report} (CSV and PNG chart beside it)"
        if report.exists()
        else f"  CII report    not written yet ({report})"
    )
    failed = [f"{r['dag_id']} {r['dag_run_id']}" for r in runs if r["state"] != "success"]
    print(
        f"  DAG runs      {len(runs) - len(failed)} of {len(runs)} succeeded"
        + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    print(f"  Airflow CLI   source {PROJECT_ROOT / 'var' / 'env.sh'}")
    print(f"  Demo took     {time.monotonic() - began:,.0f} s")
    print("  Stop with     make down")
    return 0 if not failed else 1
