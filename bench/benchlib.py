"""What the benchmark scripts share: resident memory of process trees and groups, a peak
sampler, throw-away copies of the platform topics, and the JSON result file."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from maritime_streaming.producer import KafkaSink
from maritimeiq.config import KafkaConfig


def _stat_fields(pid: str) -> list[str]:
    # Fields after the command name, which may itself hold spaces and parentheses.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _rss_kib(pid: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0  # kernel threads and zombies have no resident set


def _processes() -> dict[str, list[str]]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                found[entry] = _stat_fields(entry)
            except (FileNotFoundError, ProcessLookupError):
                continue
    return found


def tree_rss_mib(root: int) -> float:
    """RSS summed over `root` and all its descendants."""
    children: dict[str, list[str]] = {}
    for pid, fields in _processes().items():
        children.setdefault(fields[1], []).append(pid)
    total, todo = 0, [str(root)]
    while todo:
        pid = todo.pop()
        try:
            total += _rss_kib(pid)
        except (FileNotFoundError, ProcessLookupError):
            continue
        todo += children.get(pid, [])
    return total / 1024


def group_rss_mib(pgid: int) -> tuple[float, int]:
    """RSS summed over every process of a process group, and how many there are."""
    total, count = 0, 0
    for pid, fields in _processes().items():
        if int(fields[2]) == pgid:
            try:
                total += _rss_kib(pid)
                count += 1
            except (FileNotFoundError, ProcessLookupError):
                continue
    return total / 1024, count


class PeakSampler:
    """Samples `measure()` (named values in MiB) every `interval` seconds in a thread; the
    peak of each value overall (`peak`) and since the last `stage_peak()` call."""

    def __init__(self, measure: Callable[[], dict[str, float]], interval: float = 0.5):
        self._measure = measure
        self._interval = interval
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.peak: dict[str, float] = {}
        self._stage: dict[str, float] = {}
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        values = self._measure()
        with self._lock:
            for name, value in values.items():
                self.peak[name] = max(self.peak.get(name, 0.0), value)
                self._stage[name] = max(self._stage.get(name, 0.0), value)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def stage_peak(self) -> dict[str, float]:
        self._sample()
        with self._lock:
            peak, self._stage = self._stage, {}
        return peak

    def __enter__(self) -> PeakSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


class BenchTopics:
    """Copies of the platform topics (same partitions) under a unique prefix, deleted on
    exit, so a benchmark never writes into the platform's own topics.

    Kafka timestamps are event times, and a simulated day may lie further back than the
    platform's 7-day retention: the copies keep everything (retention.ms -1) so the
    broker's retention check cannot delete a day before Bronze has read it."""

    def __init__(self, kafka: KafkaConfig, label: str):
        from confluent_kafka.admin import AdminClient, NewTopic

        self._admin = AdminClient(kafka.admin_config())
        prefix = f"bench.{label}.{uuid.uuid4().hex[:8]}."
        specs = kafka.all_topics()
        self.names = {t.name: prefix + t.name for t in specs}
        futures = self._admin.create_topics(
            [
                NewTopic(
                    self.names[t.name], num_partitions=t.partitions, replication_factor=1, config={"retention.ms": "-1"}
                )
                for t in specs
            ]
        )
        for future in futures.values():
            future.result()

    def __enter__(self) -> BenchTopics:
        return self

    def __exit__(self, *exc) -> None:
        for future in self._admin.delete_topics(list(self.names.values())).values():
            future.result()


class RenamingSink(KafkaSink):
    """The platform's Kafka sink, sending each record to the copy of its platform topic."""

    def __init__(self, kafka: KafkaConfig, names: dict[str, str], **options: Any):
        super().__init__(kafka, **options)
        self._names = names

    def _produce(self, topic: str, *args: Any) -> None:
        super()._produce(self._names[topic], *args)


def write_json(path: str | None, result: dict[str, Any]) -> None:
    """The machine-readable result for `run_all.py` (`--json PATH`); nothing without a path."""
    if path:
        Path(path).write_text(json.dumps(result, indent=2, default=str))
