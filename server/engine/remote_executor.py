"""The /sparql executor of a remote engine: user queries checked here, run there, their bytes streamed back.

The same rules as the embedded executor: the guard refuses SERVICE and update text first (the engine never
sees them), and the time limit holds: an answer not back in time is a 503. The client gets the embedded
mode's answer, byte for byte in the format it negotiated: the engine is asked for SPARQL JSON results or
N-Triples (any format it has, when it refuses those), its answer is read whole by pyoxigraph and written by
the same serialisers as the embedded mode (engines' own CSV, TSV and JSON-LD writers differ: line ends,
header names, brackets, language tags). Relative IRIs resolve against the endpoint's URL, not the engine's.
The engine may keep computing a query we stopped waiting for: give it its own time limit too
(docs/deploy.md).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from urllib.parse import urljoin

import pyoxigraph as ox
import requests

from server.core import sparql_formats as formats
from server.core import sparql_guard as guard
from server.core import sparql_rewrite as rewrite
from server.engine.executor import QueryTimeout, Result
from server.engine.query_process import CHUNK_BYTES, Job, Unacceptable, error_text
from server.engine.remote import (
    GRAPH_TYPE,
    RESULTS_TYPE,
    EngineRefused,
    EngineUnavailable,
    RemoteStore,
    RemoteTriples,
    parse_answer,
)

# Engines parse by recursion on a thread's stack: Oxigraph server 0.5.13 aborts (the whole process) on a
# query nested about 2,500 levels deep. No real query comes near this bound.
MAX_NESTING = 500
_SYNTAX_STORE = ox.Store()  # empty, in memory: parses queries the way the embedded store does
FORMS = {
    "select": formats.SOLUTIONS,
    "ask": formats.BOOLEAN,
    "construct": formats.GRAPH,
    "describe": formats.GRAPH,
}


def accept_header(form: str | None, job: Job) -> str:
    """What to ask the engine for; Unacceptable when the client accepts no format of a known form."""
    if form is not None:
        media_type = job.graph_type if form == formats.GRAPH else job.result_type
        if media_type is None:
            raise Unacceptable(form)
        return GRAPH_TYPE if form == formats.GRAPH else RESULTS_TYPE
    wanted = [RESULTS_TYPE] * (job.result_type is not None) + [GRAPH_TYPE] * (job.graph_type is not None)
    return ", ".join(wanted)


# The first BASE of a prologue (after comments, other BASE and PREFIX declarations): its IRI.
FIRST_BASE = re.compile(
    r"\A(?:\s+|#[^\n]*(?:\n|\Z)|PREFIX\s*[^\s:]*:\s*<[^>]*>)*BASE\s*<([^>]*)>", re.IGNORECASE
)


def with_base(query: str, base_iri: str | None) -> str:
    """The query with the endpoint's URL as its base: a BASE of its own made absolute, else one put first.

    Engines resolve relative IRIs against their own URL. Virtuoso refuses a second BASE, so a query's own
    BASE is resolved here (RFC 3986, urljoin) rather than preceded by ours.
    """
    if not base_iri:
        return query
    own = FIRST_BASE.match(query)
    if own is None:
        return f"BASE {ox.NamedNode(base_iri)}\n{query}"
    absolute = ox.NamedNode(urljoin(base_iri, own[1]))
    return query[: own.start(1) - 1] + str(absolute) + query[own.end(1) + 1 :]


def without_dataset(query: str) -> str:
    """The query without its FROM and FROM NAMED clauses (found by the lexer: never in a string or IRI)."""
    toks = list(rewrite.tokens(query))
    cut: list[tuple[int, int]] = []
    i = 0
    while i < len(toks):
        kind, text, end = toks[i]
        if kind == "word" and text.lower() == "from":
            j = i + 1 + (i + 1 < len(toks) and toks[i + 1][1].lower() == "named")
            if j < len(toks) and toks[j][0] in ("iri", "word"):
                cut.append((end - len(text), toks[j][2]))
                i = j
        i += 1
    for start, end in reversed(cut):
        query = query[:start] + " " + query[end:]
    return query


def answer_form(form: str | None, result: object) -> str:
    """The form of an answer: from the query text when known, else from what the engine sent."""
    if form is not None:
        return form
    if isinstance(result, ox.QueryBoolean):
        return formats.BOOLEAN
    return formats.GRAPH if isinstance(result, RemoteTriples) else formats.SOLUTIONS


def check_syntax(query: str, base_iri: str | None = None) -> None:
    """Refuse what the embedded store refuses, with its words: deep nesting, syntax errors, update text.

    Engines differ on the edges of the grammar (Oxigraph server resolves relative IRIs against its own
    URL): parsing with pyoxigraph first gives the same answer as the embedded mode for the same input.
    """
    depth = rewrite.nesting(query)
    if depth > MAX_NESTING:
        raise guard.QuerySyntaxError(
            f"the query nests {depth} levels deep; queries sent to the SPARQL engine may nest at most "
            f"{MAX_NESTING} levels."
        )
    try:
        _SYNTAX_STORE.query(rewrite.without_ask(query), base_iri=base_iri)
    except SyntaxError as err:
        if guard.is_update(query):
            raise guard.QueryRefused(guard.UPDATE_REFUSED) from None
        raise guard.QuerySyntaxError(f"query syntax error: {_original_error(query, err, base_iri)}") from None
    except (OSError, RuntimeError, ValueError):
        pass  # not a syntax error: the engine decides


def _original_error(query: str, err: SyntaxError, base_iri: str | None) -> str:
    """The parse error of the query as written (positions of an ASK query before its rewriting)."""
    if rewrite.without_ask(query) != query:
        try:
            _SYNTAX_STORE.query(query, base_iri=base_iri)
        except SyntaxError as original:
            return error_text(original)
        except (OSError, RuntimeError, ValueError):
            pass
    return error_text(err)


class RemoteExecutor:
    """Runs protocol jobs on the remote engine of a RemoteStore."""

    def __init__(self, store: RemoteStore, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.store = store
        self.chunk_bytes = chunk_bytes

    def close(self) -> None:
        """Nothing to stop: sessions close with their threads."""

    def run(self, job: Job, deadline: float) -> Result:
        """Check the query, send it, and return its answer in the negotiated format; ClientError otherwise."""
        inspection = guard.inspect(job.query)  # 403 for SERVICE before anything leaves the server
        check_syntax(job.query, job.base_iri)
        keyword = rewrite.query_form(job.query)
        form = FORMS.get(keyword) if keyword else None
        accept = accept_header(form, job)
        query, default_graphs, named_graphs = job.query, job.default_graphs, job.named_graphs
        if inspection.names_dataset:
            # The dataset goes as protocol parameters only, the query's FROM clauses taken out: the
            # parameters replace FROM (SPARQL 1.1 Protocol §2.1.4), which Virtuoso would merge with them
            # instead, and Oxigraph server ignores FROM in union default graph mode.
            if not (default_graphs or named_graphs):
                default_graphs, named_graphs = guard.query_dataset(job.query) or ((), ())
            query = without_dataset(query)
        fields = self.store.fields(with_base(query, job.base_iri), keyword, default_graphs, named_graphs)
        try:
            response = self.store.ask(fields, accept, deadline - time.monotonic(), stream=True)
        except EngineRefused:
            if guard.is_update(job.query):
                raise guard.QueryRefused(guard.UPDATE_REFUSED) from None
            raise
        return self._answer(response, form, job, deadline)

    def _answer(self, response: requests.Response, form: str | None, job: Job, deadline: float) -> Result:
        """The engine's answer read by pyoxigraph and written in the negotiated format by our serialisers."""
        content_type = response.headers.get("Content-Type", "")
        result = parse_answer(b"".join(self._chunks(response, deadline)), content_type)
        form = answer_form(form, result)
        wanted = job.graph_type if form == formats.GRAPH else job.result_type
        if wanted is None:
            raise Unacceptable(form)
        try:
            body = result.serialize(format=formats.serialiser(form, wanted))  # type: ignore[union-attr, call-arg]
        except (SyntaxError, ValueError) as err:  # e.g. a quoted triple where the format has none
            raise EngineUnavailable(
                f"the SPARQL engine's answer cannot be written as {wanted}: {err}"
            ) from None
        return Result(form, body=body)

    def _chunks(self, response: requests.Response, deadline: float) -> Iterator[bytes]:
        """The body's pieces; QueryTimeout at the deadline, EngineUnavailable when the engine drops."""
        try:
            for chunk in response.iter_content(self.chunk_bytes):
                if time.monotonic() > deadline:
                    raise QueryTimeout(self.store.timed_out())
                yield chunk
        except requests.RequestException as err:
            if time.monotonic() > deadline:
                raise QueryTimeout(self.store.timed_out()) from None
            raise EngineUnavailable(f"the SPARQL engine's answer broke off: {type(err).__name__}") from None
        finally:
            response.close()
