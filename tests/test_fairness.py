"""Each client's fair share (server/core/fairness.py): queries in flight, query time per minute, Retry-After,
the sliding window, lost slots and eviction, with the time passed in."""

from __future__ import annotations

import pytest

from server.core.fairness import (
    GRACE,
    SETS,
    WAYS,
    Limits,
    Refusal,
    Table,
    Ticket,
    client_id,
    client_key,
    refusal_message,
)

T0 = 1_000_020.0  # a time at the start of a 5 s step (1_000_020 / 5 is whole)
A, B = 11, 12  # two clients' keys (different sets)


def table(in_flight: int = 2, budget: float = 30.0, time_limit: float = 30.0) -> Table:
    limits = Limits(in_flight, budget, time_limit)
    return Table(bytearray(Table.size(limits)), limits)


def run(t: Table, key: int, start: float, seconds: float) -> None:
    """A query of `key` admitted at `start` that ran `seconds`."""
    ticket = t.admit(key, start)
    assert isinstance(ticket, Ticket)
    t.release(ticket, start + seconds)


@pytest.mark.parametrize(
    ("in_flight", "admitted", "refused"),
    [(1, 1, 2), (2, 2, 1), (3, 3, 0)],
)
def test_in_flight_bound(in_flight: int, admitted: int, refused: int) -> None:
    t = table(in_flight=in_flight)
    outcomes = [t.admit(A, T0 + i) for i in range(3)]
    assert sum(isinstance(o, Ticket) for o in outcomes) == admitted
    assert [o.reason for o in outcomes if isinstance(o, Refusal)] == ["in_flight"] * refused
    assert isinstance(t.admit(B, T0 + 3), Ticket)  # another client is not concerned


@pytest.mark.parametrize(
    ("now", "retry_after"),
    [(T0, 30), (T0 + 0.5, 30), (T0 + 12, 18), (T0 + 29.2, 1), (T0 + 29.99, 1)],
)
def test_in_flight_retry_after_is_when_the_first_query_reaches_its_time_limit(
    now: float, retry_after: int
) -> None:
    t = table(in_flight=2, time_limit=30)
    t.admit(A, T0)
    t.admit(A, T0 + 5)
    refusal = t.admit(A, now)
    assert refusal == Refusal("in_flight", retry_after, 2)


def test_a_released_slot_is_free_again() -> None:
    t = table(in_flight=1)
    ticket = t.admit(A, T0)
    assert isinstance(t.admit(A, T0 + 1), Refusal)
    assert isinstance(ticket, Ticket)
    t.release(ticket, T0 + 2)
    assert isinstance(t.admit(A, T0 + 2), Ticket)
    assert t.usage(A, T0 + 2) == (1, 2.0)


@pytest.mark.parametrize(
    ("charged", "admitted"),
    [([10.0, 10.0], True), ([10.0, 19.9], True), ([10.0, 20.0], False), ([31.0], False)],
)
def test_budget(charged: list[float], admitted: bool) -> None:
    t = table(budget=30)
    start = T0
    for seconds in charged:
        run(t, A, start, seconds)
        start += seconds
    outcome = t.admit(A, start)
    assert isinstance(outcome, Ticket) == admitted
    if not admitted:
        assert isinstance(outcome, Refusal) and outcome.reason == "budget"
        assert outcome.used == pytest.approx(sum(charged))


@pytest.mark.parametrize(
    ("charges", "now", "retry_after"),
    [
        # one charge at T0 (step n): it leaves the window when step n + 12 begins, 60 s after its step began
        ([(T0, 30.0)], T0 + 30, 30),
        ([(T0, 30.0)], T0 + 59.5, 1),
        # charged in the middle of a step: leaves at the end of that step + 55 s
        ([(T0 + 2, 30.0)], T0 + 32, 28),
        # two charges: the first leaving is enough
        ([(T0, 20.0), (T0 + 20, 15.0)], T0 + 35, 25),
        # two charges: only both leaving is enough (the second leaves 60 s after its step)
        ([(T0, 10.0), (T0 + 20, 35.0)], T0 + 45, 35),
    ],
)
def test_budget_retry_after_is_when_enough_time_leaves_the_window(
    charges: list[tuple[float, float]], now: float, retry_after: int
) -> None:
    t = table(in_flight=4, budget=30)
    for end, seconds in charges:
        ticket = t.admit(A, end - seconds)
        assert isinstance(ticket, Ticket)
        t.release(ticket, end)
    refusal = t.admit(A, now)
    assert isinstance(refusal, Refusal) and refusal.reason == "budget"
    assert refusal.retry_after == retry_after
    if retry_after > 1:
        assert isinstance(t.admit(A, now + retry_after - 1.01), Refusal)  # not free much earlier...
    assert isinstance(t.admit(A, now + retry_after), Ticket)  # ...but free by then: honest


@pytest.mark.parametrize(
    ("later", "spent"),
    [(0, 30.0), (57.9, 30.0), (58, 0.0), (60, 0.0), (3600, 0.0)],
)
def test_the_window_slides_in_steps(later: float, spent: float) -> None:
    t = table(budget=100)
    run(t, A, T0 - 28, 30)  # ends at T0 + 2, in the step [T0, T0 + 5)
    assert t.usage(A, T0 + 2 + later)[1] == pytest.approx(spent)


def test_a_client_at_its_budget_is_refused_with_a_slot_free() -> None:
    t = table(in_flight=1, budget=10, time_limit=30)
    run(t, A, T0, 10)
    refusal = t.admit(A, T0 + 10)
    assert isinstance(refusal, Refusal) and refusal.reason == "budget"


def test_a_slot_lost_with_a_dead_worker_frees_after_the_time_limit_and_grace() -> None:
    t = table(in_flight=1, time_limit=30)
    lost = t.admit(A, T0)  # never released: its worker was killed
    assert isinstance(t.admit(A, T0 + 30 + GRACE - 1), Refusal)
    again = t.admit(A, T0 + 30 + GRACE + 1)
    assert isinstance(again, Ticket)
    assert isinstance(lost, Ticket)
    t.release(lost, T0 + 50)  # late: charged, but the slot it had now belongs to another query
    assert t.usage(A, T0 + 50) == (1, 50.0)


def test_a_full_set_evicts_the_longest_idle_client() -> None:
    t = table(in_flight=1, budget=5)
    keys = [3 + SETS * i for i in range(WAYS + 1)]  # all in set 3
    for i, key in enumerate(keys[:WAYS]):
        run(t, key, T0 + i, 5)  # each has spent its budget
    assert isinstance(t.admit(keys[0], T0 + 20), Refusal)
    assert isinstance(t.admit(keys[WAYS], T0 + 20), Ticket)  # a newcomer takes the oldest idle record...
    assert t.usage(keys[1], T0 + 20) == (0, 5.0)  # ...the first one's: the others are kept
    assert t.usage(keys[0], T0 + 20) == (0, 0.0)


def test_a_set_whose_clients_all_have_queries_running_lets_a_newcomer_through_unaccounted() -> None:
    t = table(in_flight=1)
    keys = [3 + SETS * i for i in range(WAYS + 1)]
    for key in keys[:WAYS]:
        assert isinstance(t.admit(key, T0), Ticket)
    ticket = t.admit(keys[WAYS], T0)
    assert ticket == Ticket(keys[WAYS], -1, T0)
    t.release(ticket, T0 + 1)
    assert all(t.usage(key, T0 + 1) == (1, 0.0) for key in keys[:WAYS])


@pytest.mark.parametrize(
    ("address", "client"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::ffff", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("-", "-"),
        ("not an address", "not an address"),
    ],
)
def test_client_id(address: str, client: str) -> None:
    assert client_id(address) == client


def test_client_key_depends_on_the_secret() -> None:
    assert client_key("192.0.2.7", b"a" * 16) == client_key("192.0.2.7", b"a" * 16)
    assert client_key("192.0.2.7", b"a" * 16) != client_key("192.0.2.7", b"b" * 16)
    assert client_key("192.0.2.7", b"a" * 16) != client_key("192.0.2.8", b"a" * 16)


@pytest.mark.parametrize(
    ("refusal", "words"),
    [
        (Refusal("in_flight", 12, 1), ["1 query running", "within 12 s"]),
        (Refusal("in_flight", 3, 2), ["2 queries running", "within 3 s"]),
        (
            Refusal("budget", 25, 31.25),
            ["31.2 s in the last 60 s", "budget is 30 s per 60 s", "Retry in 25 s"],
        ),
    ],
)
def test_refusal_message(refusal: Refusal, words: list[str]) -> None:
    limits = Limits(int(refusal.used) if refusal.reason == "in_flight" else 1, 30.0, 30.0)
    message = refusal_message(refusal, limits)
    assert all(w in message for w in words), message


@pytest.mark.parametrize(("in_flight", "budget"), [(0, 30.0), (257, 30.0), (1, 0.0), (1, -5.0)])
def test_limits_out_of_range(in_flight: int, budget: float) -> None:
    with pytest.raises(ValueError, match="client_"):
        Limits(in_flight, budget, 30.0)


def test_a_buffer_too_small_is_refused() -> None:
    limits = Limits(1, 30.0, 30.0)
    with pytest.raises(ValueError, match="bytes"):
        Table(bytearray(100), limits)
