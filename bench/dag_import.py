"""Import time of every DAG file, as a task's start-up parse pays it.

Each measurement runs in a fresh interpreter: Airflow's task SDK is imported first (every
task runner has it loaded already), then the DAG file is executed, and only the second
part is timed. The same run times the Spark provider's operator module the same way, as
the baseline a DAG file paid while the platform's operator subclassed it.

Usage: python bench/dag_import.py [--repeat N] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DAGS = ROOT / "dags"
PROVIDER_OPERATOR = "airflow.providers.apache.spark.operators.spark_submit"

_TIMED = """
import json, runpy, sys, time
import airflow.sdk
started = time.perf_counter()
{body}
print(json.dumps({{"seconds": time.perf_counter() - started,
                   "heavy": sorted(m for m in ("kubernetes", "pyspark", "mlflow", "pandas") if m in sys.modules)}}))
"""


def timed(body: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _TIMED.format(body=body)], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="fresh interpreters per file; the median is kept")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    files = sorted(p for p in DAGS.glob("*.py") if not p.name.startswith("_"))
    samples: dict[str, list[float]] = {p.name: [] for p in files}
    baseline: list[float] = []
    heavy: dict[str, list[str]] = {}
    # Interleaved, so a change of machine load touches every file and the baseline alike.
    for _ in range(args.repeat):
        baseline.append(timed(f"import {PROVIDER_OPERATOR}")["seconds"])
        for path in files:
            measured = timed(f"runpy.run_path({str(path)!r})")
            samples[path.name].append(measured["seconds"])
            heavy[path.name] = measured["heavy"]

    per_file = {name: statistics.median(values) for name, values in samples.items()}
    slowest = max(per_file, key=per_file.get)
    result = {
        "files": len(files),
        "repeat": args.repeat,
        "per_file_seconds": per_file,
        "heavy_modules": heavy,
        "slowest_file": slowest,
        "slowest_seconds": per_file[slowest],
        "baseline_provider_operator_seconds": statistics.median(baseline),
    }
    result["slowest_to_baseline"] = result["slowest_seconds"] / result["baseline_provider_operator_seconds"]
    for name, seconds in sorted(per_file.items(), key=lambda item: -item[1]):
        print(f"{name:28s} {seconds * 1000:8.1f} ms  heavy imports: {', '.join(heavy[name]) or 'none'}")
    print(f"{'baseline: ' + PROVIDER_OPERATOR:28s} {result['baseline_provider_operator_seconds'] * 1000:8.1f} ms")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
