"""`maritime`: run the local platform (up, down, status, demo) and wrap its tools."""

from __future__ import annotations

import argparse
import json
import os
import sys

from maritime_stack import airflow as airflow_stack
from maritime_stack import kafka as kafka_stack
from maritime_stack.demo import demo
from maritime_stack.services import STACK_COMPONENTS, down, status, up
from maritimeiq.config import get_config
from maritimeiq.events import markdown
from maritimeiq.topics import apply_topics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="maritime", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up_parser = sub.add_parser("up", help="start PostgreSQL, Kafka, the Bronze worker, MLflow and Airflow")
    up_parser.add_argument(
        "components",
        nargs="*",
        metavar="{postgres,kafka,bronze,mlflow,airflow}",
        help="start only these (default: all; airflow brings the PostgreSQL holding its metadata)",
    )
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
