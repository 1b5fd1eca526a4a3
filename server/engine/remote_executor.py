"""The /sparql executor of a remote engine: user queries checked here, run there, their bytes streamed back.

The same rules as the embedded executor: the guard refuses SERVICE and update text first (the engine never
sees them), the answer is in the negotiated format (the engine is asked for it; an engine that answers
another format is transcoded by pyoxigraph), and the time limit holds: a query whose first bytes are not
back in time answers 503, a stream still running at the deadline is cut. The engine may keep computing a
query we stopped waiting for: give it its own time limit too (docs/deploy.md).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pyoxigraph as ox
import requests

from server.core import sparql_formats as formats
from server.core import sparql_guard as guard
from server.core import sparql_rewrite as rewrite
from server.core.errors import DomainError
from server.engine.executor import QueryTimeout, Result, StreamAborted
from server.engine.query_process import CHUNK_BYTES, Job, Unacceptable, error_text
from server.engine.remote import (
    EngineRefused,
    EngineUnavailable,
    RemoteStore,
    RemoteTriples,
    parse_answer,
    protocol_fields,
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


def engine_media_type(form: str, media_type: str) -> str:
    """The canonical media type of the serialiser our negotiation chose (e.g. text/plain → TSV)."""
    return formats.serialiser(form, media_type).media_type.split(";", 1)[0]


def accept_header(form: str | None, job: Job) -> str:
    """What to ask the engine for; Unacceptable when the client accepts no format of a known form."""
    if form is not None:
        media_type = job.graph_type if form == formats.GRAPH else job.result_type
        if media_type is None:
            raise Unacceptable(form)
        return engine_media_type(form, media_type)
    wanted = [
        engine_media_type(f, t)
        for f, t in ((formats.SOLUTIONS, job.result_type), (formats.GRAPH, job.graph_type))
        if t is not None
    ]
    return ", ".join(wanted)


def answer_form(form: str | None, result: object) -> str:
    """The form of an answer: from the query text when known, else from what the engine sent."""
    if form is not None:
        return form
    if isinstance(result, ox.QueryBoolean):
        return formats.BOOLEAN
    return formats.GRAPH if isinstance(result, RemoteTriples) else formats.SOLUTIONS


def check_syntax(query: str) -> None:
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
        _SYNTAX_STORE.query(rewrite.without_ask(query))
    except SyntaxError as err:
        if guard.is_update(query):
            raise guard.QueryRefused(guard.UPDATE_REFUSED) from None
        raise guard.QuerySyntaxError(f"query syntax error: {_original_error(query, err)}") from None
    except (OSError, RuntimeError, ValueError):
        pass  # not a syntax error: the engine decides


def _original_error(query: str, err: SyntaxError) -> str:
    """The parse error of the query as written (positions of an ASK query before its rewriting)."""
    if rewrite.without_ask(query) != query:
        try:
            _SYNTAX_STORE.query(query)
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
        """Check the query, send it, and return its answer whole or as a stream; ClientError otherwise."""
        inspection = guard.inspect(job.query)  # 403 for SERVICE before anything leaves the server
        check_syntax(job.query)
        keyword = rewrite.query_form(job.query)
        form = FORMS.get(keyword) if keyword else None
        accept = accept_header(form, job)
        default_graphs, named_graphs = job.default_graphs, job.named_graphs
        if inspection.names_dataset and not (default_graphs or named_graphs):
            # The protocol's parameters name the same dataset as the query's FROM (SPARQL 1.1 Protocol
            # §2.1.4): a compliant engine answers the same, and Oxigraph server, which ignores FROM in union
            # default graph mode, answers what the query asks.
            default_graphs, named_graphs = guard.query_dataset(job.query) or ((), ())
        fields = protocol_fields(job.query, default_graphs or None, named_graphs or None)
        try:
            response = self.store.post(fields, accept, deadline - time.monotonic(), stream=True)
        except EngineRefused:
            if guard.is_update(job.query):
                raise guard.QueryRefused(guard.UPDATE_REFUSED) from None
            raise
        return self._answer(response, form, accept, job, deadline)

    def _answer(
        self, response: requests.Response, form: str | None, accept: str, job: Job, deadline: float
    ) -> Result:
        """The engine's answer as a Result: passed through when in the format asked, transcoded otherwise."""
        content_type = response.headers.get("Content-Type", "")
        media_type = content_type.split(";", 1)[0].strip().lower()
        if form is not None and media_type == accept:
            return self._pass_through(response, form, deadline)
        result = parse_answer(b"".join(self._chunks(response, deadline)), content_type)
        form = answer_form(form, result)
        wanted = job.graph_type if form == formats.GRAPH else job.result_type
        if wanted is None:
            raise Unacceptable(form)
        body = result.serialize(format=formats.serialiser(form, wanted))  # type: ignore[union-attr, call-arg]
        return Result(form, body=body)

    def _pass_through(self, response: requests.Response, form: str, deadline: float) -> Result:
        """The engine's bytes: whole when they fit in one chunk, else streamed under the deadline."""
        chunks = self._chunks(response, deadline)
        head = bytearray()
        for chunk in chunks:  # before the response begins, errors keep their status (503)
            head += chunk
            if len(head) >= self.chunk_bytes:
                return Result(form, chunks=_streamed(bytes(head), chunks))
        return Result(form, body=bytes(head))

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


def _streamed(head: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    """The rest of a response already begun: an error now can only cut the connection."""
    yield head
    try:
        yield from rest
    except DomainError as err:
        raise StreamAborted(f"results stopped: {err.message}") from None
