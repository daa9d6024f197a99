"""ManagedProcess must stop a service together with everything it forked."""

from __future__ import annotations

import os
import sys
import time

import pytest

from maritimeiq import process as process_mod
from maritimeiq.process import ManagedProcess, wait_until


@pytest.fixture
def isolated_dirs(tmp_path, monkeypatch):
    monkeypatch.setattr(process_mod, "RUN_DIR", tmp_path / "run")
    monkeypatch.setattr(process_mod, "LOG_DIR", tmp_path / "log")
    return tmp_path


# A parent that forks a child which ignores SIGTERM, like a worker mid-task.
FORKING_SERVICE = """
import os, signal, sys, time
child = os.fork()
if child == 0:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print("child", os.getpid(), flush=True)
    time.sleep(600)
    sys.exit(0)
print("parent", os.getpid(), flush=True)
time.sleep(600)
"""


def _pids_from_log(proc: ManagedProcess) -> dict[str, int]:
    pids: dict[str, int] = {}
    for line in proc.log_file.read_text().splitlines():
        role, pid = line.split()
        pids[role] = int(pid)
    return pids


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_stop_kills_the_whole_process_group(isolated_dirs):
    proc = ManagedProcess("forking-service")
    pid = proc.start([sys.executable, "-c", FORKING_SERVICE], dict(os.environ))
    assert proc.pid() == pid
    wait_until(
        lambda: proc.log_file.exists() and len(proc.log_file.read_text().split()) == 4,
        timeout=10,
        what="forking service",
    )
    pids = _pids_from_log(proc)

    assert proc.stop(timeout=1.0) is True
    assert not _alive(pids["parent"])
    assert not _alive(pids["child"]), "SIGTERM-immune child must be SIGKILLed"
    assert not proc.pid_file.exists()
    assert proc.stop() is False  # stopping a stopped service is a no-op


def test_start_is_idempotent_while_running(isolated_dirs):
    proc = ManagedProcess("sleeper")
    first = proc.start([sys.executable, "-c", "import time; time.sleep(60)"], dict(os.environ))
    try:
        assert proc.start([sys.executable, "-c", "raise SystemExit(1)"], dict(os.environ)) == first
    finally:
        proc.stop(timeout=5)


def test_wait_until_reports_a_dead_service_with_its_log(isolated_dirs):
    proc = ManagedProcess("crasher")
    proc.start([sys.executable, "-c", "print('port already in use'); raise SystemExit(3)"], dict(os.environ))
    time.sleep(0.5)
    with pytest.raises(RuntimeError, match="port already in use"):
        wait_until(lambda: False, timeout=10, what="crasher", process=proc)


def test_kafka_storage_formats_with_a_cluster_id_that_looks_like_an_option(tmp_path, monkeypatch, platform_config):
    from maritime_stack import kafka as kafka_stack

    monkeypatch.setattr(kafka_stack, "KAFKA_DIR", tmp_path / "kafka")
    monkeypatch.setattr(kafka_stack, "_cluster_id", lambda: "-XGOkWW8Rv6YgDt4jBblug")
    kafka_stack.format_storage(platform_config)
    meta = next((tmp_path / "kafka").rglob("meta.properties")).read_text()
    assert "cluster.id=-XGOkWW8Rv6YgDt4jBblug" in meta


def test_component_logs_are_readable_by_the_owner_only(isolated_dirs):
    # A log written world-readable before must be tightened, not kept.
    (isolated_dirs / "log").mkdir(mode=0o755)
    (isolated_dirs / "log" / "quiet.log").write_text("old line\n")
    (isolated_dirs / "log" / "quiet.log").chmod(0o644)
    proc = ManagedProcess("quiet")
    proc.start([sys.executable, "-c", "print('secret-ish line', flush=True)"], dict(os.environ))
    wait_until(lambda: "secret-ish" in proc.log_file.read_text(), timeout=30, what="log line")
    proc.stop(timeout=5)
    assert (isolated_dirs / "log").stat().st_mode & 0o777 == 0o700
    assert proc.log_file.stat().st_mode & 0o777 == 0o600
    assert proc.log_file.read_text().startswith("old line\n")
