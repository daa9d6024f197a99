"""Alerts: one notifier for DAG failure callbacks and the platform's health checks.

Severity policy (docs/OPERATIONS.md):

* **P1**: a task failed in a production DAG; consumer lag above its threshold.
* **P2**: a Spark task ran longer than ``duration_ratio`` x its trailing average;
  producer latency above ``producer_latency_seconds``.
* **P3**: a stream's data-quality violation rate (quarantined / rows_in) above
  ``quarantine_rate``; a task failed in a DAG outside ``production_dags``.

Channels (the ``alerting`` section of the platform configuration, conf/platform.yaml):
the log, a Slack-compatible webhook, SMTP email and the ``maritime.alerts`` Kafka
topic. Secrets never live in the file: the webhook URL comes from
``MARITIME_ALERT_WEBHOOK_URL`` or the Airflow Connection ``alert_webhook``, the SMTP
password from ``MARITIME_ALERT_SMTP_PASSWORD``. An alert whose key (severity, DAG,
task, condition) was sent within the de-duplication window is suppressed; the state
is a small SQLite file (default ``var/alerts.sqlite``). A failing channel is logged and
never raises out of a callback.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import logging
import os
import smtplib
import sqlite3
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

from maritimeiq.config import AlertingConfig, get_config

log = logging.getLogger("maritime.alerts")

WEBHOOK_URL_ENV = "MARITIME_ALERT_WEBHOOK_URL"
SMTP_PASSWORD_ENV = "MARITIME_ALERT_SMTP_PASSWORD"
WEBHOOK_CONNECTION = "alert_webhook"
SEVERITIES = ("P1", "P2", "P3")


# -- the alert --------------------------------------------------------------------------
@dataclass(frozen=True)
class Alert:
    severity: str
    title: str
    condition: str  # what is wrong, stable across repeats: part of the de-duplication key
    detail: str = ""
    dag_id: str | None = None
    task_id: str | None = None
    run_id: str | None = None
    try_number: int | None = None
    log_url: str | None = None
    exception: str | None = None
    mmsi: str | None = None
    resolved: bool = False

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.severity, self.dag_id or "", self.task_id or "", self.condition)

    def text(self) -> str:
        head = f"[{self.severity}]{' RESOLVED' if self.resolved else ''} {self.title}"
        facts = [
            ("DAG", self.dag_id),
            ("task", self.task_id),
            ("run", self.run_id),
            ("try", self.try_number),
            ("log", self.log_url),
            ("exception", self.exception),
            ("vessel", self.mmsi),
        ]
        lines = [head, *([self.detail] if self.detail else [])]
        lines += [f"{name}: {value}" for name, value in facts if value not in (None, "")]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- severity policy --------------------------------------------------------------------
def failure_severity(dag_id: str | None, production_dags: Sequence[str]) -> str:
    """P1 for a failed task in a production DAG (glob patterns), P3 elsewhere."""
    return "P1" if any(fnmatch.fnmatchcase(dag_id or "", p) for p in production_dags) else "P3"


def duration_exceeds(
    history_seconds: Sequence[float], current_seconds: float, *, ratio: float = 2.0, min_history: int = 3
) -> bool:
    """P2 rule: the run took more than `ratio` x the mean of the earlier runs given
    (trailing window, oldest first). Too little history decides nothing."""
    if len(history_seconds) < min_history:
        return False
    return current_seconds > ratio * (sum(history_seconds) / len(history_seconds))


def latency_exceeds(latency_seconds: float, threshold_seconds: float = 1.0) -> bool:
    """P2 rule: producer (event-to-Kafka) latency above the threshold."""
    return latency_seconds > threshold_seconds


@dataclass(frozen=True)
class QualityViolation:
    stream: str
    interval_start: datetime
    rows_in: int
    quarantined: int
    rate: float


def quality_violations(records: Iterable[Mapping[str, Any]], threshold: float = 0.05) -> list[QualityViolation]:
    """P3 rule over ``silver/data_quality`` records (stream, interval_start, rows_in,
    quarantined): intervals whose quarantined / rows_in exceeds the threshold."""
    found = []
    for r in records:
        rows_in, quarantined = int(r["rows_in"] or 0), int(r["quarantined"] or 0)
        if rows_in > 0 and quarantined / rows_in > threshold:
            found.append(
                QualityViolation(r["stream"], r["interval_start"], rows_in, quarantined, quarantined / rows_in)
            )
    return sorted(found, key=lambda v: (v.stream, v.interval_start))


# -- de-duplication ---------------------------------------------------------------------
class AlertState:
    """Last-sent times per alert key, and task durations for the P2 rule, in SQLite."""

    def __init__(self, path: str | Path, clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self.clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS alert_sent (severity TEXT, dag_id TEXT, task_id TEXT, "
                "condition TEXT, sent_at REAL, PRIMARY KEY (severity, dag_id, task_id, condition))"
            )
            db.execute(
                "CREATE TABLE IF NOT EXISTS task_duration (dag_id TEXT, task_id TEXT, run_id TEXT, "
                "seconds REAL, finished_at REAL, PRIMARY KEY (dag_id, task_id, run_id))"
            )

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # Callbacks of parallel tasks share the file: wait for the lock instead of failing.
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    def claim(self, key: tuple[str, str, str, str], window_seconds: float) -> bool:
        """True (and the key marked sent now) unless it was sent within the window."""
        now = self.clock()
        with self._connect() as db:
            row = db.execute(
                "SELECT sent_at FROM alert_sent WHERE severity=? AND dag_id=? AND task_id=? AND condition=?", key
            ).fetchone()
            if row is not None and now - row[0] < window_seconds:
                return False
            db.execute("INSERT OR REPLACE INTO alert_sent VALUES (?, ?, ?, ?, ?)", (*key, now))
            return True

    def release(self, key: tuple[str, str, str, str]) -> bool:
        """Forget an active key; True when there was one (the condition had alerted)."""
        with self._connect() as db:
            return (
                db.execute(
                    "DELETE FROM alert_sent WHERE severity=? AND dag_id=? AND task_id=? AND condition=?", key
                ).rowcount
                > 0
            )

    def record_duration(self, dag_id: str, task_id: str, run_id: str, seconds: float) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO task_duration VALUES (?, ?, ?, ?, ?)",
                (dag_id, task_id, run_id, seconds, self.clock()),
            )

    def durations(self, dag_id: str, task_id: str, limit: int) -> list[float]:
        """The last `limit` recorded durations of a task, oldest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT seconds FROM task_duration WHERE dag_id=? AND task_id=? ORDER BY finished_at DESC LIMIT ?",
                (dag_id, task_id, limit),
            ).fetchall()
        return [r[0] for r in reversed(rows)]


# -- channels ---------------------------------------------------------------------------
class Channel(Protocol):
    name: str

    def send(self, alert: Alert) -> None: ...


class LogChannel:
    name = "log"

    def send(self, alert: Alert) -> None:
        level = logging.INFO if alert.resolved else logging.ERROR if alert.severity == "P1" else logging.WARNING
        log.log(level, "alert %s", json.dumps(alert.as_dict(), default=str))


class WebhookChannel:
    """Slack-compatible incoming webhook: POST ``{"text": ..., "blocks": [...]}``."""

    name = "webhook"

    def __init__(self, url: str, timeout: float = 10.0):
        self.url, self.timeout = url, timeout

    @staticmethod
    def payload(alert: Alert) -> dict[str, Any]:
        text = alert.text()
        return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}

    def send(self, alert: Alert) -> None:
        request = urllib.request.Request(
            self.url,
            data=json.dumps(self.payload(alert)).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            response.read()


class EmailChannel:
    name = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        recipients: Sequence[str],
        *,
        username: str = "",
        password: str = "",
        starttls: bool = False,
        timeout: float = 10.0,
    ):
        self.host, self.port, self.sender, self.recipients = host, port, sender, list(recipients)
        self.username, self.password, self.starttls, self.timeout = username, password, starttls, timeout

    def send(self, alert: Alert) -> None:
        message = EmailMessage()
        message["Subject"] = alert.text().splitlines()[0]
        message["From"], message["To"] = self.sender, ", ".join(self.recipients)
        message.set_content(alert.text())
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(message)


class KafkaChannel:
    """An ``alert`` event (include/maritimeiq/events.py) on ``maritime.alerts``."""

    name = "kafka"

    def __init__(self, client_config: Mapping[str, Any], timeout: float = 10.0):
        self.client_config, self.timeout = dict(client_config), timeout

    @staticmethod
    def event(alert: Alert, at: datetime) -> dict[str, Any]:
        from maritimeiq.events import make_event

        return make_event(
            "alert",
            "alerting",
            at,
            alert_id=str(uuid.uuid4()),
            severity=alert.severity,
            title=("RESOLVED " if alert.resolved else "") + alert.title,
            detail=alert.text(),
            mmsi=alert.mmsi,
            dag_id=alert.dag_id,
            task_id=alert.task_id,
        )

    def send(self, alert: Alert) -> None:
        from confluent_kafka import Producer

        from maritimeiq.events import TOPIC_OF

        event = self.event(alert, datetime.now(UTC))
        errors: list[Any] = []
        producer = Producer({**self.client_config, "acks": "all", "message.timeout.ms": int(self.timeout * 1000)})
        producer.produce(
            TOPIC_OF["alert"],
            key=event["alert_id"],
            value=json.dumps(event).encode(),
            on_delivery=lambda err, _msg: errors.append(err) if err else None,
        )
        if producer.flush(self.timeout) or errors:
            raise RuntimeError(f"alert not delivered to Kafka: {errors or 'timed out'}")


def webhook_url() -> str | None:
    """``MARITIME_ALERT_WEBHOOK_URL``, else the Airflow Connection ``alert_webhook``
    (URL in its ``url`` extra or its host), else None."""
    if os.environ.get(WEBHOOK_URL_ENV):
        return os.environ[WEBHOOK_URL_ENV]
    try:
        from airflow.sdk import BaseHook

        connection = BaseHook.get_connection(WEBHOOK_CONNECTION)
    except Exception:  # no Airflow here, or no such Connection
        return None
    return (connection.extra_dejson or {}).get("url") or connection.host or None


def build_channels(settings: AlertingConfig) -> list[Channel]:
    """The enabled channels; one whose secret or address is missing is skipped with a warning."""
    spec = settings.channels
    channels: list[Channel] = []
    if spec.log.enabled:
        channels.append(LogChannel())
    if spec.webhook.enabled:
        url = webhook_url()
        if url:
            channels.append(WebhookChannel(url, spec.webhook.timeout_seconds))
        else:
            log.warning(
                "webhook channel enabled but neither %s nor Connection %s is set", WEBHOOK_URL_ENV, WEBHOOK_CONNECTION
            )
    if spec.email.enabled:
        email = spec.email
        if email.smtp_host and email.to:
            channels.append(
                EmailChannel(
                    email.smtp_host,
                    email.smtp_port,
                    email.sender,
                    email.to,
                    username=email.username,
                    password=os.environ.get(SMTP_PASSWORD_ENV, ""),
                    starttls=email.starttls,
                )
            )
        else:
            log.warning("email channel enabled without smtp_host and to")
    if spec.kafka.enabled:
        channels.append(KafkaChannel(get_config().kafka.client_config(), spec.kafka.timeout_seconds))
    return channels


# -- the notifier -----------------------------------------------------------------------
class Notifier:
    def __init__(self, settings: AlertingConfig, channels: Sequence[Channel], state: AlertState):
        self.settings, self.channels, self.state = settings, list(channels), state

    def send(self, alert: Alert) -> bool:
        """Deliver unless the same key was sent within the window; True when delivered."""
        if not self.state.claim(alert.key, self.settings.dedupe_window_minutes * 60):
            log.info("alert suppressed (sent within %.0f min): %s", self.settings.dedupe_window_minutes, alert.key)
            return False
        self._deliver(alert)
        return True

    def resolve(self, alert: Alert) -> bool:
        """The condition cleared: a RESOLVED notice when it had alerted; True when sent."""
        if not self.state.release(alert.key):
            return False
        self._deliver(Alert(**{**alert.as_dict(), "resolved": True}))
        return True

    def _deliver(self, alert: Alert) -> None:
        for channel in self.channels:
            try:
                channel.send(alert)
            except Exception:
                log.exception("alert channel %s failed for %s", channel.name, alert.key)


def get_notifier(settings: AlertingConfig | None = None, clock: Callable[[], float] = time.time) -> Notifier:
    """A notifier with the given settings, else the platform configuration's ``alerting``."""
    settings = settings or get_config().alerting
    return Notifier(settings, build_channels(settings), AlertState(settings.state_path, clock))


# -- Airflow callbacks ------------------------------------------------------------------
def _task_instance(context: Mapping[str, Any]) -> Any:
    return context.get("task_instance") or context.get("ti")


def failure_alert(context: Mapping[str, Any], production_dags: Sequence[str] = ("*",)) -> Alert:
    ti = _task_instance(context)
    dag_id, task_id = getattr(ti, "dag_id", None), getattr(ti, "task_id", None)
    exception = context.get("exception")
    return Alert(
        severity=failure_severity(dag_id, production_dags),
        title=f"Task failed: {dag_id}.{task_id}",
        condition="task_failed",
        dag_id=dag_id,
        task_id=task_id,
        run_id=getattr(ti, "run_id", None) or context.get("run_id"),
        try_number=getattr(ti, "try_number", None),
        log_url=getattr(ti, "log_url", None),
        exception=f"{type(exception).__name__}: {exception}" if exception is not None else None,
        detail=f"logical date {context.get('logical_date')}",
    )


def on_task_failure(context: dict[str, Any]) -> None:
    """`on_failure_callback` of every platform DAG: P1 (production DAG) or P3 alert."""
    try:
        notifier = get_notifier()
        notifier.send(failure_alert(context, notifier.settings.production_dags))
    except Exception:  # a broken alert path must not mask the task's own failure
        log.exception("failure alert not sent; context task %s", getattr(_task_instance(context), "task_id", None))


def on_spark_task_success(context: dict[str, Any]) -> None:
    """`on_success_callback` for Spark tasks: P2 when this run took more than
    ``duration_ratio`` x the trailing average of the task's earlier successful runs.

    Durations are kept in the alert state file: Airflow 3 task code has no metadata-DB
    access, and the REST API would need credentials on every worker.
    """
    try:
        ti = _task_instance(context)
        started = getattr(ti, "start_date", None)
        if started is None:
            return
        seconds = (datetime.now(UTC) - started).total_seconds()
        notifier = get_notifier()
        limits = notifier.settings.thresholds
        history = notifier.state.durations(ti.dag_id, ti.task_id, limits.duration_history_runs)
        notifier.state.record_duration(ti.dag_id, ti.task_id, ti.run_id, seconds)
        if duration_exceeds(history, seconds, ratio=limits.duration_ratio, min_history=limits.duration_min_history):
            mean = sum(history) / len(history)
            notifier.send(
                Alert(
                    "P2",
                    f"Slow Spark task: {ti.dag_id}.{ti.task_id}",
                    "duration_over_trailing_avg",
                    detail=f"took {seconds:.0f} s, {seconds / mean:.1f}x the average {mean:.0f} s "
                    f"of the last {len(history)} runs",
                    dag_id=ti.dag_id,
                    task_id=ti.task_id,
                    run_id=ti.run_id,
                    try_number=getattr(ti, "try_number", None),
                    log_url=getattr(ti, "log_url", None),
                )
            )
    except Exception:
        log.exception("duration check failed")
