"""The outbound message queue (``DIR/outbound.sqlite3``) and its delivery worker.

Understanding Notifications (SOAP API Developer Guide): messages are queued locally
and a separate background process sends them; a message not acknowledged is retried
with exponentially growing intervals up to two hours, and dropped after 24 hours; up
to 100 notifications share one SOAP message; the record's *latest* data is sent.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from crmbridge.emulator.outbound_rules import OutboundRule
from crmbridge.emulator.outbound_soap import (
    MAX_NOTIFICATIONS_PER_MESSAGE,
    Notification,
    build_notifications_envelope,
    is_acknowledged,
)

log = logging.getLogger(__name__)


def retry_delay(attempts: int, *, base: float, ceiling: float) -> float:
    """Seconds before the next try after ``attempts`` failures: doubling, capped."""
    return min(ceiling, base * (2 ** max(0, attempts - 1)))


# --- the queue --------------------------------------------------------------------------

_QUEUE_DDL = """
CREATE TABLE IF NOT EXISTS notification (
    id TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    object TEXT NOT NULL,
    record_id TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error TEXT,
    delivered_at REAL,
    dropped_at REAL
);
CREATE INDEX IF NOT EXISTS notification_due
    ON notification (delivered_at, dropped_at, next_attempt_at);
CREATE TABLE IF NOT EXISTS rule (
    name TEXT PRIMARY KEY, spec TEXT NOT NULL, action_id TEXT NOT NULL
);
"""


@dataclass(kw_only=True)
class QueuedNotification:
    """A row of the outbound queue."""

    id: str
    rule: str
    object: str
    record_id: str
    snapshot: dict[str, Any]
    created_at: float
    attempts: int = 0
    next_attempt_at: float = 0.0
    last_error: str | None = None
    delivered_at: float | None = None
    dropped_at: float | None = None

    @property
    def state(self) -> str:
        if self.delivered_at is not None:
            return "delivered"
        if self.dropped_at is not None:
            return "dropped"
        return "pending" if self.attempts == 0 else "retrying"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = self.state
        del data["snapshot"]
        return data


class OutboundQueue:
    """Notifications and run-time rules in ``DIR/outbound.sqlite3``."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(_QUEUE_DDL)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def add(self, items: Iterable[QueuedNotification]) -> None:
        rows = [
            (
                n.id,
                n.rule,
                n.object,
                n.record_id,
                json.dumps(n.snapshot, default=str),
                n.created_at,
                n.next_attempt_at,
            )
            for n in items
        ]
        if not rows:
            return
        with self._lock:
            self._conn.executemany(
                "INSERT INTO notification (id, rule, object, record_id, snapshot, created_at, "
                "next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[QueuedNotification]:
        with self._lock:
            cursor = self._conn.execute(
                "SELECT id, rule, object, record_id, snapshot, created_at, attempts, "
                "next_attempt_at, last_error, delivered_at, dropped_at FROM notification " + sql,
                params,
            )
            rows = cursor.fetchall()
        return [
            QueuedNotification(
                id=r[0],
                rule=r[1],
                object=r[2],
                record_id=r[3],
                snapshot=json.loads(r[4]),
                created_at=r[5],
                attempts=r[6],
                next_attempt_at=r[7],
                last_error=r[8],
                delivered_at=r[9],
                dropped_at=r[10],
            )
            for r in rows
        ]

    def count(self) -> int:
        """Every notification ever queued (numbers the next notification id)."""
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM notification").fetchone()[0])

    def make_all_due(self, now: float) -> None:
        """Make every undelivered notification due now (admin "deliver now")."""
        with self._lock:
            self._conn.execute(
                "UPDATE notification SET next_attempt_at = ? "
                "WHERE delivered_at IS NULL AND dropped_at IS NULL",
                (now,),
            )

    def due(self, now: float) -> list[QueuedNotification]:
        """Undelivered notifications whose next attempt time has come, oldest first."""
        return self._rows(
            "WHERE delivered_at IS NULL AND dropped_at IS NULL AND next_attempt_at <= ? "
            "ORDER BY created_at, id",
            (now,),
        )

    def next_due_at(self) -> float | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT MIN(next_attempt_at) FROM notification "
                "WHERE delivered_at IS NULL AND dropped_at IS NULL"
            ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def listing(
        self, *, include_delivered: bool = True, limit: int = 1000
    ) -> list[QueuedNotification]:
        where = "" if include_delivered else "WHERE delivered_at IS NULL AND dropped_at IS NULL "
        return self._rows(where + "ORDER BY created_at, id LIMIT ?", (limit,))

    def mark_delivered(self, ids: Sequence[str], now: float) -> None:
        with self._lock:
            self._conn.executemany(
                "UPDATE notification SET delivered_at = ?, attempts = attempts + 1, "
                "last_error = NULL WHERE id = ?",
                [(now, i) for i in ids],
            )

    def mark_failed(
        self, items: Sequence[QueuedNotification], error: str, next_at: Callable[[int], float]
    ) -> None:
        with self._lock:
            self._conn.executemany(
                "UPDATE notification SET attempts = ?, last_error = ?, next_attempt_at = ? "
                "WHERE id = ?",
                [(n.attempts + 1, error[:1000], next_at(n.attempts + 1), n.id) for n in items],
            )

    def drop(self, ids: Sequence[str], now: float) -> None:
        with self._lock:
            self._conn.executemany(
                "UPDATE notification SET dropped_at = ? WHERE id = ?", [(now, i) for i in ids]
            )

    def drop_expired(self, cutoff: float, now: float) -> int:
        with self._lock:
            cursor = self._conn.execute(
                "UPDATE notification SET dropped_at = ? WHERE delivered_at IS NULL "
                "AND dropped_at IS NULL AND created_at < ?",
                (now, cutoff),
            )
            return cursor.rowcount

    # run-time rules survive restarts too
    def save_rule(self, spec: Mapping[str, Any], action_id: str) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO rule (name, spec, action_id) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET spec = excluded.spec",
                (spec["name"], json.dumps(dict(spec)), action_id),
            )

    def delete_rule(self, name: str) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM rule WHERE name = ?", (name,))

    def saved_rules(self) -> list[tuple[dict[str, Any], str]]:
        with self._lock:
            rows = self._conn.execute("SELECT spec, action_id FROM rule ORDER BY name").fetchall()
        return [(json.loads(spec), action_id) for spec, action_id in rows]


# --- delivery --------------------------------------------------------------------------


@dataclass(kw_only=True)
class DeliverySettings:
    """How the worker retries (Salesforce: doubling intervals up to two hours, 24 h TTL)."""

    base_delay: float = 30.0
    max_delay: float = 7_200.0
    max_age: float = 86_400.0
    timeout: float = 10.0
    #: ``verify`` for HTTPS endpoints: a CA bundle path, True (system CAs) or False.
    verify: str | bool = True


@dataclass(frozen=True, kw_only=True)
class EnvelopeIds:
    """The org-level values of every envelope (known once the server listens)."""

    organization_id: str
    enterprise_url: str
    partner_url: str


@dataclass
class _Batch:
    rule: OutboundRule
    items: list[QueuedNotification] = field(default_factory=list)


class DeliveryWorker:
    """A thread that sends due notifications and retries until they are acknowledged."""

    def __init__(
        self,
        queue: OutboundQueue,
        *,
        rules: Callable[[], Mapping[str, OutboundRule]],
        latest_fields: Callable[[str, str, Sequence[str]], dict[str, Any] | None],
        session_id: Callable[[], str],
        envelope_ids: Callable[[], EnvelopeIds],
        settings: DeliverySettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.queue = queue
        self._rules = rules
        self._latest = latest_fields
        self._session_id = session_id
        self._envelope_ids = envelope_ids
        self.settings = settings
        self._clock = clock
        self._wake = threading.Event()
        #: One delivery round at a time (the worker and the admin "deliver now").
        self._round = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=settings.verify)
            if isinstance(settings.verify, str)
            else settings.verify
        )
        self._client = httpx.Client(timeout=settings.timeout, verify=verify)

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="outbound-delivery", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._client.close()

    def wake(self) -> None:
        """Look at the queue now (after new notifications were queued)."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.deliver_due()
            except Exception:  # the worker must survive any bad message
                log.exception("outbound delivery round failed")
            next_at = self.queue.next_due_at()
            timeout = 60.0 if next_at is None else max(0.0, next_at - self._clock())
            self._wake.wait(timeout=min(timeout, 60.0))
            self._wake.clear()

    def deliver_due(self) -> int:
        """Send every due notification once; return how many were acknowledged."""
        with self._round:
            return self._deliver_due()

    def _deliver_due(self) -> int:
        now = self._clock()
        self.queue.drop_expired(now - self.settings.max_age, now)
        rules = self._rules()
        batches: dict[str, _Batch] = {}
        orphans: list[str] = []
        for item in self.queue.due(now):
            rule = rules.get(item.rule)
            if rule is None:
                # The rule was removed: there is nowhere to send it any more.
                orphans.append(item.id)
                continue
            batches.setdefault(item.rule, _Batch(rule)).items.append(item)
        self.queue.drop(orphans, now)
        acknowledged = 0
        for batch in batches.values():
            items = batch.items
            for start in range(0, len(items), MAX_NOTIFICATIONS_PER_MESSAGE):
                chunk = items[start : start + MAX_NOTIFICATIONS_PER_MESSAGE]
                if self._send(batch.rule, chunk):
                    acknowledged += len(chunk)
        return acknowledged

    def _send(self, rule: OutboundRule, items: list[QueuedNotification]) -> bool:
        notes = []
        for item in items:
            # Understanding Notifications: only the latest data is delivered.
            fields = self._latest(rule.object, item.record_id, rule.fields) or item.snapshot
            ordered = {name: _lookup(fields, name) for name in rule.fields}
            notes.append(Notification(id=item.id, sobject=rule.object, fields=ordered))
        ids = self._envelope_ids()
        body = build_notifications_envelope(
            organization_id=ids.organization_id,
            action_id=rule.action_id,
            session_id=self._session_id() if rule.send_session_id else None,
            enterprise_url=ids.enterprise_url,
            partner_url=ids.partner_url,
            notifications=notes,
        )
        error = ""
        try:
            response = self._client.post(
                rule.endpoint_url,
                content=body,
                headers={
                    "Content-Type": "text/xml; charset=utf-8",
                    "SOAPAction": '""',
                    "User-Agent": "Salesforce - Outbound Notification (crmbridge emulator)",
                },
            )
            if response.status_code == 200 and is_acknowledged(response.content):
                self.queue.mark_delivered([i.id for i in items], self._clock())
                return True
            error = f"HTTP {response.status_code}: no <Ack>true</Ack> in the response"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        now = self._clock()
        self.queue.mark_failed(
            items,
            error,
            lambda attempts: (
                now
                + retry_delay(
                    attempts, base=self.settings.base_delay, ceiling=self.settings.max_delay
                )
            ),
        )
        return False


def _lookup(record: Mapping[str, Any], name: str) -> Any:
    if name in record:
        return record[name]
    lowered = name.lower()
    return next((v for k, v in record.items() if k.lower() == lowered), None)
