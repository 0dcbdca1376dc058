"""Leases: one holder at a time, expiry, take-over, and a race of many workers."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy.engine import Engine

from crmbridge.store.db import create_session_factory
from crmbridge.store.repositories import leases
from crmbridge.worker.leases import holding_lease, try_acquire
from crmbridge.worker.testing import ManualClock

TTL = timedelta(minutes=5)


def test_a_lease_has_one_holder_until_it_expires(clean_db: Engine) -> None:
    factory = create_session_factory(clean_db)
    clock = ManualClock()
    assert try_acquire(factory, name="tenant:a", holder="w1", clock=clock, ttl=TTL)
    assert not try_acquire(factory, name="tenant:a", holder="w2", clock=clock, ttl=TTL)
    # The holder may take it again (extending it); another name is independent.
    assert try_acquire(factory, name="tenant:a", holder="w1", clock=clock, ttl=TTL)
    assert try_acquire(factory, name="tenant:b", holder="w2", clock=clock, ttl=TTL)
    clock.advance(minutes=4, seconds=59)
    assert not try_acquire(factory, name="tenant:a", holder="w2", clock=clock, ttl=TTL)
    clock.advance(seconds=1)
    # w1 stopped renewing (it died): w2 takes over, and w1 can no longer renew or release.
    assert try_acquire(factory, name="tenant:a", holder="w2", clock=clock, ttl=TTL)
    with factory.begin() as session:
        assert not leases.renew_lease(session, name="tenant:a", holder="w1", now=clock(), ttl=TTL)
        assert not leases.release_lease(session, name="tenant:a", holder="w1")
        lease = leases.get_lease(session, "tenant:a")
        assert lease is not None
        assert lease.holder == "w2"
        assert lease.acquired_at == clock()
        assert leases.release_lease(session, name="tenant:a", holder="w2")
    assert try_acquire(factory, name="tenant:a", holder="w3", clock=clock, ttl=TTL)


def test_holding_a_lease_releases_it_at_the_end_of_the_block(clean_db: Engine) -> None:
    factory = create_session_factory(clean_db)
    clock = ManualClock()
    with holding_lease(factory, name="tenant:a", holder="w1", clock=clock, ttl=TTL) as held:
        assert held
        with holding_lease(factory, name="tenant:a", holder="w2", clock=clock) as other:
            assert not other
    with holding_lease(factory, name="tenant:a", holder="w2", clock=clock) as held_now:
        assert held_now


def test_a_held_lease_is_renewed_while_the_work_runs(clean_db: Engine) -> None:
    factory = create_session_factory(clean_db)
    clock = ManualClock()
    short = timedelta(seconds=0.3)
    with holding_lease(factory, name="tenant:a", holder="w1", clock=clock, ttl=short):
        # The work outlives the lease's first expiry in clock time; the renewer (every
        # 0.1 s of real time) keeps pushing the expiry past the clock.
        clock.advance(seconds=0.25)
        renewed = threading.Event()

        def expiry_moved() -> bool:
            with factory() as session:
                lease = leases.get_lease(session, "tenant:a")
                return lease is not None and lease.expires_at > clock() + timedelta(seconds=0.2)

        for _ in range(100):
            if expiry_moved():
                renewed.set()
                break
            renewed.wait(0.02)
        assert renewed.is_set()
        clock.advance(seconds=0.2)
        assert not try_acquire(factory, name="tenant:a", holder="w2", clock=clock, ttl=short)


def test_when_many_workers_race_for_a_lease_exactly_one_wins(clean_db: Engine) -> None:
    factory = create_session_factory(clean_db)
    clock = ManualClock()
    for attempt in range(3):
        name = f"tenant:race-{attempt}"
        if attempt == 2:
            # The race over an expired lease row (UPDATE path), not only a new row (INSERT).
            assert try_acquire(factory, name=name, holder="old", clock=clock, ttl=TTL)
            clock.advance(TTL)
        barrier = threading.Barrier(8)
        winners: list[str] = []

        def contend(
            holder: str,
            name: str = name,
            barrier: threading.Barrier = barrier,
            winners: list[str] = winners,
        ) -> None:
            barrier.wait()
            if try_acquire(factory, name=name, holder=holder, clock=clock, ttl=TTL):
                winners.append(holder)

        threads = [threading.Thread(target=contend, args=(f"w{i}",)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(winners) == 1, winners
