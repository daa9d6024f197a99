"""The BENCHMARKS table: seed conversions and ratios, table rows per benchmark, the
generated block, and the marker replacement that must keep the rest of the file."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
_spec = importlib.util.spec_from_file_location("bench_report", BENCH / "bench_report.py")
report = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = report  # dataclasses look their module up while the class is built
_spec.loader.exec_module(report)


# -- seeds and ratios --------------------------------------------------------------------------


def test_seed_conversions():
    # 10,000,000 / 60 = 166,666.67 per minute; / 3,600 = 2,777.78 per second.
    assert report.seed_in(report.HOURLY, "records/min") == pytest.approx(166_666.6667)
    assert report.seed_in(report.HOURLY, "records/s") == pytest.approx(2_777.7778)
    assert report.seed_in(report.HOURLY, "records/hour") == 10_000_000
    assert report.seed_in(report.SUSTAINED, "msgs/s") == 500
    assert report.seed_in(report.SUSTAINED, "msgs/min") == 30_000


def test_seed_refuses_other_quantities_and_non_rates():
    with pytest.raises(ValueError, match="cannot compare"):
        report.seed_in(report.SUSTAINED, "records/s")
    with pytest.raises(ValueError, match="not a rate"):
        report.seed_in(report.SUSTAINED, "ms")


def test_ratio_is_result_over_seed_in_the_results_unit():
    # 4,900,000 / 166,666.67 = 29.4; 64,080 / 500 = 128.16
    assert report.Measure("silver", 4_900_000, "records/min", report.HOURLY).ratio == pytest.approx(29.4)
    assert report.Measure("bronze", 64_080, "msgs/s", report.SUSTAINED).ratio == pytest.approx(128.16)
    assert report.Measure("latency", 2_234, "ms").ratio is None
    assert report.Measure("skipped", None, "msgs/s", report.SUSTAINED, note="skipped: x").ratio is None


def test_number_and_ratio_formats():
    assert report.number(108_383.4) == "108,383"
    assert report.number(100) == "100"
    assert report.number(16) == "16"  # counts stay integers
    assert report.number(29.44) == "29.4"
    assert report.number(2.234) == "2.23"
    assert report.ratio_text(216.77) == "217×"
    assert report.ratio_text(29.44) == "29.4×"
    assert report.ratio_text(0.7345) == "0.73×"


def test_seed_text_states_the_conversion():
    assert report.seed_text(report.SUSTAINED, "msgs/s") == "500 msgs/s sustained"
    assert report.seed_text(report.HOURLY, "records/min") == "10 M records/hour = 166,667 records/min"
    assert report.seed_text(report.HOURLY, "records/s") == "10 M records/hour = 2,778 records/s"


# -- table -------------------------------------------------------------------------------------


def test_render_table():
    rows = [
        report.Measure("Producer", 108_383.0, "msgs/s", report.SUSTAINED),
        report.Measure("Bronze → Silver", 4_900_000.0, "records/min", report.HOURLY),
        report.Measure("Latency p99", 2_234.0, "ms"),
        report.Measure("Idle stack memory", None, "", note="skipped: stack | not running"),
    ]
    assert report.render_table(rows) == "\n".join(
        [
            "| measure | result | unit | seed figure | ratio |",
            "|---|---:|---|---|---:|",
            "| Producer | 108,383 | msgs/s | 500 msgs/s sustained | 217× |",
            "| Bronze → Silver | 4,900,000 | records/min | 10 M records/hour = 166,667 records/min | 29.4× |",
            "| Latency p99 | 2,234 | ms | — | — |",
            "| Idle stack memory | skipped: stack \\| not running |  | — | — |",
        ]
    )


RESULTS = {
    "producer": {
        "status": "ok",
        "result": {"events": 300_000, "prebuilt_msgs_per_s": 108_383.0, "live_msgs_per_s": 55_818.0},
    },
    "bronze": {
        "status": "ok",
        "result": {
            "messages": 1_000_000,
            "throughput_msgs_per_s": 64_080.0,
            "latency_rate_msgs_per_s": 5000.0,
            "latency_steady": {"p50_ms": 1_110, "p99_ms": 2_234, "max_ms": 2_632, "rows": 300_000},
        },
    },
    "silver": {
        "status": "ok",
        "result": {"runs": [{"rows": 10_000_000, "seconds": 122.0, "rows_per_min": 10_000_000 / 122.0 * 60}]},
    },
    "emissions": {"status": "failed", "reason": "exit code 1", "result": None},
    "zorder": {
        "status": "ok",
        "result": {
            "rows": 4_000_000,
            "appends": 40,
            "max_file_mib": 2.0,
            "files_before": 160,
            "files_after": 48,
            "files_read_before": 160,
            "files_read_after": 14,
            "optimize_seconds": 61.5,
        },
    },
    "pipeline": {
        "status": "ok",
        "result": {
            "vessels": 200,
            "hours": 24.0,
            "events": 550_000,
            "total_seconds": 275.0,
            "peak_rss_mib": 3_100.0,
            "peak_rss_with_broker_mib": 3_550.0,
            "stages": [{"name": "simulate → Kafka", "seconds": 25.0}, {"name": "Kafka → Bronze", "seconds": 250.0}],
        },
    },
    "stack": {"status": "skipped", "reason": "stack not running"},
}


def test_measures_per_benchmark_in_table_order():
    rows = {m.name: m for m in report.measures(RESULTS)}
    names = list(rows)
    assert names[0].startswith("Producer: 300,000 pre-built")
    assert rows[names[0]].value == 108_383.0 and rows[names[0]].ratio == pytest.approx(216.766)
    bronze = rows["Kafka → Bronze: draining a 1,000,000-message backlog"]
    assert bronze.value == 64_080.0 and bronze.ratio == pytest.approx(128.16)
    p99 = next(m for m in rows.values() if "latency p99 at 5,000 msgs/s" in m.name)
    assert (p99.value, p99.unit, p99.seed) == (2_234, "ms", None)
    # 10 M rows in 122 s = 4,918,032.8 rows/min = 29.51 x 166,666.7
    silver = rows["Bronze → Silver AIS: 10,000,000 Bronze rows (122 s)"]
    assert silver.value == pytest.approx(4_918_032.8) and silver.ratio == pytest.approx(29.508, abs=1e-3)
    emissions = rows["Emissions and CII"]
    assert emissions.value is None and emissions.note == "failed: exit code 1"
    assert rows["OPTIMIZE ZORDER duration"].value == 61.5
    after = next(m for m in rows.values() if "files read after OPTIMIZE, of 48" in m.name)
    assert after.value == 14
    # 550,000 events / 275 s = 2,000 records/s = 0.72 x 2,777.8
    throughput = rows["Pipeline: events / wall time"]
    assert throughput.value == pytest.approx(2_000) and throughput.ratio == pytest.approx(0.72)
    assert rows["· stage Kafka → Bronze"].value == 250.0
    assert rows["Pipeline: peak memory with the Kafka broker"].value == 3_550.0
    assert rows["Idle stack memory"].note == "skipped: stack not running"
    assert names[-1] == "Idle stack memory"


def test_a_benchmark_left_out_keeps_a_row():
    rows = report.measures({})
    assert [m.name for m in rows] == [b.title for b in report.BENCHMARKS.values()]
    assert {m.note for m in rows} == {"not run: not selected"}


# -- machine, load and block -------------------------------------------------------------------

MACHINE = {
    "cpu_model": "AMD EPYC",
    "arch": "x86_64",
    "cores": 2,
    "ram_gib": 23.54,
    "swap_gib": 0.0,
    "os": "Debian GNU/Linux 12 (bookworm)",
    "kernel": "6.1.0",
    "java": "OpenJDK 17.0.15",
    "python": "3.11.7",
    "host": "vm",
}


def test_machine_text():
    assert report.machine_text(MACHINE) == (
        "AMD EPYC (x86_64), 2 cores, 23.5 GiB RAM, swap 0.0 GiB, Debian GNU/Linux 12 (bookworm) "
        "(kernel 6.1.0), OpenJDK 17.0.15, Python 3.11.7; host `vm`"
    )


def test_idle_means_a_one_minute_load_below_a_quarter_of_the_cores():
    assert report.is_idle(0.49, 2)
    assert not report.is_idle(0.5, 2)
    assert report.load_text([0.2, 0.91, 1.58], 2) == (
        "Machine idle at the start: load average 0.20, 0.91, 1.58 (1, 5, 15 min) on 2 cores."
    )
    assert report.load_text([3.0, 2.0, 1.0], 2).startswith("Machine busy (other work was running")


def test_render_block():
    run = {
        "scale": "full",
        "date": "2026-11-28",
        "machine": MACHINE,
        "load_before": [0.1, 0.2, 0.3],
        "wall_seconds": 1_830.0,
        "results_file": "bench/results/2026-11-28-vm.json",
        "benchmarks": RESULTS,
    }
    lines = report.render_block(run).splitlines()
    assert lines[0] == "## All benchmarks (`make bench`, scale full) — 2026-11-28"
    assert lines[2] == f"**Machine**: {report.machine_text(MACHINE)}."
    assert lines[3].startswith("Machine idle at the start: load average 0.10, 0.20, 0.30")
    assert lines[4] == "Total run time 30 min."
    with_revision = report.render_block({**run, "revision": "0123456789ab+changes"}).splitlines()
    assert with_revision[4] == "Total run time 30 min at commit `0123456789ab+changes`."
    assert lines[6] == "| measure | result | unit | seed figure | ratio |"
    assert lines[-2] == report.SEED_NOTE
    assert lines[-1] == "Raw results: [`bench/results/2026-11-28-vm.json`](bench/results/2026-11-28-vm.json)."
    assert len([line for line in lines if line.startswith("| ")]) == len(report.measures(RESULTS)) + 1


# -- marker replacement ------------------------------------------------------------------------

DOCUMENT = (
    "# Benchmarks\n\nIntro.\n\n<!-- bench:begin -->\nold table\n<!-- bench:end -->\n\n"
    "## History\n\nhand-written | table |\n"
)


def test_replace_block_keeps_everything_outside_the_markers():
    updated = report.replace_block(DOCUMENT, "## New\n\n| a |\n")
    assert updated == (
        "# Benchmarks\n\nIntro.\n\n<!-- bench:begin -->\n## New\n\n| a |\n<!-- bench:end -->\n\n"
        "## History\n\nhand-written | table |\n"
    )
    assert report.replace_block(updated, "## New\n\n| a |\n") == updated


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("no markers\n", "expected exactly one"),
        ("<!-- bench:begin -->\n<!-- bench:begin -->\n<!-- bench:end -->\n", "expected exactly one"),
        ("<!-- bench:end -->\nx\n<!-- bench:begin -->\n", "comes before"),
    ],
)
def test_replace_block_refuses_missing_repeated_or_reversed_markers(document, message):
    with pytest.raises(ValueError, match=message):
        report.replace_block(document, "new")


def test_benchmarks_md_has_one_block_and_keeps_its_history():
    text = (ROOT / "BENCHMARKS.md").read_text()
    updated = report.replace_block(text, "generated")
    head, tail = text.split(report.BEGIN)[0], text.split(report.END)[1]
    assert updated == f"{head}{report.BEGIN}\ngenerated\n{report.END}{tail}"
    assert "## Bronze → Silver AIS (`bench/silver_throughput.py`)" in tail


def test_every_benchmark_has_a_script_and_both_scales(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    run_all = importlib.import_module("run_all")
    assert list(run_all.STEPS) == ["stack", *[n for n in report.BENCHMARKS if n != "stack"]]
    for step in run_all.STEPS.values():
        assert (BENCH / step.script).is_file()
        assert set(step.args) == {"quick", "full"}
