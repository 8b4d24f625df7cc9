"""The throttle's leases (claresia/throttling.py): a process busy with a key takes its slots a few
at a time, and still no more than the rate is admitted, by any number of processes."""

import itertools
import threading

import pytest
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError

from claresia.throttling import LEASE_AFTER, LEASE_MAX, Rate, WindowLeases

NOW = 1_800_000_000.0  # the start of a 60 s window (a multiple of 60)


class SharedCount:
    """What Redis is to the processes: one count per window key, added to atomically."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.additions: list[int] = []
        self._lock = threading.Lock()

    def add(self, key: str, amount: int, *, timeout: int) -> int:
        with self._lock:
            self.additions.append(amount)
            self.counts[key] = self.counts.get(key, 0) + amount
            return self.counts[key]


def processes(count: int, shared: SharedCount) -> list[WindowLeases]:
    return [WindowLeases(add=shared.add) for _ in range(count)]


def test_busy_processes_admit_exactly_the_rate_between_them():
    # given three processes sharing a key of 10,000 a minute, each called in turn
    shared = SharedCount()
    workers = processes(3, shared)
    rate = Rate(10_000, 60)

    # when they are asked 15,000 times within the window
    admitted = sum(
        worker.admit("k", rate, now=NOW + 1)[0]
        for worker, _ in zip(itertools.cycle(workers), range(15_000), strict=False)
    )

    # then exactly the rate was admitted
    assert admitted == 10_000


def test_a_busy_key_costs_a_trip_to_the_shared_count_per_lease_not_per_call():
    # given three processes sharing a busy key far from its limit
    shared = SharedCount()
    workers = processes(3, shared)
    rate = Rate(1_000_000, 60)

    # when they admit 30,000 calls in turn
    for worker, _ in zip(itertools.cycle(workers), range(30_000), strict=False):
        assert worker.admit("k", rate, now=NOW)[0]

    # then the count holds every call, taken LEASE_MAX at a time once the key is busy
    assert sum(shared.additions) >= 30_000
    assert len(shared.additions) < 30_000 / (LEASE_MAX / 2)
    assert max(shared.additions) == LEASE_MAX


def test_processes_in_threads_never_admit_more_than_the_rate():
    # given two processes of four threads each, on a key of 5,000 a minute
    shared = SharedCount()
    workers = processes(2, shared)
    rate = Rate(5_000, 60)
    admitted = []

    def call(worker: WindowLeases) -> None:
        admitted.append(sum(worker.admit("k", rate, now=NOW)[0] for _ in range(2_500)))

    threads = [threading.Thread(target=call, args=(worker,)) for worker in workers * 4]

    # when 20,000 calls race
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then 5,000 got through (every thread keeps calling, so no leased slot is left unused)
    assert sum(admitted) == 5_000


def test_a_quiet_key_is_counted_one_call_at_a_time():
    # given a process that sees a key fewer than LEASE_AFTER times in a window
    shared = SharedCount()
    (worker,) = processes(1, shared)

    # when
    for _ in range(LEASE_AFTER):
        assert worker.admit("k", Rate(6_000, 60), now=NOW)[0]

    # then the shared count is the calls, one addition each
    assert shared.additions == [1] * LEASE_AFTER
    assert shared.counts == {f"k:{int(NOW // 60)}": LEASE_AFTER}


def test_a_small_rate_is_counted_one_call_at_a_time_however_busy():
    # given registration's kind of rate: 20 an hour
    shared = SharedCount()
    (worker,) = processes(1, shared)
    rate = Rate(20, 3600)

    # when it is asked 30 times at once
    verdicts = [worker.admit("k", rate, now=NOW)[0] for _ in range(30)]

    # then the 21st is the first refused, and every call was its own addition of one
    assert verdicts == [True] * 20 + [False] * 10
    assert set(shared.additions) == {1}


def test_the_last_tenth_of_a_window_is_counted_one_call_at_a_time():
    # given a busy process that has leased slots of a key of 1,000 a minute
    shared = SharedCount()
    (worker,) = processes(1, shared)
    rate = Rate(1_000, 60)

    # when it admits the whole window's budget
    verdicts = [worker.admit("k", rate, now=NOW)[0] for _ in range(1_001)]

    # then it took one slot at a time once the count reached the window's last tenth
    assert verdicts == [True] * 1_000 + [False]
    count = 0
    for amount in shared.additions:
        if count >= 900:
            assert amount == 1
        count += amount


def test_leased_slots_are_not_spent_in_the_next_window():
    # given a process holding slots of this window
    shared = SharedCount()
    (worker,) = processes(1, shared)
    rate = Rate(6_000, 60)
    for _ in range(LEASE_AFTER * 4):
        worker.admit("k", rate, now=NOW + 10)
    asked = len(shared.additions)

    # when the next window's first call comes
    worker.admit("k", rate, now=NOW + 60)

    # then it asked the shared count of the new window
    assert len(shared.additions) == asked + 1
    assert shared.counts[f"k:{int(NOW // 60) + 1}"] == 1


def test_an_unreachable_count_admits_and_says_so(caplog):
    # given a shared count that cannot be reached
    def unreachable(key, amount, *, timeout):
        raise RedisConnectionError("refused")

    worker = WindowLeases(add=unreachable)

    # when / then: throttles fail open
    assert worker.admit("k", Rate(10, 60), now=NOW) == (True, NOW + 60)
    assert "hub throttle skipped: the cache is unreachable (ConnectionError)" in caplog.text


def test_two_processes_on_redis_admit_exactly_the_rate():
    # given two processes' leases on the Redis behind the cache (the module's own counter)
    if not isinstance(caches[DEFAULT_CACHE_ALIAS], RedisCache):
        pytest.skip("the suite runs on Redis (make test); this run has another cache")
    workers = [WindowLeases(), WindowLeases()]
    rate = Rate(2_000, 60)
    key = f"throttle:test-leases:{id(workers)}"

    # when they are asked 2,500 times in turn (now: the same window for the whole test)
    admitted = sum(
        worker.admit(key, rate, now=NOW)[0]
        for worker, _ in zip(itertools.cycle(workers), range(2_500), strict=False)
    )

    # then
    assert admitted == 2_000


def test_a_lease_taken_at_the_limit_gets_only_the_slots_left():
    # given process B busy enough to lease, and process A bringing the count near the limit
    shared = SharedCount()
    a, b = processes(2, shared)
    rate = Rate(1_000, 60)
    window_key = f"k:{int(NOW // 60)}"
    admitted = sum(b.admit("k", rate, now=NOW)[0] for _ in range(LEASE_AFTER * 8))
    while shared.counts[window_key] < rate.requests - 5:
        admitted += a.admit("k", rate, now=NOW)[0]

    # when B, which has not seen the window's tail, spends its slots and asks for a lease
    while b.admit("k", rate, now=NOW)[0]:
        admitted += 1

    # then it was granted only what was left: together they admitted exactly the rate
    assert shared.additions[-2] > 5
    assert admitted == rate.requests
    assert not a.admit("k", rate, now=NOW)[0]
