"""The BENCHMARKS table: benchmark results as rows beside the seed figures, the machine
line, and the generated block of BENCHMARKS.md. Pure functions over plain dicts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"
# A 1-minute load average at or above this share of the cores means something else was running.
IDLE_LOAD_PER_CORE = 0.25
_SECONDS_PER = {"s": 1.0, "min": 60.0, "hour": 3600.0}


@dataclass(frozen=True)
class Seed:
    """A figure from the project's seed, in the unit it was stated in."""

    name: str
    value: float
    unit: str  # `<quantity>/<s|min|hour>`


SUSTAINED = Seed("500 msgs/s sustained", 500.0, "msgs/s")
HOURLY = Seed("10 M records/hour", 10_000_000.0, "records/hour")
SEED_NOTE = (
    "Seed figures: 500 msgs/s sustained; 10 M records/hour = 166,667 records/min = 2,778 records/s. "
    "Ratio = result / seed figure in the result's unit."
)


def _split(unit: str) -> tuple[str, float]:
    quantity, _, period = unit.partition("/")
    if period not in _SECONDS_PER:
        raise ValueError(f"not a rate unit: {unit!r}")
    return quantity, _SECONDS_PER[period]


def seed_in(seed: Seed, unit: str) -> float:
    """The seed figure converted to `unit` (a rate); messages and records are both counted, never mixed."""
    quantity, seconds = _split(unit)
    seed_quantity, seed_seconds = _split(seed.unit)
    if quantity != seed_quantity:
        raise ValueError(f"cannot compare {unit} with the seed in {seed.unit}")
    return seed.value / seed_seconds * seconds


@dataclass(frozen=True)
class Measure:
    name: str
    value: float | None
    unit: str
    seed: Seed | None = None
    note: str | None = None  # why there is no value

    @property
    def ratio(self) -> float | None:
        if self.value is None or self.seed is None:
            return None
        return self.value / seed_in(self.seed, self.unit)


def number(value: float) -> str:
    """Thousands separators; decimals only for fractional values small enough to need them."""
    if isinstance(value, int) or abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def ratio_text(ratio: float) -> str:
    if ratio >= 100:
        return f"{ratio:,.0f}×"
    if ratio >= 10:
        return f"{ratio:.1f}×"
    return f"{ratio:.2f}×"


def seed_text(seed: Seed, unit: str) -> str:
    if unit == seed.unit:
        return seed.name
    return f"{seed.name} = {number(seed_in(seed, unit))} {unit}"


def _cell(text: str) -> str:
    """Free text (error messages) inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def render_table(measures: list[Measure]) -> str:
    lines = ["| measure | result | unit | seed figure | ratio |", "|---|---:|---|---|---:|"]
    for m in measures:
        result = number(m.value) if m.value is not None else _cell(m.note or "no result")
        seed = seed_text(m.seed, m.unit) if m.seed else "—"
        ratio = ratio_text(m.ratio) if m.ratio is not None else "—"
        lines.append(f"| {_cell(m.name)} | {result} | {m.unit} | {seed} | {ratio} |")
    return "\n".join(lines)


# -- rows per benchmark --------------------------------------------------------------------------


def _producer(r: dict[str, Any]) -> list[Measure]:
    return [
        Measure(
            f"Producer: {r['events']:,} pre-built simulator events, acks=all",
            r["prebuilt_msgs_per_s"],
            "msgs/s",
            SUSTAINED,
        ),
        Measure(
            f"Producer: simulator generating while producing ({r['events']:,} events)",
            r["live_msgs_per_s"],
            "msgs/s",
            SUSTAINED,
        ),
    ]


def _bronze(r: dict[str, Any]) -> list[Measure]:
    steady = r["latency_steady"]
    at = f"at {r['latency_rate_msgs_per_s']:,.0f} msgs/s, steady window of {steady['rows']:,} rows"
    return [
        Measure(
            f"Kafka → Bronze: draining a {r['messages']:,}-message backlog",
            r["throughput_msgs_per_s"],
            "msgs/s",
            SUSTAINED,
        ),
        Measure(f"Kafka → Bronze: produce → queryable latency p50 {at}", steady["p50_ms"], "ms"),
        Measure(f"Kafka → Bronze: produce → queryable latency p99 {at} (target ≤ 3,000 ms)", steady["p99_ms"], "ms"),
    ]


def _silver(r: dict[str, Any]) -> list[Measure]:
    return [
        Measure(
            f"Bronze → Silver AIS: {run['rows']:,} Bronze rows ({run['seconds']:,.0f} s)",
            run["rows_per_min"],
            "records/min",
            HOURLY,
        )
        for run in r["runs"]
    ]


def _emissions(r: dict[str, Any]) -> list[Measure]:
    return [
        Measure(
            f"Emissions and CII: {r['positions']:,} Silver positions + {r['records'] - r['positions']:,} "
            f"other input records, {r['vessels']:,} vessels ({r['seconds']:,.0f} s)",
            r["records_per_min"],
            "records/min",
            HOURLY,
        )
    ]


def _zorder(r: dict[str, Any]) -> list[Measure]:
    table = (
        f"{r['rows']:,} rows from {r['appends']} appends; OPTIMIZE ZORDER BY (mmsi, event_time), "
        f"max file {r['max_file_mib']:g} MiB"
    )
    return [
        Measure(
            f"`mmsi = X` query: files read before OPTIMIZE, of {r['files_before']:,} ({table})",
            r["files_read_before"],
            "files",
        ),
        Measure(
            f"`mmsi = X` query: files read after OPTIMIZE, of {r['files_after']:,}", r["files_read_after"], "files"
        ),
        Measure("OPTIMIZE ZORDER duration", r["optimize_seconds"], "s"),
    ]


def _pipeline(r: dict[str, Any]) -> list[Measure]:
    day = f"{r['vessels']} vessels, {r['hours']:g} h, {r['events']:,} events"
    rows = [Measure(f"Pipeline, one simulated day ({day}): wall time", r["total_seconds"], "s")]
    rows += [Measure(f"· stage {stage['name']}", stage["seconds"], "s") for stage in r["stages"]]
    rows += [
        Measure("Pipeline: events / wall time", r["events"] / r["total_seconds"], "records/s", HOURLY),
        Measure("Pipeline: peak memory (RSS of its processes, sampled)", r["peak_rss_mib"], "MiB"),
    ]
    if r.get("peak_rss_with_broker_mib") is not None:
        rows.append(Measure("Pipeline: peak memory with the Kafka broker", r["peak_rss_with_broker_mib"], "MiB"))
    return rows


def _dag_import(r: dict[str, Any]) -> list[Measure]:
    baseline = r["baseline_provider_operator_seconds"]
    return [
        Measure(
            f"DAG file import, slowest of {r['files']} (`{r['slowest_file']}`, median of {r['repeat']}; "
            f"{r['slowest_to_baseline']:.2f}× the Spark provider's operator module alone, "
            f"{baseline * 1000:,.0f} ms; task start-up budget 120 s)",
            r["slowest_seconds"] * 1000,
            "ms",
        ),
    ]


def _stack(r: dict[str, Any]) -> list[Measure]:
    return [Measure(f"Idle stack memory ({len(r['components'])} components, RSS)", r["total_mib"], "MiB")]


@dataclass(frozen=True)
class Benchmark:
    title: str  # the row shown when there is no result
    rows: Callable[[dict[str, Any]], list[Measure]]


BENCHMARKS: dict[str, Benchmark] = {
    "producer": Benchmark("Producer throughput", _producer),
    "bronze": Benchmark("Kafka → Bronze throughput and latency", _bronze),
    "silver": Benchmark("Bronze → Silver AIS", _silver),
    "emissions": Benchmark("Emissions and CII", _emissions),
    "zorder": Benchmark("OPTIMIZE ZORDER file skipping", _zorder),
    "dag_import": Benchmark("DAG file import time", _dag_import),
    "pipeline": Benchmark("Pipeline, one simulated day", _pipeline),
    "stack": Benchmark("Idle stack memory", _stack),
}


def measures(results: dict[str, dict[str, Any]]) -> list[Measure]:
    """Table rows in BENCHMARKS order. `results[name]` is `{"status": "ok", "result": {...}}`
    or a status with a `reason`; a benchmark without a result keeps one row saying why."""
    rows: list[Measure] = []
    for name, bench in BENCHMARKS.items():
        entry = results.get(name) or {"status": "not run", "reason": "not selected"}
        if entry["status"] == "ok":
            rows += bench.rows(entry["result"])
        else:
            rows.append(Measure(bench.title, None, "", note=f"{entry['status']}: {entry['reason']}"))
    return rows


# -- machine and block ---------------------------------------------------------------------------


def machine_text(m: dict[str, Any]) -> str:
    return (
        f"{m['cpu_model']} ({m['arch']}), {m['cores']} cores, {m['ram_gib']:.1f} GiB RAM, "
        f"swap {m['swap_gib']:.1f} GiB, {m['os']} (kernel {m['kernel']}), {m['java']}, Python {m['python']}; "
        f"host `{m['host']}`"
    )


def is_idle(load_1min: float, cores: int) -> bool:
    return load_1min < IDLE_LOAD_PER_CORE * cores


def load_text(load: list[float], cores: int) -> str:
    averages = ", ".join(f"{x:.2f}" for x in load)
    state = "idle" if is_idle(load[0], cores) else "busy (other work was running; results are low)"
    return f"Machine {state} at the start: load average {averages} (1, 5, 15 min) on {cores} cores."


def render_block(run: dict[str, Any]) -> str:
    """The generated section: heading, machine, load, the table, seed note, raw results file."""
    return "\n".join(
        [
            f"## All benchmarks (`make bench`, scale {run['scale']}) — {run['date']}",
            "",
            f"**Machine**: {machine_text(run['machine'])}.",
            load_text(run["load_before"], run["machine"]["cores"]),
            f"Total run time {run['wall_seconds'] / 60:.0f} min"
            + (f" at commit `{run['revision']}`." if run.get("revision") else "."),
            "",
            render_table(measures(run["benchmarks"])),
            "",
            SEED_NOTE,
            f"Raw results: [`{run['results_file']}`]({run['results_file']}).",
        ]
    )


def replace_block(document: str, block: str) -> str:
    """`document` with the text between the bench markers replaced by `block`; everything
    outside the markers is kept byte for byte."""
    if document.count(BEGIN) != 1 or document.count(END) != 1:
        raise ValueError(f"expected exactly one {BEGIN} and one {END}")
    if document.index(END) < document.index(BEGIN):
        raise ValueError(f"{END} comes before {BEGIN}")
    head, rest = document.split(BEGIN)
    _, tail = rest.split(END)
    return f"{head}{BEGIN}\n{block.strip()}\n{END}{tail}"
