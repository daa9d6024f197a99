"""`maritime`: run the local platform (up, down, status, demo) and wrap its tools."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timezone

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


DEMO_FLEET = {"vessels": 200, "hours": 72, "seed": 42, "bad_rate": 0.01, "interval_scale": 30,
              "start": "2026-11-01T00:00:00+00:00"}


def produce_demo_fleet(config: PlatformConfig) -> dict[str, int]:
    """Simulate the demo fleet into Kafka once; a marker keeps reruns from producing it twice."""
    from maritime_streaming.producer import KafkaSink, StopFlag, pump
    from maritime_streaming.simulator import FleetSimulator

    marker = PROJECT_ROOT / "var" / "demo" / "fleet.json"
    if marker.exists():
        recorded = json.loads(marker.read_text())
        if recorded["fleet"] == DEMO_FLEET:
            _say("demo fleet already in Kafka (var/demo/fleet.json); not producing it again")
            return recorded["delivered"]
    params = {**DEMO_FLEET, "start": datetime.fromisoformat(DEMO_FLEET["start"])}
    _say(f"simulating {DEMO_FLEET['vessels']} vessels for {DEMO_FLEET['hours']} h into Kafka ...")
    sink = KafkaSink(config.kafka)
    pump(FleetSimulator(**params).events(), sink, stop=StopFlag())
    report = sink.close()
    if report["failed"] or report["undelivered_at_exit"]:
        raise RuntimeError(f"demo fleet not fully delivered: {report}")
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"fleet": DEMO_FLEET, "delivered": report["delivered"]}, indent=2))
    return report["delivered"]


def demo(config: PlatformConfig) -> int:
    """The platform's main job on the embedded default: stack up, pipeline run, summary."""
    up(config, set(STACK_COMPONENTS))
    delivered = produce_demo_fleet(config)
    client = airflow_client(config)
    _say(f"waiting for the dag-processor to register {DEMO_DAG} ...")
    client.wait_for_dag(DEMO_DAG)
    errors = client.import_errors()
    if errors:
        for error in errors:
            _say(f"import error in {error['filename']}: {error['stack_trace'][-500:]}")
        return 1
    client.unpause(DEMO_DAG)
    # One fixed logical date per calendar day: rerunning the demo reuses the run.
    today = datetime.now(timezone.utc).date()
    run_id = f"demo__{today.isoformat()}"
    client.trigger(DEMO_DAG, run_id, f"{today.isoformat()}T00:00:00Z")
    run = client.wait_for_run(DEMO_DAG, run_id, timeout=900, progress=_say)
    for task in client.task_instances(DEMO_DAG, run_id):
        _say(f"  task {task['task_id']}: {task['state']} (try {task['try_number']})")
    ports_table = config.lake.table_path("reference", "ports")
    print()
    print("MaritimeIQ is up")
    print(f"  Kafka         {config.kafka.bootstrap_servers} "
          f"({len(config.kafka.all_topics())} topics; `kafka-topics --bootstrap-server "
          f"{config.kafka.bootstrap_servers} --list`)")
    for topic, count in sorted(delivered.items()):
        print(f"    {topic:34} {count:>9,} simulated records")
    print(f"  Airflow UI    {config.airflow.api_url}  user {config.airflow.admin_user}, "
          f"password in {airflow_stack.passwords_file(config)}")
    print(f"  MLflow        {config.mlflow.tracking_uri}")
    print(f"  Delta lake    {config.lake.root}  (reference.ports at {ports_table})")
    print(f"  DAG run       {DEMO_DAG} {run_id}: {run['state']}")
    print(f"  Airflow CLI   source {PROJECT_ROOT / 'var' / 'env.sh'}")
    print("  Stop with     make down")
    return 0 if run["state"] == "success" else 1


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
