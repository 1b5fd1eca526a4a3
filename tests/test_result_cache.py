"""The shared result cache: identical answers, keyed on build and request, shared by workers, bounded, per build."""

from __future__ import annotations

import gzip
import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import diskcache
import pytest
import requests
from flask import Flask
from werkzeug.test import TestResponse

from server.build.pipeline import build
from server.core.config import PROJECT_ROOT, load_settings
from server.engine.release import current_release, prune_caches
from server.web.app import create_app
from server.web.http_cache import canonical_query, varies_in_time
from server.web.result_cache import (
    cache_folder,
    entry_limit,
    normalised_accept,
    request_key,
    request_parts,
    storable,
)

from .servers import run_server

FIXTURE_PROJECT = Path(__file__).parent / "fixtures" / "catalog" / "project"
IDENTITY = {"Accept-Encoding": "identity"}
OBSERVABILITY = {"X-Cache", "Date"}  # the headers a hit may change
SELECT = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 20"
CONSTRUCT = "CONSTRUCT { ?s ?p ?o } WHERE { ?s a ?c ; ?p ?o } ORDER BY ?s LIMIT 30"
NON_DETERMINISTIC = [
    "SELECT (NOW() AS ?t) WHERE {}",
    "SELECT (rand() AS ?r) WHERE {}",
    "SELECT (UUID() AS ?u) WHERE {}",
    "SELECT (STRUUID() AS ?u) WHERE {}",
    "SELECT (BNODE() AS ?b) WHERE {}",
    "CONSTRUCT { _:x <http://example.org/p> ?s } WHERE { ?s ?p ?o } LIMIT 2",
    "CONSTRUCT { [] <http://example.org/p> ?s } WHERE { ?s ?p ?o } LIMIT 2",
]


def sparql(query: str, **extra: str) -> str:
    return "/sparql?" + urlencode({"query": query, **extra})


def comparable(response: TestResponse | requests.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers but the cache's own, body: what a hit must repeat byte for byte."""
    headers = [(k, v) for k, v in response.headers.items() if k not in OBSERVABILITY]
    body = response.get_data() if isinstance(response, TestResponse) else response.content
    return response.status_code, headers, body


# ---------------------------------------------------------------------------------------------------------
# Pure parts


@pytest.mark.parametrize(
    ("query", "varies"),
    [
        *((q, True) for q in NON_DETERMINISTIC),
        ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", True),
        (SELECT, False),
        (CONSTRUCT, False),
        ("SELECT ?s WHERE { ?s a [] }", False),  # blank nodes in a pattern match stored data: stable
        ("SELECT ?nowhere WHERE { ?nowhere ?p ?o }", False),
    ],
)
def test_queries_that_vary_in_time_are_told_apart(query: str, varies: bool) -> None:
    assert varies_in_time(query) is varies


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("text/turtle;q=0.9, */*;q=0.1", "text/turtle; q=0.9,*/*;q=0.1"),
        ("  application/json ", "application/json"),
    ],
)
def test_accept_is_normalised_without_changing_its_meaning(a: str, b: str) -> None:
    assert normalised_accept(a) == normalised_accept(b)


def test_the_key_ignores_argument_order_but_not_values_build_host_or_coding() -> None:
    environ = {"REQUEST_METHOD": "GET", "HTTP_HOST": "h", "PATH_INFO": "/sparql", "HTTP_ACCEPT": "text/csv"}
    fields = [("query", "ASK {}"), ("format", "csv"), ("format", "json")]
    key = request_key("b1", request_parts(environ, fields, "gzip"))
    assert key == request_key("b1", request_parts(environ, [fields[1], fields[2], fields[0]], "gzip"))
    others = {
        request_key("b2", request_parts(environ, fields, "gzip")),
        request_key("b1", request_parts(environ, [fields[0], fields[2], fields[1]], "gzip")),  # format order
        request_key("b1", request_parts({**environ, "HTTP_HOST": "other"}, fields, "gzip")),
        request_key("b1", request_parts(environ, fields, "")),
        request_key("b1", request_parts({**environ, "REQUEST_METHOD": "POST"}, fields, "gzip")),
        request_key("b1", request_parts({**environ, "HTTP_ACCEPT": "text/tsv"}, fields, "gzip")),
    }
    assert key not in others and len(others) == 6
    assert key == request_key("b1", request_parts({**environ, "REQUEST_METHOD": "HEAD"}, fields, "gzip"))
    assert canonical_query([("b", "2"), ("a", "1")]) == canonical_query([("a", "1"), ("b", "2")])


@pytest.mark.parametrize(
    ("status", "headers", "ok"),
    [
        ("200 OK", [("Content-Length", "10"), ("X-Cdv-Build", "b1")], True),
        ("200 OK", [("Content-Length", "10"), ("X-Cdv-Build", "b2")], False),  # another build's answer
        ("200 OK", [("X-Cdv-Build", "b1")], False),  # streamed: no length
        ("200 OK", [("Content-Length", "100000"), ("X-Cdv-Build", "b1")], False),  # over the entry bound
        ("404 NOT FOUND", [("Content-Length", "10"), ("X-Cdv-Build", "b1")], False),
        ("200 OK", [("Content-Length", "10"), ("X-Cdv-Build", "b1"), ("Set-Cookie", "a=b")], False),
    ],
)
def test_only_whole_small_answers_of_the_build_are_stored(
    status: str, headers: list[tuple[str, str]], ok: bool
) -> None:
    assert storable(status, headers, "b1", 1000) is ok


def test_a_build_id_that_is_not_a_plain_name_gets_a_hashed_folder(tmp_path: Path) -> None:
    assert cache_folder(tmp_path, "20260101T000000Z-abc").name == "20260101T000000Z-abc"
    odd = cache_folder(tmp_path, "../http://remote/sparql")
    assert odd.parent == tmp_path / "cache" and re.fullmatch(r"[0-9a-f]{32}", odd.name)


# ---------------------------------------------------------------------------------------------------------
# In-process: the real app over a build of its own


@pytest.fixture(scope="module")
def own_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cached-build")
    build(load_settings({"build_dir": path}))
    return path


def make_app(build_dir: Path, cache_bytes: int) -> Flask:
    """The app with a cache of `cache_bytes`; queries in-process (the live test has query processes)."""
    app = create_app(load_settings({"build_dir": build_dir, "cache_bytes": cache_bytes, "query_workers": 0}))
    app.testing = True
    return app


@pytest.fixture(scope="module")
def fresh_app(own_build: Path) -> Flask:
    return make_app(own_build, 0)


@pytest.fixture()
def cached_app(own_build: Path) -> Flask:
    """A cache-enabled app over an empty cache (each test starts from nothing)."""
    import shutil

    shutil.rmtree(own_build / "cache", ignore_errors=True)
    return make_app(own_build, 64 * 1024 * 1024)


@pytest.fixture(scope="module")
def a_measure(fresh_app: Flask) -> str:
    """The path of one measure's page, found in the data."""
    query = "SELECT ?m WHERE { ?m a <https://w3id.org/cdv/ontology#Mesure> } ORDER BY ?m LIMIT 1"
    body = fresh_app.test_client().get(sparql(query), headers={"Accept": "text/csv"}).get_data(as_text=True)
    return "/" + body.splitlines()[1].split("/cdv/", 1)[1]


GETS = [
    ("sparql-json", sparql(SELECT), "application/sparql-results+json"),
    ("sparql-csv", sparql(SELECT), "text/csv"),
    ("sparql-xml", sparql(SELECT), "application/sparql-results+xml"),
    ("sparql-format", sparql(SELECT, format="json"), "*/*"),
    ("sparql-turtle", sparql(CONSTRUCT), "text/turtle"),
    ("api-csv", "/api/queries/measures-per-axis", "text/csv"),
    ("api-json", "/api/queries/measures-per-axis", "application/json"),
    ("page-html", "{measure}", "text/html"),
    ("page-turtle", "{measure}", "text/turtle"),
    ("home", "/", "text/html"),
    ("catalog-turtle", "/catalog", "text/turtle"),
    ("catalog-html", "/catalog", "text/html"),
]


@pytest.mark.skipif(
    not (PROJECT_ROOT / "node_modules" / "@zazuko" / "yasgui").is_dir(),
    reason="scripts/setup installs YASGUI",
)
def test_a_cached_page_never_outlives_the_assets_it_was_rendered_with(
    own_build: Path, tmp_path: Path
) -> None:
    """The editor's page cached while the front-end packages were missing (plain form) is not served once
    `npm ci` has installed them: the key and the ETag name the installed assets."""
    import shutil

    (tmp_path / "queries").symlink_to(PROJECT_ROOT / "queries")
    shutil.copy(PROJECT_ROOT / "package.json", tmp_path / "package.json")
    shutil.rmtree(own_build / "cache", ignore_errors=True)
    settings = {"project_root": tmp_path, "build_dir": own_build, "cache_bytes": 64 * 1024 * 1024}
    client = create_app(load_settings({**settings, "query_workers": 0})).test_client()
    headers = {"Accept": "text/html", **IDENTITY}
    plain = [client.get("/sparql", headers=headers) for _ in range(2)]
    assert [r.headers["X-Cache"] for r in plain] == ["miss", "hit"]
    assert "yasgui.min.js" not in plain[1].get_data(as_text=True)
    (tmp_path / "node_modules").symlink_to(PROJECT_ROOT / "node_modules")  # what `npm ci` installs
    rich = [client.get("/sparql", headers=headers) for _ in range(2)]
    assert [r.headers["X-Cache"] for r in rich] == ["miss", "hit"]
    assert "yasgui.min.js" in rich[1].get_data(as_text=True)
    assert rich[0].headers["ETag"] != plain[0].headers["ETag"]
    (tmp_path / "node_modules").unlink()  # and back: the plain page again, from its own entry
    again = client.get("/sparql", headers=headers)
    assert again.headers["X-Cache"] == "hit" and "yasgui.min.js" not in again.get_data(as_text=True)


@pytest.mark.parametrize(("url", "accept"), [g[1:] for g in GETS], ids=[g[0] for g in GETS])
def test_a_cached_answer_is_byte_identical_to_a_fresh_one(
    fresh_app: Flask, cached_app: Flask, a_measure: str, url: str, accept: str
) -> None:
    url = url.format(measure=a_measure)
    headers = {"Accept": accept, **IDENTITY}
    fresh = fresh_app.test_client().get(url, headers=headers)
    client = cached_app.test_client()
    miss, hit = client.get(url, headers=headers), client.get(url, headers=headers)
    assert fresh.status_code == 200, fresh.get_data(as_text=True)
    assert "X-Cache" not in fresh.headers
    assert (miss.headers["X-Cache"], hit.headers["X-Cache"]) == ("miss", "hit")
    assert comparable(hit) == comparable(miss) == comparable(fresh)
    assert (
        hit.headers["ETag"]
        and hit.headers["X-Cdv-Build"] == current_release(cached_app.config["CDV"].build_dir).build_id
    )


def test_a_compressed_answer_is_cached_per_coding(fresh_app: Flask, cached_app: Flask) -> None:
    """gzip output carries its time, so bodies are compared decompressed; the coding is part of the key."""
    headers = {"Accept": "text/html", "Accept-Encoding": "gzip"}
    fresh = fresh_app.test_client().get("/", headers=headers)
    client = cached_app.test_client()
    miss, hit = client.get("/", headers=headers), client.get("/", headers=headers)
    plain = client.get("/", headers={"Accept": "text/html", **IDENTITY})
    assert [r.headers["X-Cache"] for r in (miss, hit, plain)] == ["miss", "hit", "miss"]
    assert hit.headers["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain.headers
    assert comparable(hit)[:2] == comparable(miss)[:2] == comparable(fresh)[:2]
    assert gzip.decompress(hit.get_data()) == gzip.decompress(fresh.get_data()) == plain.get_data()


@pytest.mark.parametrize(
    "post",
    [
        {"data": {"query": SELECT}},
        {"data": SELECT, "content_type": "application/sparql-query"},
        {"data": SELECT.encode(), "content_type": "application/sparql-query; charset=utf-8"},
    ],
    ids=["form", "body", "body-charset"],
)
def test_sparql_posts_are_cached_on_their_decoded_query(
    fresh_app: Flask, cached_app: Flask, post: dict[str, object]
) -> None:
    headers = {"Accept": "application/sparql-results+json", **IDENTITY}
    fresh = fresh_app.test_client().post("/sparql", headers=headers, **post)  # type: ignore[arg-type]
    client = cached_app.test_client()
    miss = client.post("/sparql", headers=headers, **post)  # type: ignore[arg-type]
    hit = client.post("/sparql", headers=headers, data={"query": SELECT})  # another encoding, same query
    assert (miss.headers["X-Cache"], hit.headers["X-Cache"]) == ("miss", "hit")
    assert comparable(hit) == comparable(miss) == comparable(fresh)
    assert "ETag" not in hit.headers  # validators are for GET


def test_a_sparql_get_gets_an_etag_and_a_304(fresh_app: Flask, cached_app: Flask) -> None:
    url, headers = sparql(SELECT), {"Accept": "text/csv", **IDENTITY}
    fresh = fresh_app.test_client().get(url, headers=headers)
    etag = fresh.headers["ETag"]
    client = cached_app.test_client()
    miss_304 = client.get(url, headers={**headers, "If-None-Match": etag})  # computed, not stored
    client.get(url, headers=headers)
    hit_304 = client.get(url, headers={**headers, "If-None-Match": etag})
    stale = client.get(url, headers={**headers, "If-None-Match": '"another"'})
    assert (miss_304.status_code, hit_304.status_code, stale.status_code) == (304, 304, 200)
    assert (miss_304.headers["X-Cache"], hit_304.headers["X-Cache"]) == ("miss", "hit")
    assert comparable(hit_304) == comparable(miss_304) and hit_304.get_data() == b""
    one, other = (
        urlencode(pairs)
        for pairs in ([("query", SELECT), ("format", "csv")], [("format", "csv"), ("query", SELECT)])
    )
    assert client.get("/sparql?" + one).headers["ETag"] == client.get("/sparql?" + other).headers["ETag"]


def test_head_is_answered_from_the_get_answer(cached_app: Flask) -> None:
    client = cached_app.test_client()
    get = client.get("/catalog", headers=IDENTITY)
    head = client.head("/catalog", headers=IDENTITY)
    assert head.headers["X-Cache"] == "hit" and head.get_data() == b""
    assert comparable(head)[:2] == comparable(get)[:2]


@pytest.mark.parametrize("query", NON_DETERMINISTIC)
def test_a_query_that_varies_in_time_is_never_cached_nor_tagged(cached_app: Flask, query: str) -> None:
    client = cached_app.test_client()
    answers = [client.get(sparql(query), headers={"Accept": "*/*"}) for _ in range(3)]
    answers.append(client.post("/sparql", data={"query": query}))
    assert {r.status_code for r in answers} == {200}
    assert {r.headers["X-Cache"] for r in answers} == {"bypass"}
    assert all("ETag" not in r.headers and "no-store" in r.headers["Cache-Control"] for r in answers)


def test_answers_that_are_not_whole_200s_are_not_stored(cached_app: Flask) -> None:
    client = cached_app.test_client()
    for url in ["/id/nothing/here", sparql("SELECT WHERE {"), "/sparql?query="]:
        assert [client.get(url).headers["X-Cache"] for _ in range(2)] == ["miss", "miss"], url


def test_eviction_keeps_the_cache_within_its_bound(own_build: Path) -> None:
    import shutil

    shutil.rmtree(own_build / "cache", ignore_errors=True)
    bound = 128 * 1024
    client = make_app(own_build, bound).test_client()
    urls = [sparql(f"SELECT ?s ?p ?o WHERE {{ ?s ?p ?o }} LIMIT 40 OFFSET {i}") for i in range(80)]
    first = [client.get(u, headers={"Accept": "text/csv", **IDENTITY}) for u in urls]
    assert {r.headers["X-Cache"] for r in first} == {"miss"}
    assert sum(len(r.get_data()) for r in first) > 2 * bound
    build_id = current_release(own_build).build_id
    with diskcache.Cache(str(cache_folder(own_build, build_id))) as cache:
        assert cache.volume() <= bound + entry_limit(bound)
        assert 0 < len(cache) < len(urls)
    assert client.get(urls[-1], headers={"Accept": "text/csv", **IDENTITY}).headers["X-Cache"] == "hit"
    assert client.get(urls[0], headers={"Accept": "text/csv", **IDENTITY}).headers["X-Cache"] == "miss"


def test_an_answer_over_the_entry_bound_is_not_stored(own_build: Path) -> None:
    client = make_app(own_build, 16 * 1024).test_client()  # entries up to 1 KiB
    assert [client.get("/catalog", headers=IDENTITY).headers["X-Cache"] for _ in range(2)] == ["miss", "miss"]


@pytest.mark.parametrize(
    ("post", "status"),
    [
        ({"data": b"query=" + b"x" * 1_100_000, "content_type": "application/x-www-form-urlencoded"}, 413),
        ({"data": b"\xff\xfe", "content_type": "application/sparql-query"}, 400),
        ({"data": b"query=%FF", "content_type": "application/x-www-form-urlencoded"}, 400),
        ({"data": SELECT, "content_type": "application/sparql-query; charset=latin-1"}, 415),
        ({"data": SELECT, "content_type": "text/plain"}, 415),
    ],
    ids=["too-large", "bad-utf8-body", "bad-utf8-form", "charset", "media-type"],
)
def test_bad_posts_get_the_apps_own_answer(cached_app: Flask, post: dict[str, object], status: int) -> None:
    response = cached_app.test_client().post("/sparql", **post)  # type: ignore[arg-type]
    assert response.status_code == status and response.headers["X-Cache"] in {"bypass", "miss"}


def test_health_is_always_answered_by_the_worker(cached_app: Flask) -> None:
    client = cached_app.test_client()
    assert all("X-Cache" not in client.get("/health").headers for _ in range(2))


def test_without_a_cache_everything_still_works(tmp_path: Path, own_build: Path, fresh_app: Flask) -> None:
    import shutil

    shutil.rmtree(own_build / "cache", ignore_errors=True)
    client = fresh_app.test_client()
    for url in [sparql(SELECT), "/", "/catalog"]:
        response = client.get(url)
        assert response.status_code == 200 and "X-Cache" not in response.headers
    assert not (own_build / "cache").exists()


# ---------------------------------------------------------------------------------------------------------
# Live: gunicorn with 2 workers; a second build published into the same folder


SHARED = [sparql(SELECT), sparql(CONSTRUCT), "/", "/catalog", "/api/queries/measures-per-axis"]
COUNT_GRAPHS = sparql("SELECT (COUNT(DISTINCT ?g) AS ?n) (COUNT(*) AS ?t) WHERE { GRAPH ?g { ?s ?p ?o } }")


def hit_pids(log: str) -> set[str]:
    """The worker processes that served a cache hit, from the access log."""
    return set(re.findall(r"\[(\d+)\] \[INFO\] cdv\.access: .* cache=\"hit\"", log))


def wait_for_build(url: str, build_id: str, timeout: float = 90) -> None:
    """Until /health names `build_id` (workers booting may answer late), then until old workers are gone."""
    deadline = time.monotonic() + timeout
    while True:
        assert time.monotonic() < deadline, f"build {build_id} not served after {timeout}s"
        try:
            if requests.get(url + "/health", timeout=5).json().get("build") == build_id:
                break
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.2)
    time.sleep(2)  # the old workers finish their requests and leave


@pytest.mark.live
def test_workers_share_the_cache_and_a_new_build_gets_new_answers(tmp_path: Path) -> None:
    build_dir = tmp_path / "build"
    first = build(load_settings({"project_root": FIXTURE_PROJECT, "build_dir": build_dir}))
    env = {"CDV_CACHE_BYTES": str(64 * 1024 * 1024)}
    with run_server(build_dir, tmp_path, ("--workers", "2", "--threads", "4"), env=env) as server:

        def get(url: str) -> requests.Response:
            return requests.get(server.url + url, headers=IDENTITY, timeout=30)  # a new connection each time

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(get, SHARED * 30))
        assert {r.status_code for r in answers} == {200}
        outcomes = Counter((r.url, r.headers["X-Cache"]) for r in answers)
        assert {url: outcomes[(server.url + url, "miss")] for url in SHARED} == dict.fromkeys(SHARED, 1)
        by_url: dict[str, set[object]] = {}
        for r in answers:
            status, headers, body = comparable(r)
            by_url.setdefault(r.url, set()).add((status, tuple(headers), body))
        assert {url: len(seen) for url, seen in by_url.items()} == dict.fromkeys(by_url, 1)  # same bytes
        time.sleep(0.5)  # access-log lines are written as bodies close
        # Which worker accepts a connection is the kernel's choice: on a fast run one worker can take a whole
        # batch. More batches (bounded) until each worker has served a hit from the shared cache.
        for _ in range(10):
            if len(hit_pids(server.log())) == 2:
                break
            with ThreadPoolExecutor(8) as pool:
                assert {r.headers["X-Cache"] for r in pool.map(get, SHARED * 10)} == {"hit"}
            time.sleep(0.5)
        assert len(hit_pids(server.log())) == 2, "both workers served hits"
        before = {url: comparable(get(url)) for url in [*SHARED, COUNT_GRAPHS]}
        assert {dict(h)["X-Cdv-Build"] for _, h, _ in before.values()} == {first.build_id}

        second = build(load_settings({"build_dir": build_dir}))  # the project's data, into the same folder
        wait_for_build(
            server.url, second.build_id
        )  # server/web/serve.py reloads its workers on a publication
        after = [get(url) for url in [*SHARED, COUNT_GRAPHS] for _ in range(3)]
        assert {r.headers["X-Cdv-Build"] for r in after} == {second.build_id}
        assert Counter(r.headers["X-Cache"] for r in after) == {"miss": 6, "hit": 12}
        assert comparable(after[-1]) != before[COUNT_GRAPHS]  # other data, other answer
        big = get(sparql("SELECT * WHERE { ?s ?p ?o }"))  # streamed (over 64 KiB): never stored
        assert "Content-Length" not in big.headers and big.headers["X-Cache"] == "miss"
        assert get(sparql("SELECT * WHERE { ?s ?p ?o }")).headers["X-Cache"] == "miss"
    assert cache_folder(build_dir, first.build_id).is_dir()
    prune_caches(build_dir)  # the old build's cache goes once no server reads that build
    assert not cache_folder(build_dir, first.build_id).exists()
    assert cache_folder(build_dir, second.build_id).is_dir()
