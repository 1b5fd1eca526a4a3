"""A remote SPARQL 1.1 engine (Oxigraph server, Fuseki, QLever, Virtuoso) as the store: the `Backend` over HTTP.

Queries go to the engine by the SPARQL 1.1 Protocol (POST, form-encoded) with `requests`, one pooled
session per thread. Answers come back as the types the embedded store gives (pyoxigraph QuerySolutions,
QueryBoolean, triples), read by pyoxigraph to the last row before anyone sees them (an odd answer is a 503
here, never an error half-way through a page), so every page and API works the same on both. Blank-node
labels any engine writes (Virtuoso's `nodeID://b1`) are accepted. An answer the engine cut at its row cap
(Virtuoso's `X-SPARQL-MaxRows`) is a 503 saying so, never passed on as if whole.

Every query sees the build's graphs and only them (the build's graphs are read from its metadata graph). A
query that names a dataset of its own gets it. For the others, what the engine needs is found once per build
id (`Scope`): an engine that holds the build only (Oxigraph server loaded by the guide) gets the query as it
is; Virtuoso, which keeps graphs of its own (virtrdf, DAV, OWL, service description), gets its exclusion
pragmas for each of them before the query text; any other engine holding other graphs gets the build's graphs
as the query's dataset (`default-graph-uri`, `named-graph-uri`: no portable exclusion exists). Virtuoso's own
graphs are found by listing every graph it holds, seconds at 1,000 documents: in a thread of its own, the
graph list being sent meanwhile (at that size it costs Virtuoso up to seconds a query, the exclusion
milliseconds: benchmarks/graph_list.py). An engine loaded without the metadata graph is queried as it is
(its union default graph, see docs/deploy.md).

The build the engine holds is read from its metadata graph (`owl:versionInfo` of the metadata graph, written
by `cdv build`), cached for REFRESH seconds so a reloaded engine is noticed; the files of that build (dumps,
catalogue, shapes) are served from the local release folder with the same build id, when there is one.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyoxigraph as ox
import requests

from server.core import sparql_guard as guard
from server.core import sparql_rewrite as rewrite
from server.core.backend import QueryResult, Term
from server.core.config import Settings
from server.core.errors import ClientError, DomainError, NotFound, Unavailable
from server.core.vocab import NAMESPACES, OWL_VERSION_INFO
from server.engine.executor import QueryTimeout
from server.engine.release import RELEASES, Release, read_release

REFRESH = 5.0  # seconds the engine's build id is trusted before it is read again
CONNECT_TIMEOUT = 5.0  # seconds to open a connection to the engine
UNVERSIONED = "unversioned"  # build id of an engine whose metadata graph names none
ERROR_CHARS = 2000
RESULTS_TYPE = "application/sparql-results+json"
GRAPH_TYPE = "application/n-triples"
# What to ask an engine that refuses (406) the format we prefer: every format pyoxigraph reads.
FALLBACK_TYPES = (
    "application/sparql-results+json, application/n-triples, application/sparql-results+xml;q=0.9, "
    "text/turtle;q=0.9, application/rdf+xml;q=0.8, application/n-quads;q=0.8, text/tab-separated-values;q=0.5, "
    "*/*;q=0.1"
)
MAX_ROWS_HEADER = "X-SPARQL-MaxRows"  # Virtuoso: the answer was cut at its ResultSetMaxRows
VIRTUOSO_CBD = 'define sql:describe-mode "CBD"'  # Virtuoso's DESCRIBE as the embedded store's
LISTED_GRAPHS = "SELECT DISTINCT ?g WHERE { GRAPH ?g { } }"  # the graphs an engine lists (Virtuoso: none)
# Every graph with a triple: the only complete way found on Virtuoso (`GRAPH ?g { ?s a ?t }` takes 0.03 s
# instead of 12-30 s at 1,000 documents, but misses its DAV and LDP graphs), so it runs once per build.
HELD_GRAPHS = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
LISTING_TIMEOUT = 600.0  # seconds to wait for HELD_GRAPHS, off the request path
RETRY = 60.0  # seconds before a failed HELD_GRAPHS is sent again
_JOINS_VIRTUOSO_MISREADS = re.compile(r"\b(?:EXISTS|MINUS)\b", re.IGNORECASE)  # see `excludable`
BLANK_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?")


# Virtuoso echoes each graph of a request's dataset as a response header (X-SPARQL-default-graph): with a
# 1,000-document build's 1,002 graphs an answer has over 2,000 headers, past the 100 that http.client
# accepts (a hard-coded module constant, no API), and every query failed. The cap is raised for this process.
http.client._MAXHEADERS = max(http.client._MAXHEADERS, 100_000)  # type: ignore[attr-defined]


class EngineUnavailable(Unavailable):
    """The engine cannot be reached, failed (5xx) or did not answer within the time limit."""


class EngineRefused(ClientError):
    """The engine refused the query (4xx): its message is passed on."""


class EngineNotAcceptable(EngineRefused):
    """The engine has no answer in the format asked for (406): ask for another one."""


class EngineCapped(Unavailable):
    """The engine cut its answer at its row cap: passing it on would be a silent truncation."""


@dataclass(frozen=True)
class Scope:
    """How a query that names no dataset is kept to the build's graphs on this engine."""

    graphs: tuple[str, ...] = ()  # sent as its dataset (default-graph-uri and named-graph-uri)
    pragmas: str = ""  # put before its text: Virtuoso's exclusion of each graph outside the build


def excludable(query: str) -> bool:
    """Whether Virtuoso answers `query` right under the exclusion pragmas (pure).

    Virtuoso 7.2.5 does not: a FILTER NOT EXISTS or a MINUS whose pattern joins on two variables of the
    outer pattern found nothing to exclude (the numbering-gap check listed every measure number as missing;
    tests/test_remote.py), and EXISTS the same. Such a query gets the build's graph list instead: slower at
    1,000 documents, right. The words anywhere (in a literal too) are enough: a false alarm costs time only.
    """
    if _JOINS_VIRTUOSO_MISREADS.search(query):
        return False
    if "\\" not in query:
        return True
    try:
        return not _JOINS_VIRTUOSO_MISREADS.search(guard.decoded(query))
    except guard.QuerySyntaxError:  # the engine will refuse it anyway
        return False


def exclusion(foreign: Iterable[str]) -> str:
    """Virtuoso's pragmas taking each graph out of a query's default graph and its named graphs."""
    return "".join(
        f"define input:default-graph-exclude {iri}\ndefine input:named-graph-exclude {iri}\n"
        for iri in sorted(str(ox.NamedNode(graph)) for graph in foreign)
    )


class RemoteTriples:
    """The triples of a CONSTRUCT or DESCRIBE answer, usable like pyoxigraph's QueryTriples."""

    def __init__(self, triples: list[ox.Triple]) -> None:
        self._triples = triples

    def __iter__(self) -> Iterator[ox.Triple]:
        return iter(self._triples)

    def __len__(self) -> int:
        return len(self._triples)

    def serialize(self, output: IO[bytes] | None = None, format: ox.RdfFormat | None = None) -> bytes | None:
        """Write the triples like QueryTriples.serialize (N-Triples unless `format` says otherwise)."""
        return ox.serialize(self._triples, output, format or ox.RdfFormat.N_TRIPLES)


def environment_session(url: str) -> requests.Session:
    """A session that reads the environment for `url` once (proxies, NO_PROXY, CA bundle, .netrc), as
    requests would at each request: that lookup walks all of os.environ, 0.12 ms of CPU in each request's
    0.53 ms of requests' own work (issue 19)."""
    session = requests.Session()
    found = session.merge_environment_settings(url, {}, None, session.verify, None)
    session.proxies.update(found["proxies"])
    session.verify = found["verify"]
    session.auth = requests.utils.get_netrc_auth(url)
    session.trust_env = False
    return session


def engine_message(response: requests.Response) -> str:
    """The engine's error text, on one line and bounded."""
    return " ".join(response.text.split())[:ERROR_CHARS] or response.reason or "no message"


def protocol_fields(
    query: str, default_graphs: Sequence[str] | None, named_graphs: Sequence[str] | None
) -> list[tuple[str, str]]:
    """The form fields of a SPARQL 1.1 Protocol query request."""
    fields = [("query", query)]
    fields += [("default-graph-uri", g) for g in default_graphs or ()]
    fields += [("named-graph-uri", g) for g in named_graphs or ()]
    return fields


class RemoteStore:
    """A SPARQL 1.1 endpoint as the store of this process."""

    def __init__(self, endpoint: str, timeout: float, build_dir: Path, graph_base: str) -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self.build_dir = build_dir
        self.metadata_graph = graph_base + "metadata"
        self.no_graph = graph_base + "none"  # a graph name no build has: an empty list of graphs
        # the whole knowledge graph: its void:subsets are the graphs
        self.whole_graph = graph_base.rstrip("/")
        self.query_count = 0
        self.virtuoso = False  # the last answer came from Virtuoso (its Server header)
        self._local = threading.local()
        self._build: tuple[float, str, tuple[str, ...]] | None = None  # (read at, build id, its graphs)
        self._scope: tuple[str, Scope] | None = None  # (for which build id, the scope)
        self._scope_lock = threading.Lock()
        self.finding: threading.Thread | None = None  # the search for Virtuoso's own graphs, when started

    # --- HTTP --------------------------------------------------------------------------------------------

    def session(self) -> requests.Session:
        """This thread's pooled session (requests sessions are not documented as thread-safe)."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = environment_session(self.endpoint)
        return session

    def post(
        self, fields: list[tuple[str, str]], accept: str, timeout: float, stream: bool = False
    ) -> requests.Response:
        """Send a protocol request; the response when 2xx, else EngineRefused / EngineUnavailable."""
        try:
            response = self.session().post(
                self.endpoint,
                data=fields,
                headers={"Accept": accept},
                timeout=(CONNECT_TIMEOUT, max(timeout, 0.001)),
                stream=stream,
            )
        except requests.Timeout:
            raise QueryTimeout(self.timed_out()) from None
        except requests.RequestException as err:
            raise EngineUnavailable(
                f"the SPARQL engine at {self.endpoint} cannot be reached ({type(err).__name__}). "
                "Try again later."
            ) from None
        if response.status_code >= 500:  # Virtuoso's cost-based refusal is a 500 with its reason
            raise EngineUnavailable(
                f"the SPARQL engine failed (HTTP {response.status_code}): {engine_message(response)}"
            )
        if response.status_code == 406:
            raise EngineNotAcceptable(f"the SPARQL engine has no answer in {accept}")
        if response.status_code >= 400:
            raise EngineRefused(f"the SPARQL engine refused the query: {engine_message(response)}")
        check_not_capped(response)
        self.virtuoso = response.headers.get("Server", "").startswith("Virtuoso/")
        return response

    def ask(
        self, fields: list[tuple[str, str]], accept: str, timeout: float, stream: bool = False
    ) -> requests.Response:
        """Send a protocol request in the format we prefer, or in any format when the engine refuses it."""
        try:
            return self.post(fields, accept, timeout, stream)
        except EngineNotAcceptable:
            return self.post(fields, FALLBACK_TYPES, timeout, stream)

    def fields(
        self,
        query: str,
        form: str | None,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
    ) -> list[tuple[str, str]]:
        """The protocol fields of a query as this engine must get it: the embedded answer, the build's graphs.

        A query's own dataset is sent as it is; a dataset with a default graph and no named graph (or the
        reverse) has the other list empty (SPARQL 1.1 Protocol §2.1.4), which the protocol cannot send and
        Virtuoso reads as "all graphs": the empty list is sent as a graph that exists nowhere. A query with
        no dataset gets the build's scope. DESCRIBE's answer is the engine's choice (SPARQL 1.1 §16.4):
        Virtuoso's also holds the triples pointing at the resource; its pragma for the concise bounded
        description gives the embedded one.
        """
        if default_graphs or named_graphs:
            default = list(default_graphs or ()) or [self.no_graph]
            named = list(named_graphs or ()) or [self.no_graph]
            return protocol_fields(self._describe_mode(form) + query, default, named)
        scope = self.scope  # first: reading the build tells whether the engine is Virtuoso
        if scope.pragmas and not excludable(query):
            scope = Scope(self.graphs)
        return protocol_fields(scope.pragmas + self._describe_mode(form) + query, scope.graphs, scope.graphs)

    def _describe_mode(self, form: str | None) -> str:
        """Virtuoso's pragma for the embedded DESCRIBE, when the engine is Virtuoso and the query a DESCRIBE."""
        return f"{VIRTUOSO_CBD}\n" if form == "describe" and self.virtuoso else ""

    def timed_out(self) -> str:
        """The message of a query over the time limit, in the embedded executor's words (executor.py).

        "Stopped" holds for us (we stop waiting) and for the engine, which has a time limit of its own
        (docs/deploy.md, what every engine needs).
        """
        return (
            f"the query did not finish within the time limit of {self.timeout:g} s and was stopped. "
            "Simplify it, add LIMIT, or run it on a copy of the data (see the dumps)."
        )

    # --- Backend -----------------------------------------------------------------------------------------

    def query(
        self,
        sparql: str,
        *,
        substitutions: Mapping[str, Term] | None = None,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
    ) -> QueryResult:
        """Run a query on the engine; the same result types as EmbeddedStore.query."""
        self.query_count += 1
        return self._run(rewrite.bind(sparql, substitutions), default_graphs, named_graphs)

    def _run(
        self,
        text: str,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        whole_engine: bool = False,
        timeout: float | None = None,
    ) -> QueryResult:
        """Send a query (not counted in query_count: the server's own bookkeeping goes through here);
        `whole_engine`: with no dataset at all, over every graph the engine holds."""
        form = rewrite.query_form(text)
        accept = GRAPH_TYPE if form in ("construct", "describe") else RESULTS_TYPE
        if whole_engine:
            fields = protocol_fields(text, None, None)
        else:
            fields = self.fields(text, form, default_graphs, named_graphs)
        response = self.ask(fields, accept, timeout or self.timeout)
        return parse_answer(response.content, response.headers.get("Content-Type", accept))

    def triple_count(self) -> int:
        """Number of quads of the build in the engine (all its named graphs)."""
        rows = self._run("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        return int(next(iter(rows))["n"].value)  # type: ignore[index, arg-type]

    @property
    def build_id(self) -> str:
        """The build the engine holds, read from its metadata graph at most every REFRESH seconds."""
        return self._read_build()[1]

    @property
    def graphs(self) -> tuple[str, ...]:
        """The named graphs of the build the engine holds (none when it has no metadata graph)."""
        return self._read_build()[2]

    @property
    def scope(self) -> Scope:
        """How a query that names no dataset is kept to the graphs of the build the engine holds."""
        graphs = self._read_build()[2]
        scope = self._scope
        return scope[1] if scope is not None else Scope(graphs)

    def _read_build(self) -> tuple[float, str, tuple[str, ...]]:
        now = time.monotonic()
        if self._build is None or now - self._build[0] > REFRESH:
            build_id, graphs = self._read_build_id()
            self._build = (now, build_id, graphs)
            self._know_scope(build_id, graphs)
        return self._build

    def _know_scope(self, build_id: str, graphs: tuple[str, ...]) -> None:
        """Find the scope of a build once: at the first refresh that reads its id, not at every one."""
        with self._scope_lock:
            if self._scope is not None and self._scope[0] == build_id:
                return
            self._scope = (build_id, Scope(graphs))  # the safe scope while the engine's is being found
        try:
            scope = self._find_scope(build_id, graphs)
        except BaseException:
            self._scope = self._build = None  # the next use reads the build and finds its scope again
            raise
        self._set_scope(build_id, scope)

    def _set_scope(self, build_id: str, scope: Scope) -> None:
        with self._scope_lock:
            if self._scope is not None and self._scope[0] == build_id:
                self._scope = (build_id, scope)

    def _find_scope(self, build_id: str, graphs: tuple[str, ...]) -> Scope:
        """The scope of the build: nothing to an engine that holds the build only, else its graphs, until
        Virtuoso's own graphs are known (in a thread of their own: seconds at 1,000 documents).

        An engine that lists exactly the build's graphs (`GRAPH ?g {}`: Oxigraph server loaded by the guide)
        answers from the build without the list: at 1,000 documents the list is 1,002 graphs, 200 kB a
        request, and cost Oxigraph server about 30 ms a query (benchmarks/graph_list.py).
        """
        if not graphs:
            return Scope()  # no build known: nothing to send
        rows = self._run(LISTED_GRAPHS, whole_engine=True)
        listed = {str(row["g"].value) for row in rows if row["g"] is not None}  # type: ignore[union-attr, index]
        if listed == set(graphs):
            return Scope()
        if self.virtuoso:  # the answer to LISTED_GRAPHS came from Virtuoso
            self.finding = threading.Thread(
                target=self._find_foreign, args=(build_id, graphs), name="cdv-engine-graphs", daemon=True
            )
            self.finding.start()
        return Scope(graphs)

    def _find_foreign(self, build_id: str, graphs: tuple[str, ...]) -> None:
        """Virtuoso's own graphs: every graph it holds but the build's, excluded from then on.

        Until then the graph list is sent: slower, never wrong. A listing that fails (the engine's own time
        limit, the engine down) is tried again RETRY seconds later, while the engine holds the same build.
        """
        while True:
            try:
                rows = self._run(HELD_GRAPHS, whole_engine=True, timeout=LISTING_TIMEOUT)
                break
            except DomainError:
                time.sleep(RETRY)
                scope = self._scope
                if scope is None or scope[0] != build_id:
                    return  # another build: its own search starts at its first refresh
        held = {str(row["g"].value) for row in rows if row["g"] is not None}  # type: ignore[union-attr, index]
        self._set_scope(build_id, Scope(pragmas=exclusion(held - set(graphs))))

    def _read_build_id(self) -> tuple[str, tuple[str, ...]]:
        """The build id and graphs of the metadata graph: the graph itself and the whole graph's subsets."""
        graph, whole = ox.NamedNode(self.metadata_graph), ox.NamedNode(self.whole_graph)
        rows = self._run(
            f"SELECT ?id ?part WHERE {{ GRAPH {graph} {{ {graph} <{OWL_VERSION_INFO}> ?id "
            f"OPTIONAL {{ {whole} <{NAMESPACES['void']}subset> ?part }} }} }}",
            [self.metadata_graph],
            [self.metadata_graph],
        )
        build_id, graphs = UNVERSIONED, {self.metadata_graph}
        for row in rows:  # type: ignore[union-attr]
            build_id = str(row["id"].value)  # type: ignore[index]
            if row["part"] is not None:  # type: ignore[index]
                graphs.add(str(row["part"].value))  # type: ignore[index]
        return build_id, (tuple(sorted(graphs)) if build_id != UNVERSIONED else ())

    # --- local files of the same build -------------------------------------------------------------------

    def local_release(self) -> Release:
        """The local release folder of the build the engine holds; 404 saying why when there is none."""
        build_id = self.build_id
        folder = self.build_dir / RELEASES / build_id
        if build_id == UNVERSIONED or not folder.is_dir():
            raise NotFound(
                f"the files of the build the SPARQL engine serves ({build_id}) are not on this server: "
                f"copy its release folder to {self.build_dir / RELEASES}/ (see docs/deploy.md)."
            )
        return read_release(folder)

    @property
    def path(self) -> Path | None:
        """The store folder of the matching local release (where other files of the build sit), if any."""
        try:
            return self.local_release().store_path
        except (DomainError, OSError):
            return None


def check_not_capped(response: requests.Response) -> None:
    """EngineCapped when the engine says it cut the answer at its row cap."""
    cap = response.headers.get(MAX_ROWS_HEADER)
    if cap is not None:
        response.close()
        raise EngineCapped(
            f"the SPARQL engine cut its answer at {cap} rows (its result row cap): ask for fewer rows "
            "(LIMIT, OFFSET) or raise the engine's cap (docs/deploy.md)."
        )


def blank_label(label: str) -> str:
    """A blank-node label pyoxigraph accepts: the engine's own when valid, else one derived from it."""
    if BLANK_LABEL.fullmatch(label):
        return label
    return "b" + hashlib.sha256(label.encode("utf-8")).hexdigest()[:32]


def portable_json(body: bytes) -> bytes:
    """SPARQL JSON results with every blank-node label made valid (Virtuoso writes `nodeID://b1`)."""
    if b'"bnode"' not in body:
        return body
    answer = json.loads(body)
    for row in answer.get("results", {}).get("bindings", ()):
        for term in row.values():
            if isinstance(term, dict) and term.get("type") == "bnode":
                term["value"] = blank_label(str(term.get("value", "")))
    return json.dumps(answer, ensure_ascii=False).encode("utf-8")


def parse_answer(body: bytes, content_type: str) -> QueryResult:
    """Read an engine's answer whole by its media type, into pyoxigraph's result types; 503 when unreadable.

    Solutions are read to the last row here, then given as a fresh reader of the same bytes: pyoxigraph
    reads rows lazily, and a bad row found while a page iterates would be an error no one could answer.
    """
    media_type = content_type.split(";", 1)[0].strip().lower()
    results_format = ox.QueryResultsFormat.from_media_type(media_type)
    try:
        if results_format is not None:
            if results_format == ox.QueryResultsFormat.JSON:
                body = portable_json(body)
            result = ox.parse_query_results(body, format=results_format)
            if isinstance(result, ox.QuerySolutions):
                for _ in result:
                    pass
                return ox.parse_query_results(body, format=results_format)
            return result
        rdf_format = ox.RdfFormat.from_media_type(media_type)
        if rdf_format is None:
            raise EngineUnavailable(f"the SPARQL engine answered in an unexpected media type: {media_type!r}")
        return RemoteTriples([quad.triple for quad in ox.parse(body, format=rdf_format)])  # type: ignore[return-value]
    except (SyntaxError, ValueError) as err:
        raise EngineUnavailable(f"the SPARQL engine's answer could not be read: {err}") from None


def open_remote(settings: Settings) -> RemoteStore:
    """The remote backend of the settings (Settings.endpoint)."""
    return RemoteStore(settings.endpoint, settings.query_timeout, settings.build_dir, settings.graph_base)
