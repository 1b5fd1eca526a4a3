"""Query execution under a time limit that truly stops the work: the pool of query children, and the guard.

The children are real processes on the project's published store; "gone" means the process no longer
exists (killed and reaped), checked with os.kill(pid, 0).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path

import pyoxigraph as ox
import pytest

from server.core import sparql_guard as guard
from server.core.errors import DomainError
from server.engine.executor import InProcess, PoolClient, ProcessPool, QueryTimeout, Result, StreamAborted
from server.engine.query_pool import (
    SYSTEM_ALLOCATOR,
    QueryPool,
    allocator_library,
    child_environment,
    inherited,
    keep,
    kept,
)
from server.engine.query_process import Job, Unacceptable, dataset_options
from server.engine.query_wire import ACCEPTED
from server.engine.release import Release
from server.web.errors import http_status

from .load import is_query_process
from .servers import maps_library

HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SMALL = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 3"
ALL = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
# rows first, then a long computation: the stream starts, then the time limit strikes
# rows at once and for a long time (a cartesian product): the stream starts, then the time limit strikes
ENDLESS_ROWS = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }"
JSON = "application/sparql-results+json"
CSV = "text/csv"


def job(query: str, result_type: str | None = JSON, graph_type: str | None = "text/turtle") -> Job:
    return Job(query, result_type, graph_type)


def gone(pid: int) -> bool:
    """Whether the process has ended and been reaped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def soon(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    """Whether `condition` holds within `seconds` (the pool reaps and replaces children in its own thread)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.fixture()
def pool(release: Release) -> Iterator[ProcessPool]:
    """Two warm children, a 1 s limit, tiny chunks so that results of a few rows already stream."""
    pool = ProcessPool(release.store_path, 2, 1.0, chunk_bytes=4096)
    pool.warm_up()
    yield pool
    pool.close()


def test_small_results_come_whole_and_large_ones_stream(pool: ProcessPool, release: Release) -> None:
    small = pool.run(job(SMALL), time.monotonic() + 5)
    assert small.form == "solutions" and small.body is not None and small.chunks is None
    assert len(ox.parse_query_results(small.body, ox.QueryResultsFormat.JSON).variables) == 1
    large = pool.run(job(ALL, CSV), time.monotonic() + 5)
    assert large.body is None and large.chunks is not None
    rows = b"".join(large.chunks).decode().splitlines()
    assert rows[0] == "s,p,o"
    assert len(rows) - 1 == len(ox.Store.read_only(str(release.store_path)))
    assert len(pool.pids()) == 2


def test_the_form_decides_the_format_and_unacceptable_forms_are_reported(pool: ProcessPool) -> None:
    assert pool.run(job("ASK { ?s ?p ?o }"), time.monotonic() + 5).form == "boolean"
    assert pool.run(job("CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1"), time.monotonic() + 5).form == "graph"
    with pytest.raises(Unacceptable) as raised:
        pool.run(job("CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1", graph_type=None), time.monotonic() + 5)
    assert raised.value.form == "graph"


def test_a_timeout_kills_the_child_frees_its_cpu_and_replaces_it(pool: ProcessPool) -> None:
    before = set(pool.pids())
    started = time.monotonic()
    with pytest.raises(QueryTimeout) as raised:
        pool.run(job(HEAVY), started + 1.0)
    elapsed = time.monotonic() - started
    assert elapsed < 1.0 + 1.0
    assert http_status(raised.value) == 503 and "time limit of 1 s" in raised.value.message
    assert soon(lambda: len(before - set(pool.pids())) == 1 and len(pool.pids()) == 2)
    assert all(gone(pid) for pid in before - set(pool.pids()))
    assert pool.run(job(SMALL), time.monotonic() + 5).body  # the pool goes on


def test_other_queries_are_answered_while_one_runs_long(pool: ProcessPool) -> None:
    outcome: list[BaseException] = []

    def heavy() -> None:
        try:
            pool.run(job(HEAVY), time.monotonic() + 1.0)
        except QueryTimeout as err:
            outcome.append(err)

    thread = threading.Thread(target=heavy)
    thread.start()
    time.sleep(0.2)
    for _ in range(10):
        assert pool.run(job(SMALL), time.monotonic() + 5).body
    assert thread.is_alive(), "the small queries were answered while the heavy one still ran"
    thread.join()
    assert outcome and isinstance(outcome[0], QueryTimeout)


def test_when_every_child_is_busy_a_query_waits_until_its_deadline(release: Release) -> None:
    pool = ProcessPool(release.store_path, 1, 1.0)
    pool.warm_up()

    def heavy() -> None:
        with contextlib.suppress(QueryTimeout):
            pool.run(job(HEAVY), time.monotonic() + 1.0)

    try:
        thread = threading.Thread(target=heavy)
        thread.start()
        time.sleep(0.2)
        with pytest.raises(QueryTimeout) as raised:
            pool.run(job(SMALL), time.monotonic() + 0.3)
        assert "busy" in raised.value.message
        thread.join()
        assert pool.run(job(SMALL), time.monotonic() + 5).body
    finally:
        pool.close()


def test_a_timeout_mid_stream_cuts_the_stream(pool: ProcessPool) -> None:
    before = set(pool.pids())
    result = pool.run(job(ENDLESS_ROWS, CSV), time.monotonic() + 1.0)
    assert result.chunks is not None, "rows came before the time limit"
    chunks = iter(result.chunks)
    assert next(chunks).startswith(b"a,b,c,d,e,f")
    with pytest.raises(StreamAborted) as raised:
        for _chunk in chunks:
            pass
    assert "time limit" in str(raised.value)
    assert soon(lambda: len(before - set(pool.pids())) == 1 and len(pool.pids()) == 2)
    assert all(gone(pid) for pid in before - set(pool.pids()))


def test_a_client_leaving_mid_stream_stops_the_child(pool: ProcessPool) -> None:
    before = set(pool.pids())
    result = pool.run(job(ENDLESS_ROWS, CSV), time.monotonic() + 5.0)
    assert result.chunks is not None
    next(iter(result.chunks))
    result.chunks.close()  # type: ignore[attr-defined]  # what the WSGI server does when the client goes
    assert soon(lambda: len(before - set(pool.pids())) == 1)
    assert all(gone(pid) for pid in before - set(pool.pids()))
    assert pool.run(job(SMALL), time.monotonic() + 5).body


def test_a_dead_child_is_replaced(pool: ProcessPool) -> None:
    before = set(pool.pids())
    for pid in before:
        os.kill(pid, signal.SIGKILL)
    assert pool.run(job(SMALL), time.monotonic() + 5).body
    assert soon(lambda: len(pool.pids()) == 2 and not before & set(pool.pids()))
    assert all(gone(pid) for pid in before)


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ("SELECT * WHERE { ?s ?p }", 400, "1:"),
        ("INSERT DATA { <urn:x:a> <urn:x:b> <urn:x:c> }", 403, "read-only"),
        ("SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }", 403, "SERVICE"),
        ("SELECT * WHERE { " + "{" * 20_000 + "}" * 20_000 + " }", 200, ""),
        ("SELECT * FROM <urn:x:g> WHERE { " + "{" * 20_000 + "}" * 20_000 + " }", 400, "nested"),
    ],
    ids=["syntax", "update", "service", "deeply-nested", "deeply-nested-with-from"],
)
def test_query_errors_come_back_as_client_errors(
    pool: ProcessPool, query: str, status: int, words: str
) -> None:
    if status == 200:
        assert pool.run(job(query), time.monotonic() + 5).form == "solutions"
        return
    with pytest.raises(DomainError) as raised:
        pool.run(job(query), time.monotonic() + 5)
    assert http_status(raised.value) == status
    assert words in raised.value.message


def test_an_orphaned_child_stops_by_itself(release: Release) -> None:
    """The kernel alarm armed before each job ends a child nobody kills (deadline + 2 s grace)."""
    pool = QueryPool(release.store_path, 1)
    try:
        assert pool.warm_up()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(pool.address)
        conn = Connection(sock.detach())
        conn.send(Job(HEAVY, JSON, None, deadline=time.monotonic() + 0.2))
        accepted = conn.recv_bytes()
        assert accepted[:1] == ACCEPTED
        conn.close()  # the server worker is gone without killing it
        pid = int(accepted[1:])
        assert soon(lambda: gone(pid) and len(pool.pids()) == 1, 10)
    finally:
        pool.close()


def test_the_queries_of_every_worker_share_one_pool(release: Release) -> None:
    """A pool kept by a process serves the processes forked from it: they find it by store path and connect
    to it, and its children take their queries one at a time, whoever sent them."""
    pool = keep(release.store_path, 1)
    try:
        assert pool.warm_up()
        assert kept(release.store_path) is pool
        assert [is_query_process(pid) for pid in pool.pids()] == [True]  # as tools tell one (CHILD_MODULE)
        assert inherited(release.store_path) is None  # this process keeps it: not inherited
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # a worker forked from the keeper
            code = 1
            try:
                found = inherited(release.store_path)
                if found is not None and found.address == pool.address and kept(release.store_path) is None:
                    result = PoolClient(found, 5.0).run(job(SMALL), time.monotonic() + 5)
                    os.write(write, b"ok" if result.body else b"empty")
                    code = 0
            finally:
                os._exit(code)
        os.close(write)
        _, status = os.waitpid(pid, 0)
        assert os.read(read, 10) == b"ok" and os.waitstatus_to_exitcode(status) == 0
        os.close(read)
        assert PoolClient(pool, 5.0).run(job(SMALL), time.monotonic() + 5).body
    finally:
        pool.close()
    assert inherited(release.store_path) is None and kept(release.store_path) is None
    with pytest.raises(DomainError) as raised:  # the pool closed: its address answers no more
        PoolClient(pool, 5.0).run(job(SMALL), time.monotonic() + 5)
    assert http_status(raised.value) == 503


@pytest.mark.parametrize(
    ("environ", "path", "preload", "expected"),
    [
        ({"HOME": "/h"}, ["/a", "", "/b"], None, {"HOME": "/h", "PYTHONPATH": os.pathsep.join(["/a", "/b"])}),
        ({}, ["/a"], "libmimalloc.so.2", {"PYTHONPATH": "/a", "LD_PRELOAD": "libmimalloc.so.2"}),
        # an operator's own preload stays, after the allocator (which must come first to serve every malloc)
        (
            {"LD_PRELOAD": "libfoo.so"},
            [],
            "libmimalloc.so.2",
            {"PYTHONPATH": "", "LD_PRELOAD": "libmimalloc.so.2 libfoo.so"},
        ),
        ({"LD_PRELOAD": "libfoo.so"}, [], None, {"PYTHONPATH": "", "LD_PRELOAD": "libfoo.so"}),
    ],
)
def test_a_child_environment(environ: dict, path: list, preload: str | None, expected: dict) -> None:
    assert child_environment(environ, path, preload) == expected


def test_the_allocator_library_is_found_by_name(caplog: pytest.LogCaptureFixture) -> None:
    """scripts/setup --test installs Debian's libmimalloc2.0; a name nothing answers to leaves the C library's
    malloc, with a warning."""
    assert allocator_library("mimalloc") == "libmimalloc.so.2"
    assert allocator_library(SYSTEM_ALLOCATOR) is None
    with caplog.at_level("WARNING", logger="cdv.executor"):
        assert allocator_library("no-such-allocator-cdv") is None
    assert "'no-such-allocator-cdv' not found" in caplog.text


@pytest.mark.parametrize(("allocator", "mapped"), [("mimalloc", True), (SYSTEM_ALLOCATOR, False)])
def test_the_children_allocate_with_the_allocator_asked_for(
    release: Release, allocator: str, mapped: bool
) -> None:
    """The allocator is preloaded in the children only, and they answer as with the C library's malloc."""
    pool = ProcessPool(release.store_path, 1, 5.0, allocator=allocator)
    try:
        pool.warm_up()
        (child,) = pool.pids()
        assert maps_library(child, "libmimalloc") is mapped
        assert not maps_library(os.getpid(), "libmimalloc")
        body = whole(pool.run(job(ALL, CSV), time.monotonic() + 5))
    finally:
        pool.close()
    expected = whole(InProcess(ox.Store.read_only(str(release.store_path))).run(job(ALL, CSV), 0.0))
    assert sorted(body.splitlines()) == sorted(expected.splitlines())


def whole(result: Result) -> bytes:
    """An answer's bytes, whether whole or streamed."""
    return result.body if result.body is not None else b"".join(result.chunks or ())


def test_in_process_execution_has_the_same_answers(release: Release) -> None:
    executor = InProcess(ox.Store.read_only(str(release.store_path)))
    result = executor.run(job(SMALL), 0.0)
    assert result.form == "solutions" and result.body
    with pytest.raises(DomainError):
        executor.run(job("SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"), 0.0)


# --- pure parts: the dataset options and the guard --------------------------------------------------------


@pytest.mark.parametrize(
    ("defaults", "named", "names_dataset", "expected"),
    [
        ((), (), False, {"use_default_graph_as_union": True}),
        ((), (), True, {}),
        (("urn:x:g",), (), False, {"default_graph": [ox.NamedNode("urn:x:g")], "named_graphs": []}),
        ((), ("urn:x:g",), True, {"default_graph": [], "named_graphs": [ox.NamedNode("urn:x:g")]}),
    ],
)
def test_dataset_options(defaults: tuple, named: tuple, names_dataset: bool, expected: dict) -> None:
    assert dataset_options(Job("ASK {}", JSON, None, defaults, named), names_dataset) == expected


@pytest.mark.parametrize(
    ("query", "outcome"),
    [
        ("SELECT * WHERE { ?s ?p ?o }", "plain"),
        ("SELECT * FROM <urn:x:g> WHERE { ?s ?p ?o }", "dataset"),
        ("SELECT * FROM NAMED <urn:x:g> WHERE { GRAPH ?g { ?s ?p ?o } }", "dataset"),
        ('SELECT * WHERE { ?s ?p "from SERVICE" }', "plain"),
        ("SELECT * WHERE { ?s ?p ?o } # FROM <urn:x:g> SERVICE <http://x/> {}", "plain"),
        ("SELECT * WHERE { ?s <urn:x:from> ?o }", "plain"),
        ("PREFIX ex: <urn:x:> SELECT * WHERE { ?s ex:a\\# ?o } # SERVICE <http://x/> {}", "plain"),
        ("SELECT * WHERE { SERVICE <http://x/> { ?s ?p ?o } }", "refused"),
        ("SELECT * WHERE { \\u0053ERVICE <http://x/> { ?s ?p ?o } }", "refused"),
        ("SELECT * WHERE { S\\u0045RVIC\\u0045 <http://x/> { ?s ?p ?o } }", "refused"),
        ("ASK { FILTER NOT EXISTS { SERVICE SILENT ?x { } } }", "refused"),
        ("CONSTRUCT { ?s ?p ?o } WHERE { OPTIONAL { SERVICE <http://x/> { ?s ?p ?o } } }", "refused"),
        ("DESCRIBE ?s WHERE { MINUS { SERVICE <http://x/> { ?s ?p ?o } } }", "refused"),
        ("SELECT * WHERE { SERVICE <http://x/> { ?s ?p } }", "syntax"),
        ("DELETE WHERE { ?s ?p ?o } # from", "update"),
    ],
)
def test_guard(query: str, outcome: str) -> None:
    if outcome in ("plain", "dataset"):
        assert guard.inspect(query).names_dataset is (outcome == "dataset")
        return
    with pytest.raises(DomainError) as raised:
        guard.inspect(query)
    expected = {"refused": "SERVICE", "syntax": "syntax error", "update": "read-only"}[outcome]
    assert expected in raised.value.message


@pytest.mark.parametrize(
    ("query", "needs"),
    [
        ("SELECT * WHERE { ?s ?p ?o }", False),
        ("select * where { ?s ?p ?o }", False),
        ("SELECT * WHERE { ?s ?p 'a\\u0062c' }", False),
        ("SELECT * WHERE { Service <x:> {} }", True),
        ("SELECT * FrOm <x:> {}", True),
        ("SELECT * { \\u0073ervice <x:> {} }", True),
        ("SELECT * { \\U00000053ERVICE <x:> {} }", True),
    ],
)
def test_only_queries_that_may_hold_service_or_from_are_parsed(query: str, needs: bool) -> None:
    assert guard.may_need_parsing(query) is needs


@pytest.mark.parametrize(
    ("text", "update"),
    [
        ("INSERT DATA { <urn:x:a> <urn:x:b> <urn:x:c> }", True),
        ("PREFIX ex: <urn:x:> DELETE WHERE { ?s ex:p ?o }", True),
        ("LOAD <http://example.org/x.ttl>", True),
        ("CLEAR ALL ; DROP GRAPH <urn:x:g>", True),
        ("SELECT * WHERE { ?s ?p ?o }", False),
        ("INSERT", False),
    ],
)
def test_is_update(text: str, update: bool) -> None:
    assert guard.is_update(text) is update


@pytest.mark.parametrize(
    "package",
    [
        "rdflib",
        "pyparsing",
        "werkzeug",
        "flask",
        "jinja2",
        "requests",
        "pyshacl",
        "multiprocessing",
        "subprocess",
    ],
)
def test_a_query_child_imports_no_more_than_it_needs(package: str) -> None:
    """Each child pays for its imports in memory: the query loop must not pull in the web or rdflib."""
    import subprocess
    import sys

    code = "import sys, server.engine.query_process; print(sorted({m.split('.')[0] for m in sys.modules}))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "'pyoxigraph'" in loaded
    assert f"'{package}'" not in loaded


@pytest.mark.parametrize(
    "package", ["requests", "urllib3", "charset_normalizer", "snowballstemmer", "rdflib", "pyshacl"]
)
def test_a_worker_imports_what_its_requests_need_only(build_dir: Path, package: str) -> None:
    """What a worker imports it holds in memory: only a remote engine needs an HTTP client (6 MiB), only a
    search the stemmers (3 MiB), only compacted JSON-LD rdflib (5 MiB), only the build pyshacl. A worker
    answering queries, pages in HTML and Turtle, and the catalogue imports none of them."""
    import subprocess
    import sys

    html = "headers={'Accept': 'text/html'}"
    code = (
        "import sys; from server.web.app import create_app; "
        f"c = create_app({{'build_dir': {str(build_dir)!r}}}).test_client(); "
        "assert c.get('/sparql?query=ASK%7B%7D').status_code == 200; "
        f"assert c.get('/catalog', {html}).status_code == 200; "
        "assert c.get('/catalog?format=turtle').status_code == 200; "
        f"assert c.get('/id/le-quesnoy/avenant-2020-2022/mesure/20', {html}).status_code == 200; "
        "assert c.get('/id/le-quesnoy/avenant-2020-2022/mesure/20.ttl').status_code == 200; "
        f"assert c.get('/ontology', {html}).status_code == 200; "
        "print(sorted({m.split('.')[0] for m in sys.modules}))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "'pyoxigraph'" in loaded
    assert f"'{package}'" not in loaded
