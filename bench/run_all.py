"""Every benchmark in one run: each script in its own process, the results as JSON, and
the table of BENCHMARKS.md between its bench markers.

Usage: python bench/run_all.py [--scale {quick,full}] [--only NAME ...] [--markdown PATH | --no-markdown]

`full` runs the sizes BENCHMARKS.md reports (10 M rows for Bronze → Silver and
emissions, a 200-vessel day for the pipeline) and rewrites the generated block of
BENCHMARKS.md; `quick` runs small sizes to check the harness and leaves BENCHMARKS.md
alone unless `--markdown` names a file. Results go to bench/results/<date>-<host>.json
(`-quick.json` for quick runs, not committed; `--only` adds the names run, so a partial
run never replaces the day's full results). The idle-stack step runs only when
`maritime status` reports every component healthy; the Kafka steps need the broker.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench_report import render_block, replace_block
from benchlib import PeakSampler, tree_rss_mib

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
MARITIME = str(Path(sys.executable).parent / "maritime")


@dataclass(frozen=True)
class Step:
    script: str
    needs: str | None  # "kafka": the broker; "stack": every component of the local stack
    args: dict[str, list[str]]  # per scale


# In run order: the idle stack first, before anything else has run.
STEPS: dict[str, Step] = {
    "stack": Step(
        "stack_footprint.py",
        "stack",
        {"quick": ["--settle", "5", "--running-only"], "full": ["--settle", "30", "--running-only"]},
    ),
    "producer": Step(
        "producer_throughput.py", "kafka", {"quick": ["--events", "20000"], "full": ["--events", "300000"]}
    ),
    "bronze": Step(
        "bronze_throughput.py",
        "kafka",
        {
            "quick": ["--messages", "40000", "--batch", "10000", "--rate", "1000", "--seconds", "5"],
            "full": ["--messages", "1000000", "--batch", "200000", "--rate", "5000", "--seconds", "60"],
        },
    ),
    "silver": Step("silver_throughput.py", None, {"quick": ["--rows", "50000"], "full": ["--rows", "10000000"]}),
    "emissions": Step("emissions_throughput.py", None, {"quick": ["--rows", "50000"], "full": ["--rows", "10000000"]}),
    "zorder": Step(
        "zorder_skipping.py",
        None,
        {
            "quick": ["--appends", "10", "--rows-per-append", "20000", "--vessels", "200", "--max-file-mib", "0.1"],
            "full": ["--appends", "40", "--rows-per-append", "100000", "--vessels", "2000", "--max-file-mib", "2"],
        },
    ),
    "dag_import": Step("dag_import.py", None, {"quick": ["--repeat", "1"], "full": ["--repeat", "5"]}),
    "pipeline": Step(
        "pipeline_day.py",
        "kafka",
        {"quick": ["--vessels", "5", "--hours", "24"], "full": ["--vessels", "200", "--hours", "24"]},
    ),
}


def machine() -> dict:
    from maritime_stack.kafka import java_binary

    cpu = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpu, re.M)
    memory = {line.split(":")[0]: int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()}
    release = Path("/etc/os-release").read_text() if Path("/etc/os-release").exists() else ""
    os_name = re.search(r'^PRETTY_NAME="?([^"\n]+)"?$', release, re.M)
    java = subprocess.run([java_binary(), "-version"], capture_output=True, text=True).stderr
    java_version = re.search(r'^(\S+) version "([^"]+)"', java, re.M)
    return {
        "cpu_model": model.group(1).strip() if model else platform.processor() or "unknown CPU",
        "arch": platform.machine(),
        "cores": os.cpu_count(),
        "ram_gib": memory["MemTotal"] / 1024**2,
        "swap_gib": memory.get("SwapTotal", 0) / 1024**2,
        "os": os_name.group(1) if os_name else platform.system(),
        "kernel": platform.release(),
        "java": (
            f"{'OpenJDK' if java_version.group(1) == 'openjdk' else java_version.group(1)} {java_version.group(2)}"
        )
        if java_version
        else java.splitlines()[0],
        "python": platform.python_version(),
        "host": platform.node(),
    }


def revision() -> str | None:
    """The commit measured; `+changes` when the working tree differs from it."""
    head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    if head.returncode != 0:
        return None
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return head.stdout.strip() + ("+changes" if changed else "")


def stack_running() -> bool:
    """`maritime status` exits 0 only when every component is healthy."""
    return subprocess.run([MARITIME, "status"], capture_output=True).returncode == 0


def broker_ready() -> bool:
    from maritime_stack import kafka as kafka_stack
    from maritimeiq.config import get_config

    return kafka_stack.is_ready(get_config())


def run_step(name: str, step: Step, scale: str, work: Path) -> dict:
    """One benchmark in its own process; its JSON result, wall time and peak RSS."""
    result_file = work / f"{name}.json"
    command = [sys.executable, str(BENCH / step.script), *step.args[scale], "--json", str(result_file)]
    print(f"\n### {name}: {' '.join(command[1:])}", flush=True)
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT)
    with PeakSampler(lambda: {"tree": tree_rss_mib(process.pid)}) as sampler:
        code = process.wait()
    entry = {
        "command": [str(Path(command[1]).relative_to(ROOT)), *command[2:-2]],
        "wall_seconds": time.perf_counter() - started,
        "peak_rss_mib": sampler.peak["tree"],
    }
    result = json.loads(result_file.read_text()) if result_file.exists() else None
    if code == 0 and result is not None:
        return {**entry, "status": "ok", "result": result}
    reason = (result or {}).get("error") or f"exit code {code}"
    return {**entry, "status": "failed", "reason": reason, "result": result}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("quick", "full"), default="full")
    parser.add_argument("--only", nargs="+", choices=list(STEPS), help="run only these benchmarks")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--markdown",
        type=Path,
        help="file with the bench markers to rewrite (default: BENCHMARKS.md for full runs, none for quick ones)",
    )
    where.add_argument("--no-markdown", action="store_true", help="rewrite no file")
    args = parser.parse_args(argv)
    markdown = None if args.no_markdown else args.markdown or (ROOT / "BENCHMARKS.md" if args.scale == "full" else None)

    load_before = list(os.getloadavg())
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    info = machine()
    suffix = ("" if args.scale == "full" else f"-{args.scale}") + "".join(f"-{name}" for name in args.only or ())
    results_file = RESULTS / f"{started_at:%Y-%m-%d}-{info['host']}{suffix}.json"
    print(f"machine: {info}; load average {load_before}", flush=True)

    results: dict[str, dict] = {}
    kafka_up = broker_ready()
    with tempfile.TemporaryDirectory(prefix="bench-") as work:
        for name, step in STEPS.items():
            if args.only and name not in args.only:
                continue
            if step.needs == "stack" and not stack_running():
                results[name] = {"status": "skipped", "reason": "stack not running"}
            elif step.needs == "kafka" and not kafka_up:
                results[name] = {"status": "skipped", "reason": "Kafka broker not reachable"}
            else:
                results[name] = run_step(name, step, args.scale, Path(work))
            print(f"### {name}: {results[name]['status']} {results[name].get('reason', '')}", flush=True)

    run = {
        "scale": args.scale,
        "date": f"{started_at:%Y-%m-%d}",
        "started": started_at.isoformat(),
        "wall_seconds": time.perf_counter() - started,
        "machine": info,
        "load_before": load_before,
        "revision": revision(),
        "results_file": str(results_file.relative_to(ROOT)),
        "benchmarks": results,
    }
    RESULTS.mkdir(exist_ok=True)
    results_file.write_text(json.dumps(run, indent=2, default=str) + "\n")
    block = render_block(run)
    print(f"\n{block}\n\nresults: {results_file}", flush=True)
    if markdown:
        markdown.write_text(replace_block(markdown.read_text(), block))
        print(f"table written to {markdown}")
    return 0 if all(r["status"] in ("ok", "skipped") for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
