"""One client floods heavy queries, another sends simple ones: the second's latencies with and without each
client's fair share (issue 19, item 5; goal: its p99 ≤ 1 s while the first floods).

    .venv/bin/python benchmarks/abuse.py [--build-dir DIR] [--duration 15] [--flood 16] [--timeout 10]

For each configuration, `cdv serve` (gunicorn, 2 workers, the default 2 query processes each, cache off) is
started on a loopback port; for `--duration` seconds `--flood` threads of one client (127.0.0.1) send a 3-way
cartesian COUNT back to back, ignoring Retry-After, while another client (127.0.0.2: Linux answers on all of
127.0.0.0/8) sends `ASK` queries one after the other. Configurations: `shares` (the defaults: one query in
flight, 30 s of query time per minute) and `no shares` (256 queries, a day of query time: no limit).
Prints the simple client's count, p50, p99 and max in milliseconds and its failures, and the flood's status
counts. No asserts: the machine is shared, read the two rows side by side.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.build.pipeline import build  # noqa: E402
from server.core.config import load_settings  # noqa: E402
from tests.servers import SourceAddress, run_server  # noqa: E402

HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
CONFIGURATIONS = {
    "shares": {"CDV_CLIENT_QUERIES": "", "CDV_CLIENT_BUDGET": ""},  # empty: the defaults
    "no shares": {"CDV_CLIENT_QUERIES": "256", "CDV_CLIENT_BUDGET": "86400"},
}


def flood(url: str, stop: float, statuses: Counter[str], lock: threading.Lock) -> None:
    """Heavy queries back to back from 127.0.0.1, Retry-After ignored."""
    session = requests.Session()
    i = 0
    while time.monotonic() < stop:
        i += 1
        try:
            status = str(session.post(url, data={"query": f"{HEAVY} # {i}"}, timeout=60).status_code)
        except requests.RequestException as err:
            status = type(err).__name__
        with lock:
            statuses[status] += 1
        time.sleep(0.01)


def simple(url: str, stop: float) -> tuple[list[float], Counter[str]]:
    """ASK queries one after the other from 127.0.0.2, each on a new connection: their milliseconds, failures."""
    times: list[float] = []
    failures: Counter[str] = Counter()
    i = 0
    while time.monotonic() < stop:
        i += 1
        started = time.perf_counter()
        # A new connection each time, as a visitor's browser would: a kept-alive one stays on one worker,
        # and without the shares its latency would depend on how many of the flood's connections that
        # worker happens to hold.
        session = requests.Session()
        session.mount("http://", SourceAddress("127.0.0.2"))
        try:
            with session:
                response = session.post(url, data={"query": f"ASK {{ FILTER({i} > 0) }}"}, timeout=60)
            if response.status_code != 200:
                failures[str(response.status_code)] += 1
        except requests.RequestException as err:
            failures[type(err).__name__] += 1
        times.append((time.perf_counter() - started) * 1000)
        time.sleep(0.05)  # a person's pace, not a second flood
    return times, failures


def scenario(url: str, duration: float, flooders: int) -> tuple[list[float], Counter[str], Counter[str]]:
    """Run the flood and the simple client together for `duration` seconds."""
    stop = time.monotonic() + duration
    statuses: Counter[str] = Counter()
    lock = threading.Lock()
    threads = [threading.Thread(target=flood, args=(url, stop, statuses, lock)) for _ in range(flooders)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # the flood is on before the first simple query
    times, failures = simple(url, stop)
    for thread in threads:
        thread.join()
    return times, failures, statuses


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", type=Path, help="an existing build (default: the project, built now)")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of flood per configuration")
    parser.add_argument("--flood", type=int, default=16, help="the flooding client's parallel queries")
    parser.add_argument("--timeout", type=float, default=10.0, help="the server's query time limit (s)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cdv-abuse-") as tmp:
        build_dir = args.build_dir
        if build_dir is None:
            build_dir = Path(tmp) / "build"
            build(load_settings({"build_dir": build_dir}))
        print(
            f"flood: {args.flood} parallel heavy queries, time limit {args.timeout:g} s, {args.duration:g} s"
        )
        print(
            f"{'configuration':<10} {'simple':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  failures  flood"
        )
        for name, env in CONFIGURATIONS.items():
            server_args = ("--workers", "2", "--timeout", str(args.timeout))
            with run_server(build_dir, Path(tmp), server_args, env={**env, "CDV_CACHE_BYTES": "0"}) as server:
                times, failures, statuses = scenario(server.url + "/sparql", args.duration, args.flood)
            print(
                f"{name:<10} {len(times):>6} {statistics.median(times):>8.1f} {percentile(times, 99):>8.1f} "
                f"{max(times):>8.1f} {sum(t > 1000 for t in times):>6}  {dict(failures) or '-'}  {dict(sorted(statuses.items()))}"
            )


if __name__ == "__main__":
    main()
