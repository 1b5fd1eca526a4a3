"""Each client's fair share of the query processes (server/web/fair_share.py): 429 with Retry-After and a
message past it on /sparql and the named queries, the client as its address or a trusted proxy's
X-Forwarded-For, cached answers free; and against the real server, one client's flood of heavy queries
beside another client's simple ones."""

from __future__ import annotations

import http.client
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from flask import Flask

from server.core.config import Settings
from server.core.fairness import Ticket
from server.web.app import create_app
from server.web.fair_share import EXTENSION
from server.web.share_table import FairShare

from .servers import SourceAddress, run_server

SPARQL = "/sparql?query=ASK%20%7B%7D"
NAMED = "/api/queries/measures-per-axis"
ROUTES = [SPARQL, NAMED]
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
BIG = "SELECT * WHERE { ?s ?p ?o }"  # over one chunk: streamed


def make_app(settings: Settings, **changes: object) -> Flask:
    """An app of the session's build with each client's share as the defaults say, changed by `changes`."""
    defaults = {"client_queries": Settings.client_queries, "client_budget": Settings.client_budget}
    app = create_app(replace(settings, **{**defaults, **changes}))  # type: ignore[arg-type]
    app.testing = True
    return app


def share(app: Flask) -> FairShare:
    return app.extensions[EXTENSION]


def hold(app: Flask, address: str = "127.0.0.1") -> Ticket:
    """A query of the client at `address` running in another worker (a slot taken in the shared table)."""
    return share(app).admit(address)


@pytest.mark.parametrize("route", ROUTES)
def test_past_the_queries_in_flight_429_with_retry_after_and_a_message(
    settings: Settings, route: str
) -> None:
    app = make_app(settings, query_timeout=20.0)
    assert app.config["CDV"].client_in_flight == 1  # the default: one fewer than the 2 query processes
    client = app.test_client()
    ticket = hold(app)
    response = client.get(route)
    assert response.status_code == 429
    assert response.mimetype == "text/plain"
    assert 1 <= int(response.headers["Retry-After"]) <= 20  # when the running query reaches its time limit
    assert "already has 1 query running" in response.get_data(as_text=True)
    assert response.headers["Access-Control-Expose-Headers"].count("Retry-After") == 1
    share(app).release(ticket)
    assert client.get(route).status_code == 200


def test_the_openapi_document_names_the_429(settings: Settings) -> None:
    paths = make_app(settings).test_client().get("/api/openapi.json").get_json()["paths"]
    assert "Retry-After" in paths[NAMED]["get"]["responses"]["429"]["headers"]


@pytest.mark.parametrize("route", ROUTES)
def test_past_the_budget_429_until_the_time_leaves_the_window(settings: Settings, route: str) -> None:
    app = make_app(settings, client_queries=4, client_budget=30.0)
    client = app.test_client()
    fair, now = share(app), share(app).clock()
    ticket = fair.table.admit(fair.key("127.0.0.1"), now - 31)
    assert isinstance(ticket, Ticket)
    fair.table.release(ticket, now)  # it ran 31 s
    response = client.get(route)
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    text = response.get_data(as_text=True)
    assert "ran 31.0 s in the last 60 s" in text and "budget is 30 s per 60 s" in text
    assert client.get(route, environ_base={"REMOTE_ADDR": "192.0.2.9"}).status_code == 200  # others are not


def test_the_query_time_of_a_client_is_charged(settings: Settings) -> None:
    app = make_app(settings, client_queries=4)
    client = app.test_client()
    for route in ROUTES:
        assert client.get(route).status_code == 200
    in_flight, seconds = share(app).usage("127.0.0.1")
    assert in_flight == 0 and seconds > 0


@pytest.mark.parametrize(
    ("trusted", "holder", "headers", "refused"),
    [
        (0, "127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}, True),  # a spoofed header changes nothing
        (0, "203.0.113.9", {"X-Forwarded-For": "203.0.113.9"}, False),
        (1, "203.0.113.9", {"X-Forwarded-For": "203.0.113.9"}, True),  # the proxy's word is the client
        (1, "203.0.113.9", {"X-Forwarded-For": "198.51.100.1"}, False),
        (1, "127.0.0.1", {"X-Forwarded-For": "198.51.100.1"}, False),  # the proxy itself is not the client
        (1, "198.51.100.1", {"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}, False),  # the one it saw
        (1, "203.0.113.9", {"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}, True),
    ],
)
def test_the_client_is_its_address_or_a_trusted_proxy_says_who(
    settings: Settings,
    trusted: int,
    holder: str,
    headers: dict[str, str],
    refused: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app(settings, trusted_proxies=trusted)
    hold(app, holder)
    with caplog.at_level(logging.INFO, logger="cdv.access"):
        response = app.test_client().get(SPARQL, headers=headers, buffered=True)  # closed: logged
    assert response.status_code == (429 if refused else 200)
    client = headers["X-Forwarded-For"].split(",")[-1].strip() if trusted else "127.0.0.1"
    assert next(r.getMessage() for r in caplog.records if "/sparql" in r.getMessage()).startswith(
        client + " "
    )


def test_a_cached_answer_costs_the_client_nothing(settings: Settings) -> None:
    app = make_app(settings, cache_bytes=16 * 2**20)
    client = app.test_client()
    route = "/sparql?query=ASK%20%7B%20%3Fs%20%3Fp%20%22fair-share%20cache%22%20%7D"
    assert client.get(route).headers["X-Cache"] == "miss"
    hold(app)  # the one slot is taken: a computed answer would be refused
    response = client.get(route)
    assert (response.status_code, response.headers["X-Cache"]) == (200, "hit")
    assert client.get("/sparql?query=ASK%20%7B%7D%23not-cached").status_code == 429


def test_a_streamed_answer_holds_its_slot_until_its_last_chunk(settings: Settings) -> None:
    app = make_app(settings)
    client = app.test_client()
    streamed = client.get("/sparql", query_string={"query": BIG}, buffered=False)
    assert streamed.status_code == 200 and streamed.is_streamed
    assert client.get(SPARQL).status_code == 429
    assert len(streamed.get_data()) > 64 * 1024  # every chunk handed over, the body not closed yet
    in_flight, charged = share(app).usage("127.0.0.1")
    assert in_flight == 0  # freed before the server ends the response: the client's next query is welcome
    streamed.close()
    assert share(app).usage("127.0.0.1")[1] == charged  # and its time charged once, not again on close
    assert client.get(SPARQL).status_code == 200


@pytest.mark.parametrize("route", ["/sparql?query=SELEKT", "/api/queries/measures-of-part?partie=%20"])
def test_a_refused_query_frees_its_slot(settings: Settings, route: str) -> None:
    client = make_app(settings).test_client()
    assert [client.get(route).status_code for _ in range(3)] == [400] * 3


# --- the real server: one client floods, another is served ---------------------------------------------------

FLOOD_THREADS = 16
SECONDS = 5.0  # the flood's length: the budget (3 s of 1 s queries) runs out within it


@dataclass
class Client:
    """A session of one client and what it was answered."""

    session: requests.Session
    headers: dict[str, str] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    refusals: list[tuple[str, str]] = field(default_factory=list)  # Retry-After, message
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, url: str, query: str, headers: dict[str, str] | None = None) -> None:
        response = self.session.post(
            url + "/sparql",
            data={"query": query},
            headers={"Accept": "application/sparql-results+json", **self.headers, **(headers or {})},
            timeout=30,
        )
        with self.lock:
            self.statuses[response.status_code] += 1
            if response.status_code == 429:
                self.refusals.append((response.headers.get("Retry-After", ""), response.text))


def flood(client: Client, url: str, stop: float, spoof: bool) -> None:
    """Heavy queries back to back, Retry-After ignored; with `spoof`, a new X-Forwarded-For each time."""
    i = 0
    while time.monotonic() < stop:
        i += 1
        headers = {"X-Forwarded-For": f"203.0.113.{i % 250 + 1}"} if spoof else None
        client.send(url, f"{HEAVY} # {threading.get_ident()} {i}", headers)
        time.sleep(0.01)


def simple(client: Client, url: str, stop: float) -> None:
    """Cheap queries one after the other, each different (no cache would hold them anyway)."""
    i = 0
    while time.monotonic() < stop:
        i += 1
        client.send(url, f"ASK {{ FILTER({i} > 0) }}")


@pytest.fixture(params=["source address", "trusted proxy"])
def two_clients(
    request: pytest.FixtureRequest, build_dir: Path, tmp_path: Path
) -> Iterator[tuple[str, Client, Client]]:
    """The real server (2 workers, 1 s time limit, 3 s of budget) and two clients: by source address (the
    flood also writes X-Forwarded-For, which nobody trusts), or named by a trusted proxy's header."""
    args = ["--workers", "2", "--timeout", "1", "--client-budget", "3"]
    if request.param == "trusted proxy":
        args += ["--trusted-proxies", "1"]
    env = {"CDV_CLIENT_QUERIES": "", "CDV_CLIENT_BUDGET": "", "CDV_CACHE_BYTES": "0"}  # the defaults
    with run_server(build_dir, tmp_path, tuple(args), env=env) as server:
        flooder, other = Client(requests.Session()), Client(requests.Session())
        if request.param == "source address":
            other.session.mount("http://", SourceAddress("127.0.0.2"))
        else:
            flooder.headers["X-Forwarded-For"] = "198.51.100.1"
            other.headers["X-Forwarded-For"] = "198.51.100.2"
        yield server.url, flooder, other


def test_one_client_flooding_heavy_queries_does_not_stall_another(
    two_clients: tuple[str, Client, Client],
) -> None:
    url, flooder, other = two_clients
    spoof = "X-Forwarded-For" not in flooder.headers
    stop = time.monotonic() + SECONDS
    threads = [
        threading.Thread(target=flood, args=(flooder, url, stop, spoof)) for _ in range(FLOOD_THREADS)
    ] + [threading.Thread(target=simple, args=(other, url, stop))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(other.statuses) == {200}, other.statuses  # never refused, every query answered
    assert other.statuses[200] >= 5
    assert set(flooder.statuses) <= {429, 503}, flooder.statuses  # 503: a heavy query past its time limit
    assert flooder.statuses[503] >= 1 and flooder.statuses[429] > flooder.statuses[503]
    # One table for both workers: its 1 s queries ran one at a time until 3 s of budget were spent (3 or 4 of
    # them); a table per worker would have let each worker run as many.
    assert flooder.statuses[503] <= 4, flooder.statuses
    assert all(1 <= int(retry) <= 60 for retry, _ in flooder.refusals)
    messages = " ".join(text for _, text in flooder.refusals)
    assert "already has 1 query running" in messages  # the bound of queries in flight
    assert "the budget is 3 s per 60 s" in messages  # and, after three heavy queries, the budget


# --- the real server: a client that waits for each answer is never refused ----------------------------------

STREAMED = "/sparql?" + urlencode({"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 300"})  # just over a chunk
PAIRS = 500


@pytest.fixture(scope="module")
def default_share_server(build_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The real server (2 workers) with each client's share as the defaults say (one query in flight); its port."""
    env = {"CDV_CLIENT_QUERIES": "", "CDV_CLIENT_BUDGET": "", "CDV_CACHE_BYTES": "0"}
    with run_server(build_dir, tmp_path_factory.mktemp("sequential"), ("--workers", "2"), env=env) as server:
        yield urlsplit(server.url).port


def answered(connection: http.client.HTTPConnection, path: str) -> http.client.HTTPResponse:
    """The answer to a GET, read to its end."""
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    return response


@pytest.mark.parametrize("kept_alive", [True, False], ids=["kept-alive connections", "a connection each"])
def test_a_client_waiting_for_each_answer_is_never_refused(
    default_share_server: int, kept_alive: bool
) -> None:
    # A streamed answer ends for the client with its last chunk; its next query, on another connection (maybe
    # to the other worker), must find the slot free by then. Without that, the race was lost a few times in a
    # thousand queries: hence the many, sent with the least delay (http.client, not requests).
    statuses: Counter[int] = Counter()
    with (
        closing(http.client.HTTPConnection("127.0.0.1", default_share_server, timeout=30)) as streamed,
        closing(http.client.HTTPConnection("127.0.0.1", default_share_server, timeout=30)) as simple,
    ):
        for i in range(PAIRS):
            response = answered(streamed, STREAMED)
            assert response.status != 200 or response.chunked  # held until sent, not only until made
            statuses[response.status] += 1
            ask = "/sparql?" + urlencode({"query": f"ASK {{ FILTER({i} > 0) }}"})
            statuses[answered(simple, ask).status] += 1
            if not kept_alive:  # the next request opens a new connection
                streamed.close()
                simple.close()
    assert statuses == {200: 2 * PAIRS}
