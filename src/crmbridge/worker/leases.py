"""Holding a lease while work runs: one sync per tenant, however many workers.

A lease is a row with a holder and an expiry (``store/repositories/leases.py``). The
holder renews it from a background thread while the work runs, so a long run keeps
it, and a worker that dies (SIGKILL, power loss) stops renewing: its lease expires
after ``ttl`` and another worker takes over. Every lease operation is its own short
transaction, committed at once, never the work's transaction.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import structlog
from sqlalchemy.orm import Session, sessionmaker

from crmbridge.store.repositories import leases as repo

log = structlog.get_logger(__name__)

#: How long a lease lives without renewal.
DEFAULT_LEASE_TTL = timedelta(minutes=5)

Clock = Callable[[], datetime]


def worker_identity() -> str:
    """A holder name unique to this process: host, pid and a random part."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


def tenant_lease_name(tenant_id: str) -> str:
    """The lease every sync of a tenant holds (scheduled runs and push draining)."""
    return f"tenant:{tenant_id}"


def try_acquire(
    session_factory: sessionmaker[Session],
    *,
    name: str,
    holder: str,
    clock: Clock,
    ttl: timedelta = DEFAULT_LEASE_TTL,
) -> bool:
    """Take the lease if it is free, expired or already ours (committed at once)."""
    with session_factory.begin() as session:
        return repo.try_acquire_lease(session, name=name, holder=holder, now=clock(), ttl=ttl)


def release(session_factory: sessionmaker[Session], *, name: str, holder: str) -> None:
    """Give the lease up (a no-op when another worker took it over)."""
    with session_factory.begin() as session:
        repo.release_lease(session, name=name, holder=holder)


@contextmanager
def holding_lease(
    session_factory: sessionmaker[Session],
    *,
    name: str,
    holder: str,
    clock: Clock,
    ttl: timedelta = DEFAULT_LEASE_TTL,
) -> Iterator[bool]:
    """Hold ``name`` for the duration of the block, renewed every third of ``ttl``.

    Yields:
        Whether the lease was taken; when false, another worker holds it and the
        block should do nothing.
    """
    if not try_acquire(session_factory, name=name, holder=holder, clock=clock, ttl=ttl):
        yield False
        return
    stop = threading.Event()

    def keep_renewing() -> None:
        while not stop.wait(ttl.total_seconds() / 3):
            try:
                with session_factory.begin() as session:
                    kept = repo.renew_lease(session, name=name, holder=holder, now=clock(), ttl=ttl)
            except Exception:  # a database hiccup: try again at the next beat
                log.warning("lease.renew_failed", lease=name, exc_info=True)
                continue
            if not kept:
                log.error("lease.lost", lease=name, holder=holder)
                return

    renewer = threading.Thread(target=keep_renewing, name=f"lease-{name}", daemon=True)
    renewer.start()
    try:
        yield True
    finally:
        stop.set()
        renewer.join()
        release(session_factory, name=name, holder=holder)
