"""A remote SPARQL 1.1 engine (Oxigraph server, Fuseki, QLever, Virtuoso) as the store: the `Backend` over HTTP.

Queries go to the engine by the SPARQL 1.1 Protocol (POST, form-encoded) with `requests`, one pooled
session per thread. Answers come back as the types the embedded store gives (pyoxigraph QuerySolutions,
QueryBoolean, triples), parsed by pyoxigraph, so every page and API works the same on both. The engine must
query the union of its named graphs as its default graph, like the embedded store (see docs/deploy.md).

The build the engine holds is read from its metadata graph (`owl:versionInfo` of the metadata graph, written
by `cdv build`), cached for REFRESH seconds so a reloaded engine is noticed; the files of that build (dumps,
catalogue, shapes) are served from the local release folder with the same build id, when there is one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO

import pyoxigraph as ox
import requests

from server.core import sparql_rewrite as rewrite
from server.core.backend import QueryResult, Term
from server.core.config import Settings
from server.core.errors import ClientError, DomainError, NotFound, Unavailable
from server.core.vocab import OWL_VERSION_INFO
from server.engine.executor import QueryTimeout
from server.engine.release import RELEASES, Release, read_release

REFRESH = 5.0  # seconds the engine's build id is trusted before it is read again
CONNECT_TIMEOUT = 5.0  # seconds to open a connection to the engine
UNVERSIONED = "unversioned"  # build id of an engine whose metadata graph names none
ERROR_CHARS = 2000
RESULTS_TYPE = "application/sparql-results+json"
GRAPH_TYPE = "application/n-triples"


class EngineUnavailable(Unavailable):
    """The engine cannot be reached, failed (5xx) or did not answer within the time limit."""


class EngineRefused(ClientError):
    """The engine refused the query (4xx): its message is passed on."""


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
        self.query_count = 0
        self._local = threading.local()
        self._build: tuple[float, str] | None = None  # (read at, build id)

    # --- HTTP --------------------------------------------------------------------------------------------

    def session(self) -> requests.Session:
        """This thread's pooled session (requests sessions are not documented as thread-safe)."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
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
        if response.status_code >= 500:
            raise EngineUnavailable(
                f"the SPARQL engine failed (HTTP {response.status_code}): {engine_message(response)}"
            )
        if response.status_code >= 400:
            raise EngineRefused(f"the SPARQL engine refused the query: {engine_message(response)}")
        return response

    def timed_out(self) -> str:
        """The message of a query over the time limit (the embedded executor's words)."""
        return f"the query did not finish within the time limit of {self.timeout:g} s."

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
    ) -> QueryResult:
        """Send a query (not counted in query_count: the server's own bookkeeping goes through here)."""
        form = rewrite.query_form(text)
        accept = GRAPH_TYPE if form in ("construct", "describe") else RESULTS_TYPE
        response = self.post(protocol_fields(text, default_graphs, named_graphs), accept, self.timeout)
        return parse_answer(response.content, response.headers.get("Content-Type", accept))

    def triple_count(self) -> int:
        """Number of quads in the engine (all named graphs)."""
        rows = self._run("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        return int(next(iter(rows))["n"].value)  # type: ignore[index, arg-type]

    @property
    def build_id(self) -> str:
        """The build the engine holds, read from its metadata graph at most every REFRESH seconds."""
        now = time.monotonic()
        if self._build is None or now - self._build[0] > REFRESH:
            self._build = (now, self._read_build_id())
        return self._build[1]

    def _read_build_id(self) -> str:
        graph = ox.NamedNode(self.metadata_graph)
        rows = self._run(
            f"SELECT ?id WHERE {{ GRAPH {graph} {{ {graph} <{OWL_VERSION_INFO}> ?id }} }} LIMIT 1"
        )
        for row in rows:  # type: ignore[union-attr]
            return str(row["id"].value)  # type: ignore[index]
        return UNVERSIONED

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


def parse_answer(body: bytes, content_type: str) -> QueryResult:
    """Parse an engine's answer by its media type, into pyoxigraph's result types."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    results_format = ox.QueryResultsFormat.from_media_type(media_type)
    try:
        if results_format is not None:
            return ox.parse_query_results(body, format=results_format)
        rdf_format = ox.RdfFormat.from_media_type(media_type)
        if rdf_format is None:
            raise EngineUnavailable(f"the SPARQL engine answered in an unexpected media type: {media_type!r}")
        return RemoteTriples([quad.triple for quad in ox.parse(body, format=rdf_format)])  # type: ignore[return-value]
    except SyntaxError as err:
        raise EngineUnavailable(f"the SPARQL engine's answer could not be read: {err}") from None


def open_remote(settings: Settings) -> RemoteStore:
    """The remote backend of the settings (Settings.endpoint)."""
    return RemoteStore(settings.endpoint, settings.query_timeout, settings.build_dir, settings.graph_base)
