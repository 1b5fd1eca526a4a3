"""Each client's fair share of the query processes: queries in flight and query time per minute (pure).

The accounting lives in a fixed-size table of records packed in a writable buffer (the web part gives it a
memory mapping shared by every server worker, server/web/fair_share.py; tests a bytearray). No clock, no
lock, no I/O here: the caller passes the time and holds the lock.

- **In flight**: a record keeps the start time of each running query, one slot per allowed query. A slot still
  held `GRACE` seconds past the time limit belongs to a worker that died: it is taken as free.
- **Query time**: a sliding window of `window` seconds in `buckets` steps (60 s in 5 s steps): a query's wall
  time, from admission to the end of its answer, is charged to the step in which it ends, and leaves the window
  `window` seconds later. A client whose charged time in the window has reached its budget is refused.
- **Eviction**: the table is set-associative (a client's key picks a set of `WAYS` records); a new client
  takes an empty record of its set, else the one idle (nothing in flight) the longest. When every record of
  its set has a query in flight (many clients hashed alike at once) it is let through unaccounted.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import struct
from dataclasses import dataclass
from typing import Literal

WINDOW = 60.0  # seconds: the budget is per minute
BUCKETS = 12  # steps of the sliding window (5 s each)
GRACE = 10.0  # seconds past the time limit after which a slot still held is taken as lost
SETS = 512  # the table holds SETS * WAYS clients at once (idle ones are evicted)
WAYS = 8
MAX_IN_FLIGHT = 256  # slots kept per client (each takes 8 bytes in every record)
IPV6_PREFIX = 64  # an IPv6 client is its /64: one host commonly holds a whole /64


@dataclass(frozen=True)
class Limits:
    """What each client may use: queries at once, seconds of query time per window; the queries' time limit."""

    in_flight: int
    budget: float
    time_limit: float
    window: float = WINDOW
    buckets: int = BUCKETS

    def __post_init__(self) -> None:
        if not 1 <= self.in_flight <= MAX_IN_FLIGHT:
            raise ValueError(f"client_queries must be between 1 and {MAX_IN_FLIGHT}, not {self.in_flight}")
        if not self.budget > 0:
            raise ValueError(f"client_budget must be a positive number of seconds, not {self.budget}")

    @property
    def step(self) -> float:
        return self.window / self.buckets


@dataclass(frozen=True)
class Ticket:
    """A query admitted for a client: its record's key, its slot (-1: unaccounted) and start time."""

    key: int
    slot: int
    started: float


@dataclass(frozen=True)
class Refusal:
    """Why a client's query is refused, and in how many whole seconds what it lacks frees up."""

    reason: Literal["in_flight", "budget"]
    retry_after: int
    used: float  # queries in flight, or seconds of query time in the window


def client_id(address: str) -> str:
    """The client an address belongs to: the address itself, or its /64 for IPv6."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/{IPV6_PREFIX}", strict=False))
    return str(ip)


def client_key(client: str, secret: bytes) -> int:
    """A non-zero 64-bit key for a client, keyed by `secret` so that nobody can aim at a set of the table."""
    digest = hashlib.blake2b(client.encode(), digest_size=8, key=secret).digest()
    return int.from_bytes(digest, "little") or 1


@dataclass
class _Record:
    key: int
    seen: float
    epoch: int  # index of the newest window step written
    slots: list[float]  # start time of each query in flight; 0.0: free
    spent: list[float]  # seconds charged per window step, at index step % buckets


class Table:
    """The records of every client in a buffer of `Table.size(limits)` bytes (zeroed: an empty table)."""

    def __init__(self, buffer: bytearray | memoryview, limits: Limits) -> None:
        self.buffer = buffer
        self.limits = limits
        self._record = struct.Struct(f"<Qdq{limits.in_flight}d{limits.buckets}d")
        if len(buffer) < self.size(limits):
            raise ValueError(f"the table needs {self.size(limits)} bytes, the buffer has {len(buffer)}")

    @staticmethod
    def size(limits: Limits) -> int:
        """Bytes a table for these limits takes."""
        return SETS * WAYS * struct.calcsize(f"<Qdq{limits.in_flight}d{limits.buckets}d")

    def admit(self, key: int, now: float) -> Ticket | Refusal:
        """Take a slot for a query of client `key` at `now`, or say why not and until when."""
        way = self._find(key, now)
        if way is None:
            return Ticket(key, -1, now)
        record = self._read(way)
        self._refresh(record, now)
        refusals = [r for r in (self._over_budget(record, now), self._all_busy(record, now)) if r]
        if refusals:
            self._write(way, record)
            return max(refusals, key=lambda r: r.retry_after)
        slot = record.slots.index(0.0)
        record.slots[slot] = now
        record.seen = now
        self._write(way, record)
        return Ticket(key, slot, now)

    def release(self, ticket: Ticket, now: float) -> None:
        """Free a ticket's slot and charge its wall time to its client's window."""
        if ticket.slot < 0:
            return
        way = self._locate(ticket.key)
        if way is None:  # its record was taken by another client after the slot was lost: nothing to charge
            return
        record = self._read(way)
        self._refresh(record, now)
        if record.slots[ticket.slot] == ticket.started:  # else taken as lost and reused meanwhile
            record.slots[ticket.slot] = 0.0
        record.spent[record.epoch % self.limits.buckets] += max(now - ticket.started, 0.0)
        record.seen = now
        self._write(way, record)

    def usage(self, key: int, now: float) -> tuple[int, float]:
        """A client's queries in flight and seconds of query time in the window (for tests and reports)."""
        way = self._locate(key)
        if way is None:
            return 0, 0.0
        record = self._read(way)
        self._refresh(record, now)
        return sum(1 for s in record.slots if s), sum(record.spent)

    # --- the rules -------------------------------------------------------------------------------------------

    def _over_budget(self, record: _Record, now: float) -> Refusal | None:
        """Refused while the window holds the whole budget: until enough steps have left it."""
        limits = self.limits
        if sum(record.spent) < limits.budget:
            return None
        newest = record.epoch
        for ahead in range(1, limits.buckets + 1):
            kept = range(newest - limits.buckets + 1 + ahead, newest + 1)
            if sum(record.spent[i % limits.buckets] for i in kept) < limits.budget:
                return Refusal("budget", _whole((newest + ahead) * limits.step - now), sum(record.spent))
        raise AssertionError("an empty window is under any positive budget")  # pragma: no cover

    def _all_busy(self, record: _Record, now: float) -> Refusal | None:
        """Refused while every slot is held: until the first running query reaches its time limit at the latest."""
        if 0.0 in record.slots:
            return None
        first_end = min(record.slots) + self.limits.time_limit
        return Refusal("in_flight", _whole(first_end - now), len(record.slots))

    def _refresh(self, record: _Record, now: float) -> None:
        """Slide the window to `now` and free the slots of queries lost with a dead worker."""
        limits = self.limits
        current = math.floor(now / limits.step)
        if current > record.epoch:
            for index in range(record.epoch + 1, min(current, record.epoch + limits.buckets) + 1):
                record.spent[index % limits.buckets] = 0.0
            record.epoch = current
        lost = now - limits.time_limit - GRACE
        record.slots = [0.0 if start and start < lost else start for start in record.slots]

    # --- the records ---------------------------------------------------------------------------------------

    def _find(self, key: int, now: float) -> int | None:
        """The record of `key`, else a fresh one in its set (empty, or the longest idle); None if all are busy."""
        found = self._locate(key)
        if found is not None:
            return found
        candidates = []
        for way in self._ways(key):
            record = self._read(way)
            self._refresh(record, now)
            if record.key == 0 or not any(record.slots):
                candidates.append((record.key != 0, record.seen, way))
        if not candidates:
            return None
        way = min(candidates)[2]
        limits = self.limits
        fresh = _Record(
            key, now, math.floor(now / limits.step), [0.0] * limits.in_flight, [0.0] * limits.buckets
        )
        self._write(way, fresh)
        return way

    def _locate(self, key: int) -> int | None:
        """The record holding `key`, if any."""
        for way in self._ways(key):
            if struct.unpack_from("<Q", self.buffer, way * self._record.size)[0] == key:
                return way
        return None

    def _ways(self, key: int) -> range:
        first = (key % SETS) * WAYS
        return range(first, first + WAYS)

    def _read(self, way: int) -> _Record:
        values = self._record.unpack_from(self.buffer, way * self._record.size)
        n = self.limits.in_flight
        return _Record(values[0], values[1], values[2], list(values[3 : 3 + n]), list(values[3 + n :]))

    def _write(self, way: int, record: _Record) -> None:
        self._record.pack_into(
            self.buffer,
            way * self._record.size,
            record.key,
            record.seen,
            record.epoch,
            *record.slots,
            *record.spent,
        )


def _whole(seconds: float) -> int:
    """Whole seconds to wait, at least 1 (Retry-After counts in whole seconds)."""
    return max(1, math.ceil(seconds))


def refusal_message(refusal: Refusal, limits: Limits) -> str:
    """What a refused client reads: which limit, how much it used, when to come back."""
    if refusal.reason == "in_flight":
        return (
            f"this client already has {limits.in_flight} "
            f"quer{'y' if limits.in_flight == 1 else 'ies'} running, the most allowed at once. "
            f"Send the next one when a running one has finished (within {refusal.retry_after} s at the latest)."
        )
    return (
        f"this client's queries ran {refusal.used:.1f} s in the last "
        f"{limits.window:g} s; the budget is {limits.budget:g} s per {limits.window:g} s. "
        f"Retry in {refusal.retry_after} s."
    )
