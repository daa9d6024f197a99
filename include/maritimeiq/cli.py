"""`maritime`: run the local platform (up, down, status, demo) and wrap its tools."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timedelta, timezone

from maritimeiq.config import PROJECT_ROOT, PlatformConfig, get_config
from maritimeiq.events import markdown
from maritimeiq.stack import airflow as airflow_stack
from maritimeiq.stack import kafka as kafka_stack
from maritimeiq.stack import mlflow as mlflow_stack
from maritimeiq.stack.airflow_api import AirflowClient
from maritimeiq.stack.process import ManagedProcess, wait_until
from maritimeiq.topics import apply_topics

DEMO_DAG = "reference_data"
STACK_COMPONENTS = ("kafka", "bronze", "mlflow", "airflow")


def _say(message: str) -> None:
    print(f"[{datetime.now(timezone.utc):%H:%M:%S}] {message}", flush=True)


def up(config: PlatformConfig, components: set[str]) -> None:
    started = time.monotonic()
    if "kafka" in components:
        _say(f"Kafka broker (KRaft) on {config.kafka.bootstrap_servers} ...")
        kafka_stack.start(config)
        changes = apply_topics(config.kafka)
        _say(f"topics: created {changes.created or 'none'}, partitions added {changes.partitions_added or 'none'}, "
             f"configs updated {changes.configs_updated or 'none'}")
    if "bronze" in components:
        from maritime_streaming import supervisor as bronze

        _say(f"Kafka-to-Bronze streaming worker into {config.lake.table_path('bronze', '')} ...")
        if bronze.SUPERVISOR.running():
            wait_until(lambda: bronze.metrics_up(config.bronze.metrics_port), timeout=180, what="Bronze worker",
                              process=bronze.SUPERVISOR)
        else:
            bronze.start([])
    if "mlflow" in components:
        _say(f"MLflow tracking server on {config.mlflow.tracking_uri} ...")
        mlflow_stack.start(config)
    if "airflow" in components:
        _say(f"Airflow (api-server, scheduler, dag-processor, triggerer) on {config.airflow.api_url} ...")
        airflow_stack.start(config)
    _say(f"stack up in {time.monotonic() - started:.0f}s")


def down() -> None:
    from maritime_streaming import supervisor as bronze

    stopped = airflow_stack.stop()
    if bronze.stop():
        stopped.append("bronze-worker")
    if mlflow_stack.stop():
        stopped.append("mlflow")
    if kafka_stack.stop():
        stopped.append("kafka")
    _say(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")


def status(config: PlatformConfig) -> dict[str, dict]:
    from maritime_streaming import supervisor as bronze

    processes: list[ManagedProcess] = [
        kafka_stack.BROKER, bronze.SUPERVISOR, mlflow_stack.SERVER, *airflow_stack.PROCESSES.values()
    ]
    report = {p.name: {"pid": p.pid(), "log": str(p.log_file)} for p in processes}
    report["kafka"]["healthy"] = report["kafka"]["pid"] is not None and kafka_stack.is_ready(config)
    report["bronze-worker"]["healthy"] = report["bronze-worker"]["pid"] is not None and bronze.metrics_up(config.bronze.metrics_port)
    report["mlflow"]["healthy"] = report["mlflow"]["pid"] is not None and mlflow_stack.is_ready(config)
    health = airflow_stack.health(config) or {}
    component_health = {
        "airflow-api-server": bool(health),
        "airflow-scheduler": health.get("scheduler", {}).get("status") == "healthy",
        "airflow-dag-processor": health.get("dag_processor", {}).get("status") == "healthy",
        "airflow-triggerer": health.get("triggerer", {}).get("status") == "healthy",
    }
    for name, healthy in component_health.items():
        report[name]["healthy"] = report[name]["pid"] is not None and healthy
    return report


def airflow_client(config: PlatformConfig) -> AirflowClient:
    return AirflowClient(
        config.airflow.api_url, config.airflow.admin_user, airflow_stack.admin_password(config)
    )


# Eight weeks of engine history (readings and maintenance events only) before three days
# of the whole fleet; one reading interval throughout, so the model trains and scores on
# readings of the same cadence.
DEMO_FLEET = {"vessels": 200, "hours": 72, "seed": 42, "bad_rate": 0.01, "interval_scale": 30,
              "sensor_interval_min": 60, "history_hours": 56 * 24, "start": "2026-11-01T00:00:00+00:00"}
# Trained on every simulated day; the last two labelled weeks are held out. A 3-day horizon:
# the simulated engines are overhauled about weekly, so with 7 days most vessel-days are
# positive and the majority baseline is hard to beat (docs/MAINTENANCE_MODEL.md).
DEMO_MODEL_PARAMS = {"days": (DEMO_FLEET["history_hours"] + DEMO_FLEET["hours"]) // 24, "horizon_days": 3,
                     "test_weeks": 2}
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
            _say("demo fleet already in Kafka (var/demo/fleet.json); not producing it again")
            return recorded
    params = {**DEMO_FLEET, "start": datetime.fromisoformat(DEMO_FLEET["start"])}
    _say(f"simulating {DEMO_FLEET['vessels']} vessels for {DEMO_FLEET['hours']} h, after "
         f"{DEMO_FLEET['history_hours'] // 24} days of engine history, into Kafka ...")
    began = datetime.now(timezone.utc)
    # The topics stamp records on arrival (LogAppendTime), so weeks-old simulated events
    # keep their week of retention; event times stay in the payloads Silver reads.
    sink = KafkaSink(config.kafka)
    pump(FleetSimulator(**params).events(), sink, stop=StopFlag())
    report = sink.close()
    if report["failed"] or report["undelivered_at_exit"]:
        raise RuntimeError(f"demo fleet not fully delivered: {report}")
    recorded = {"fleet": DEMO_FLEET, "delivered": report["delivered"],
                "produced": [began.isoformat(), datetime.now(timezone.utc).isoformat()]}
    _save_marker(recorded)
    return recorded


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def run_dag(client: AirflowClient, dag_id: str, run_id: str, start: datetime, end: datetime | None = None,
            conf: dict | None = None) -> dict:
    """One run of a DAG, over an explicit data interval when `end` is given (else the
    timetable's for the logical date `start`), waited for; task states printed.

    An existing run with the same id is reused; a failed one has its failed tasks cleared
    and run again (every job is idempotent). The run is created before the DAG is unpaused
    and runs after its interval's end (or now, for an interval still open), so it goes
    ahead of the run the scheduler creates for the latest interval when a DAG is unpaused."""
    client.wait_for_dag(dag_id)
    run_after = min(end or start, datetime.now(timezone.utc))  # a run_after in the future waits for it
    run = client.trigger(dag_id, run_id, _iso(start), conf=conf,
                         data_interval=(_iso(start), _iso(end)) if end else None, run_after=_iso(run_after))
    client.unpause(dag_id)
    if run["state"] == "failed":
        _say(f"{dag_id} {run_id} failed before: running its failed tasks again")
        client.clear(dag_id, run_id)
    run = client.wait_for_run(dag_id, run_id, timeout=1800, progress=_say)
    tasks = client.task_instances(dag_id, run_id)
    for task in tasks:
        _say(f"  {dag_id}.{task['task_id']}: {task['state']} (try {task['try_number']})")
    if not tasks:  # e.g. a logical date before the DAG's start_date: the run "succeeds" doing nothing
        _say(f"  {dag_id} {run_id}: no task ran")
        return {**run, "state": "no tasks"}
    return run


def demo_days() -> list[datetime]:
    """Midnight (UTC) of every day the whole fleet was simulated."""
    first = datetime.fromisoformat(DEMO_FLEET["start"])
    return [first + timedelta(days=n) for n in range(-(-DEMO_FLEET["hours"] // 24))]


def run_demo_pipeline(config: PlatformConfig, client: AirflowClient, fleet: dict) -> list[dict]:
    """Bronze caught up → Silver for every hour the fleet arrived in → Gold, voyages and CII
    compliance → model retraining → maintenance scores → Delta maintenance → serving. Run
    ids are fixed by the data, so a second demo reuses the runs."""
    from maritimeiq.kafka_lag import wait_until_caught_up

    _say("waiting for the Bronze worker to land every record ...")
    wait_until_caught_up(config.kafka, config.bronze.consumer_group, [t.name for t in config.kafka.all_topics()],
                         progress=_say)
    if "landed" not in fleet:  # the end of the Bronze ingest window, kept for reruns
        fleet["landed"] = datetime.now(timezone.utc).isoformat()
        _save_marker(fleet)
    produced_from, landed = datetime.fromisoformat(fleet["produced"][0]), datetime.fromisoformat(fleet["landed"])
    hour = produced_from.replace(minute=0, second=0, microsecond=0)
    runs = []
    while hour <= landed:
        runs.append(run_dag(client, "silver_promotion", f"demo__{hour:%Y-%m-%dT%H}", hour, hour + timedelta(hours=1)))
        hour += timedelta(hours=1)
    days = demo_days()
    first_day, last_day = days[0], days[-1]
    # Each gold run recomputes its day and the one before; the interval [D 01:00, D+1 01:00) closes day D.
    for offset in range(1, len(days) + 1, 2):
        day = first_day + timedelta(days=offset, hours=1)
        runs.append(run_dag(client, "gold_daily_metrics", f"demo__{day:%Y-%m-%d}", day, day + timedelta(days=1)))
    # Voyages over the 14 days up to, and CII compliance of the year of, the last simulated day.
    for dag_id, hour in (("voyage_analytics", 2), ("emissions_compliance", 3)):
        start = last_day + timedelta(hours=hour)
        runs.append(run_dag(client, dag_id, f"demo__{last_day:%Y-%m-%d}", start, start + timedelta(days=1)))
    # Retraining through the last simulated day: --end is the day before the interval's end.
    # A one-day interval, so the logical date (its start) is not before the DAG's start_date,
    # before which Airflow creates no task instances.
    start = last_day + timedelta(hours=3)
    runs.append(run_dag(client, "model_retraining", f"demo__{last_day:%Y-%m-%d}", start, start + timedelta(days=1),
                        conf=DEMO_MODEL_PARAMS))
    # Unpausing made the scheduler queue its own run of the latest week, which may register a
    # challenger; every day is scored once the champion is settled.
    client.wait_until_idle("model_retraining", progress=_say)
    for day in days:  # the interval [D 02:00, D+1 02:00) scores day D
        start = day + timedelta(hours=2)
        runs.append(run_dag(client, "maintenance_scoring", f"demo__{day:%Y-%m-%d}", start, start + timedelta(days=1)))
    # The run date is the interval's end: the day after the last simulated day.
    start = last_day + timedelta(hours=4, minutes=30)
    runs.append(run_dag(client, "delta_maintenance", f"demo__{last_day:%Y-%m-%d}", start, start + timedelta(days=1)))
    for day in days:  # the interval [D 05:00, D+1 05:00) publishes day D
        start = day + timedelta(hours=5)
        runs.append(run_dag(client, "serving_publish", f"demo__{day:%Y-%m-%d}", start, start + timedelta(days=1)))
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

    from maritime_jobs.maintenance_model import CHAMPION_ALIAS, DEFAULT_MODEL_NAME

    model_name = model_name or DEFAULT_MODEL_NAME
    client = MlflowClient(tracking_uri)
    versions = client.search_model_versions(f"name = '{model_name}'")
    if not versions:
        return None
    summary: dict = {
        "name": model_name, "alias": CHAMPION_ALIAS, "champion": None,
        "versions": [{"version": int(v.version), "decision": v.tags.get("promotion_decision", "")}
                     for v in sorted(versions, key=lambda v: int(v.version))],
    }
    try:
        champion = client.get_model_version_by_alias(model_name, CHAMPION_ALIAS)
    except MlflowException:
        return summary
    run = client.get_run(champion.run_id)
    summary["champion"] = {"version": int(champion.version), "run_id": champion.run_id,
                           "metrics": run.data.metrics, "params": run.data.params,
                           "train_first_day": run.data.tags.get("train_first_day"),
                           "train_last_day": run.data.tags.get("train_last_day")}
    return summary


def render_model(summary: dict | None, tracking_uri: str) -> str:
    if summary is None:
        return f"  Maintenance model  none registered yet ({tracking_uri})"
    versions = ", ".join(f"v{v['version']} {v['decision'] or 'undecided'}" for v in summary["versions"])
    champion = summary["champion"]
    if champion is None:
        return f"  Maintenance model  {summary['name']}: no {summary['alias']} ({versions})"
    m, p = champion["metrics"], champion["params"]
    return "\n".join([
        f"  Maintenance model  {summary['name']} v{champion['version']} (alias {summary['alias']}; "
        f"versions: {versions})",
        f"    feature days {champion['train_first_day']} to {champion['train_last_day']}, maintenance within "
        f"{p['horizon_days']} days, tested on the days from {p['test_first_day']} "
        f"({m['test_rows']:,.0f} vessel-days, {m['test_positive_rate']:.0%} positive)",
        f"    accuracy {m['accuracy']:.3f} (majority baseline {m['baseline_accuracy']:.3f}), "
        f"ROC AUC {m['roc_auc']:.3f}, precision {m['precision']:.3f}, recall {m['recall']:.3f}, F1 {m['f1']:.3f}",
        f"    {tracking_uri}/#/models/{summary['name']}",
    ])


def serving_summary(database_url: str) -> dict[str, int]:
    """Rows per published table in the serving database (tables not created yet left out)."""
    import sqlalchemy as sa

    from maritimeiq.serving import PUBLISHED, engine_for

    engine = engine_for(database_url)
    try:
        with engine.connect() as connection:
            present = set(sa.inspect(connection).get_table_names())
            return {name: connection.execute(sa.select(sa.func.count()).select_from(published.table)).scalar_one()
                    for name, published in PUBLISHED.items() if name in present}
    finally:
        engine.dispose()


def render_serving(rows: dict[str, int], database_url: str) -> str:
    import sqlalchemy as sa

    where = sa.engine.make_url(database_url).render_as_string(hide_password=True)
    if not rows:
        return f"  Serving DB    {where}: nothing published yet"
    return "\n".join([f"  Serving DB    {where}",
                      *(f"    {name:40} {count:>12,} rows" for name, count in rows.items())])


def demo(config: PlatformConfig) -> int:
    """The platform's main job on the embedded default: stack up, pipeline run, summary."""
    from maritime_jobs.emissions import default_reports_dir

    began = time.monotonic()
    up(config, set(STACK_COMPONENTS))
    fleet = produce_demo_fleet(config)
    client = airflow_client(config)
    _say(f"waiting for the dag-processor to register {DEMO_DAG} ...")
    client.wait_for_dag(DEMO_DAG)
    errors = client.import_errors()
    if errors:
        for error in errors:
            _say(f"import error in {error['filename']}: {error['stack_trace'][-500:]}")
        return 1
    # One fixed logical date per calendar day: rerunning the demo reuses the run.
    today = datetime.now(timezone.utc).date()
    start = datetime(today.year, today.month, today.day, tzinfo=timezone.utc)
    runs = [run_dag(client, DEMO_DAG, f"demo__{today.isoformat()}", start)]
    runs += run_demo_pipeline(config, client, fleet)
    print()
    print("MaritimeIQ is up")
    print(f"  Kafka         {config.kafka.bootstrap_servers} "
          f"({len(config.kafka.all_topics())} topics; `kafka-topics --bootstrap-server "
          f"{config.kafka.bootstrap_servers} --list`)")
    for topic, count in sorted(fleet["delivered"].items()):
        print(f"    {topic:34} {count:>9,} simulated records")
    print(f"  Airflow UI    {config.airflow.api_url}  user {config.airflow.admin_user}, "
          f"password in {airflow_stack.passwords_file(config)}")
    print(f"  MLflow        {config.mlflow.tracking_uri}")
    print(f"  Delta lake    {config.lake.root}")
    print(lake_summary(config))
    print(render_model(model_summary(config.mlflow.tracking_uri), config.mlflow.tracking_uri))
    print(render_serving(serving_summary(config.serving.database_url), config.serving.database_url))
    report = default_reports_dir(config.lake.root) / f"cii_compliance_{demo_days()[-1].year}.md"
    print(f"  CII report    {report} (CSV and PNG chart beside it)" if report.exists()
          else f"  CII report    not written yet ({report})")
    failed = [f"{r['dag_id']} {r['dag_run_id']}" for r in runs if r["state"] != "success"]
    print(f"  DAG runs      {len(runs) - len(failed)} of {len(runs)} succeeded"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    print(f"  Airflow CLI   source {PROJECT_ROOT / 'var' / 'env.sh'}")
    print(f"  Demo took     {time.monotonic() - began:,.0f} s")
    print("  Stop with     make down")
    return 0 if not failed else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="maritime", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up_parser = sub.add_parser("up", help="start Kafka, the Bronze worker, MLflow and Airflow")
    up_parser.add_argument("components", nargs="*", metavar="{kafka,bronze,mlflow,airflow}",
                           help="start only these (default: all)")
    sub.add_parser("down", help="stop every process the stack started")
    status_parser = sub.add_parser("status", help="health of each component")
    status_parser.add_argument("--json", action="store_true")
    sub.add_parser("demo", help="bring the stack up and run the main pipeline")
    sub.add_parser("topics", help="apply topic definitions to the configured cluster")
    sub.add_parser("env", help="print shell exports for the airflow CLI")
    sub.add_parser("schemas", help="print the canonical event schemas as Markdown")
    args = parser.parse_args(argv)

    config = get_config()
    if args.command == "up":
        components = set(args.components or STACK_COMPONENTS)
        if unknown := components - set(STACK_COMPONENTS):
            parser.error(f"unknown components {sorted(unknown)}; choose from {STACK_COMPONENTS}")
        up(config, components)
    elif args.command == "down":
        down()
    elif args.command == "status":
        report = status(config)
        if args.json:
            print(json.dumps(report, indent=2))
        else:
            for name, info in report.items():
                state = "healthy" if info["healthy"] else ("running" if info["pid"] else "stopped")
                print(f"{name:24} {state:8} pid={info['pid'] or '-':<8} log={info['log']}")
        return 0 if all(info["healthy"] for info in report.values()) else 1
    elif args.command == "demo":
        return demo(config)
    elif args.command == "topics":
        print(apply_topics(config.kafka))
    elif args.command == "env":
        sys.stdout.write(airflow_stack.env_script(config))
    elif args.command == "schemas":
        sys.stdout.write(markdown())
    return 0


def kafka_tool() -> None:
    """Console entry for the wrapped Kafka tools: the script's name picks the tool."""
    tool = os.path.basename(sys.argv[0])
    if tool not in kafka_stack.TOOLS:
        raise SystemExit(f"unknown Kafka tool {tool!r}; known: {sorted(kafka_stack.TOOLS)}")
    command = kafka_stack.tool_command(tool, sys.argv[1:])
    os.execv(command[0], command)


if __name__ == "__main__":
    sys.exit(main())
