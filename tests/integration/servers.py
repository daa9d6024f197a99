"""Servers and commands a test module starts for itself: free ports, readiness, a clean
stop, and a stack dump of any command that outlives its time."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from maritimeiq.process import stop_group


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers_ok(url: str) -> bool:
    """True when a GET of `url` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def spark_scratch_env(directory: Path) -> dict[str, str]:
    """Environment that keeps a Spark process's scratch space (jar copies, block manager,
    artifacts) in the test's own directory: a worker the test SIGKILLs never runs the
    shutdown hooks that would delete it from /tmp."""
    directory.mkdir(parents=True, exist_ok=True)
    return {"SPARK_LOCAL_DIRS": str(directory), "JAVA_TOOL_OPTIONS": f"-Djava.io.tmpdir={directory}"}


def stop_process_group(proc: subprocess.Popen) -> None:
    """SIGTERM the process's own session (the server and its workers), SIGKILL what is
    left of it after 30 s."""
    stop_group(proc.pid, timeout=30)
    proc.wait()


def run_or_dump(
    argv: list[str], env: dict[str, str], timeout_s: float, logs: tuple[Path, ...] = ()
) -> subprocess.CompletedProcess:
    """Run a command in a session of its own. Past `timeout_s` every Python process of that
    session prints the stack of each of its threads (faulthandler on SIGABRT), the session
    is killed, and the test fails with the process list, the dumps, the end of the output
    and of `logs`: a hang says where it hung."""
    proc = subprocess.Popen(
        argv,
        env={**env, "PYTHONFAULTHANDLER": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        processes = subprocess.run(
            ["ps", "-s", str(proc.pid), "-o", "pid,ppid,stat,wchan:24,args"], capture_output=True, text=True
        ).stdout
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGABRT)
            time.sleep(3)
            os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        tails = [f"--- {path} ---\n{path.read_text(errors='replace')[-3000:]}" for path in logs if path.exists()]
        raise AssertionError(
            f"{' '.join(argv[1:4])} still running after {timeout_s:.0f} s\n{processes}"
            f"--- stdout ---\n{stdout[-6000:]}\n--- stderr (thread dumps) ---\n"
            f"{stderr[-15000:]}\n" + "\n".join(tails)
        ) from None
    return subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)


@contextmanager
def running_server(
    argv: list[str], env: dict[str, str], log_path: Path, ready: Callable[[], bool], name: str, timeout_s: float = 180
) -> Iterator[subprocess.Popen]:
    """Start `argv` in a session of its own, wait until `ready()`, stop it on exit."""
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout_s
        while not ready():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{log_path.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} did not become ready in {timeout_s:.0f} s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield proc
    finally:
        stop_process_group(proc)
