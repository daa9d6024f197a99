"""Background processes owned by the local stack: pid files, logs, clean stops.

Each service starts in a session of its own, so stopping its process group also
stops whatever it forked (uvicorn workers, LocalExecutor workers, gunicorn).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from maritimeiq.config import PROJECT_ROOT

RUN_DIR = PROJECT_ROOT / "var" / "run"
LOG_DIR = PROJECT_ROOT / "var" / "log"


@dataclass(frozen=True)
class ManagedProcess:
    name: str

    @property
    def pid_file(self) -> Path:
        return RUN_DIR / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return LOG_DIR / f"{self.name}.log"

    def pid(self) -> int | None:
        """The recorded pid if that process is still alive."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        if _is_zombie(pid):
            return None
        return pid

    def running(self) -> bool:
        return self.pid() is not None

    def start(self, argv: list[str], env: dict[str, str], cwd: Path = PROJECT_ROOT) -> int:
        if (pid := self.pid()) is not None:
            return pid
        RUN_DIR.mkdir(parents=True, exist_ok=True)
        # Owner-only: a component's stdout may carry what its own log masking missed
        # (Airflow's LocalExecutor echoes task lines to the scheduler unmasked).
        LOG_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
        LOG_DIR.chmod(0o700)
        fd = os.open(self.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "ab") as log:
            proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid_file.write_text(str(proc.pid))
        return proc.pid

    def stop(self, timeout: float = 30.0, leader_only: bool = False) -> bool:
        """SIGTERM the process group (or only its leader, which then stops its children in
        order), SIGKILL whatever of the group is left after ``timeout``."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        stop_group(pid, timeout, leader_only)
        self.pid_file.unlink(missing_ok=True)
        return True

    def tail(self, lines: int = 30) -> str:
        if not self.log_file.exists():
            return ""
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])


def stop_group(pgid: int, timeout: float = 30.0, leader_only: bool = False) -> None:
    """SIGTERM the group (or only its leader), wait until every process of it has exited,
    SIGKILL what is left after ``timeout``. Waiting for the whole group matters: a Spark
    JVM outlives its Python parent by the shutdown hooks that delete its scratch dirs."""
    if leader_only:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pgid, signal.SIGTERM)
    else:
        _signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _group_alive(pgid):
        time.sleep(0.2)
    if _group_alive(pgid):
        _signal_group(pgid, signal.SIGKILL)
        while _group_alive(pgid):
            time.sleep(0.1)


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def _group_alive(pgid: int) -> bool:
    """True while any non-zombie process of the group exists."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state != "Z":
            return True
    return False


def _is_zombie(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, IndexError):
        return False


def wait_until(check: Callable[[], bool], timeout: float, what: str, process: ManagedProcess | None = None) -> None:
    """Poll ``check`` until it is true; fail with the service log's tail if it never is."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if process is not None and not process.running():
            raise RuntimeError(f"{what}: process exited. Last log lines:\n{process.tail()}")
        time.sleep(1.0)
    tail = f"\nLast log lines of {process.log_file}:\n{process.tail()}" if process else ""
    raise TimeoutError(f"{what}: not ready after {timeout:.0f}s.{tail}")
