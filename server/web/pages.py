"""Blueprint: the linked-data pages. Every IRI under the public base answers HTML to people, RDF to programs.

Routes: `/` (home), `/id/<path>` (resources), `/ontology` and `/ontology.<ext>` (the ontology), and
`/sources/<file>` (the source texts the data cites, line by line).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, render_template, request
from markupsafe import Markup
from werkzeug.security import safe_join

from server.core import rdf as ox
from server.core.describe import (
    VALUES_SHOWN,
    Context,
    Description,
    context,
    describe,
    label_triples,
    prefixes,
    used_prefixes,
    within,
)
from server.core.errors import ClientError, Unavailable
from server.core.iris import IriMap, iri_map
from server.core.labels_fr import french_date
from server.core.negotiation import HTML, JSONLD, NTRIPLES, PLAIN, RDFXML, TURTLE, Format, negotiate
from server.core.ontology_doc import ontology_doc, ontology_graph, recorded_uses
from server.core.outline import home_outline
from server.core.presentation import Row, shorten
from server.core.resource_view import SourceText, page_terms, resource_page
from server.core.see_also import ExternalLink, see_also
from server.web.context import (
    engine,
    known_terms,
    serving_manifest,
    serving_release,
    settings,
    shared_descriptions,
)

bp = Blueprint("pages", __name__)

# Order matters: a bare `*/*` (curl, wget, python-requests) gets the first, Turtle, which reads well in a
# terminal; browsers name text/html explicitly (Chrome, Firefox, Safari all send it at q=1), so they get HTML.
# JSON clients (`fetch` with Accept: application/json) get JSON-LD, which is JSON.
JSONLD_OR_JSON = Format(
    JSONLD.name, JSONLD.media_type, JSONLD.extension, (*JSONLD.aliases, "application/json")
)
PAGE_FORMATS: tuple[Format, ...] = (TURTLE, HTML, JSONLD_OR_JSON, RDFXML, NTRIPLES)
EXTENSIONS = {fmt.extension: fmt for fmt in PAGE_FORMATS}
OX_FORMATS = {
    TURTLE.name: ox.RdfFormat.TURTLE,
    NTRIPLES.name: ox.RdfFormat.N_TRIPLES,
    RDFXML.name: ox.RdfFormat.RDF_XML,
}
HTML_PAGE_SIZE = 100  # incoming links per HTML page
RDF_PAGE_SIZE = 1000  # incoming triples per RDF document
MAX_PAGE = 100_000


def _iris() -> IriMap:
    return iri_map(settings().base_iri, settings().public_url, request.url_root)


def _cdv() -> str:
    return settings().ontology_iri + "#"


@bp.app_context_processor
def _layout() -> dict[str, object]:
    """What base.html needs on every page of every blueprint: where the site's root is."""
    return {"site_root": _iris().root}


@bp.app_template_filter("french_date")
def _french_date(value: str) -> str:
    return french_date(value) or value


@bp.app_template_filter("shorten")
def _shorten(value: str, limit: int = 70) -> str:
    return shorten(value, limit)


@bp.app_template_filter("first_upper")
def _first_upper(value: str) -> str:
    return value[:1].upper() + value[1:]


@bp.app_template_filter("see_also")
def _see_also(rows: Sequence[Row]) -> list[ExternalLink]:
    return see_also(rows, settings().base_iri)


def split_extension(path: str) -> tuple[str, Format | None]:
    """ "…/mesure/12.ttl" → ("…/mesure/12", TURTLE); a path without a known extension is left alone."""
    stem, dot, ext = path.rpartition(".")
    if dot and "/" not in ext and ext in EXTENSIONS:
        return stem, EXTENSIONS[ext]
    return path, None


def choose(
    path_format: Format | None, offered: Sequence[Format] = PAGE_FORMATS, default: Format = TURTLE
) -> Format:
    """The extension wins, then ?format=, then the Accept header."""
    if path_format is not None:
        return path_format
    return negotiate(request.headers.get("Accept"), request.args.get("format"), offered, default)


def _page_number() -> int:
    raw = request.args.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise ClientError(f"page must be a whole number from 1 to {MAX_PAGE}, not {raw!r}")
    return int(raw)


def serialize(triples: Iterable[ox.Triple], fmt: Format) -> bytes:
    """RDF bytes by the libraries: pyoxigraph, or rdflib for JSON-LD compacted with our prefixes."""
    triples = list(triples)
    names = used_prefixes(triples, prefixes(_cdv()))
    if fmt.name in OX_FORMATS:
        return ox.serialize(triples, format=OX_FORMATS[fmt.name], prefixes=names)
    import rdflib  # imported by the first JSON-LD answer only: HTML and the other formats do without it (5 MiB)

    graph = rdflib.Graph()
    graph.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
    return graph.serialize(format="json-ld", context=names, auto_compact=True).encode("utf-8")


def json_ld_script(triples: Iterable[ox.Triple]) -> Markup:
    """JSON-LD for a <script> element, by pyoxigraph (expanded form: fast, and what search engines read).

    "<", ">" and "&" only occur inside JSON strings, where their \\u escapes mean the same: the text can
    never close the script element or open a comment.
    """
    text = ox.serialize(triples, format=ox.RdfFormat.JSON_LD).decode("utf-8")
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # escaped above for the script context


def variants(url: str, first: int = 0) -> dict[str, str]:
    """The URL of each representation of a resource, by format name.

    `first` is the index of the first incoming link the current page shows: each variant's URL names the
    page of that format (HTML and RDF pages differ in size) that holds it.
    """
    urls = {}
    for fmt in PAGE_FORMATS:
        page = first // page_size(fmt) + 1
        urls[fmt.name] = f"{url}.{fmt.extension}" + (f"?page={page}" if page > 1 else "")
    return urls


def page_size(fmt: Format) -> int:
    """Incoming links per page: fewer for people than for programs."""
    return HTML_PAGE_SIZE if fmt is HTML else RDF_PAGE_SIZE


def alternate_headers(
    response: Response, urls: Mapping[str, str], chosen: Format, pager: Mapping[str, str] | None = None
) -> None:
    """Vary, one Link header (each format's alternate, then the pages `prev`/`next`), Content-Location."""
    response.headers["Vary"] = "Accept"
    links = [f'<{urls[fmt.name]}>; rel="alternate"; type="{fmt.media_type}"' for fmt in PAGE_FORMATS]
    links += [f'<{url}>; rel="{rel}"' for rel, url in (pager or {}).items()]
    response.headers["Link"] = ", ".join(links)
    response.headers["Content-Location"] = urls[chosen.name]


def not_found(message: str, fmt: Format) -> Response:
    """404 as an HTML page for browsers, plain text for everything else."""
    if fmt is HTML:
        return Response(render_template("not-found.html", message=message), 404, mimetype="text/html")
    return Response(message + "\n", 404, mimetype="text/plain")


@lru_cache(maxsize=16)
def _read_lines(path: str, mtime_ns: int) -> tuple[str, ...]:
    return tuple(Path(path).read_text("utf-8").splitlines())


def sources_folder() -> Path:
    """Where the served build's source texts are: the release's own copy (what was built, so a page and its
    cached copy never miss a text added later), else, for a store or engine without release files here, the
    project's data/sources/ (and for a release made before builds carried their texts)."""
    try:
        carried = serving_release().sources_path
    except Unavailable:
        return settings().sources_dir
    return carried if carried.is_dir() else settings().sources_dir


def source_file(name: str) -> Path | None:
    """The source text a `cdv:fichier` names, or None (never a path outside the sources folder)."""
    joined = safe_join(str(sources_folder()), name)
    return Path(joined) if joined and Path(joined).is_file() else None


def source_texts(ctx: Context, iris: IriMap) -> dict[str, SourceText]:
    """The text of each source document the page quotes, by the document's IRI."""
    texts = {}
    for neighbour in ctx.of_kind("source"):
        path = source_file(neighbour.file or "")
        if path is not None:
            lines = _read_lines(str(path), path.stat().st_mtime_ns)
            texts[neighbour.iri] = SourceText(f"{iris.root}sources/{path.name}", lines)
    return texts


def sparql_link(iri: str, iris: IriMap) -> str:
    """A link into the SPARQL editor, prefilled with DESCRIBE of the resource."""
    return iris.editor(f"DESCRIBE {ox.NamedNode(iri)}")


def _resource_html(desc: Description, iris: IriMap, urls: Mapping[str, str]) -> str:
    """The resource page: two more queries at most (context, batched labels), three more for an avenant's
    outline."""
    cdv, store, iri, precomputed = _cdv(), engine(), desc.iri.value, shared_descriptions()
    ctx = within(context(store, iri, cdv=cdv, file_property=cdv + "fichier", precomputed=precomputed), desc)
    vocabulary, resources = page_terms(desc, ctx)
    # The resource itself is always named (its own labels are in `desc` already): every page then costs
    # the same queries, whichever vocabulary terms this process has learnt so far (a resource named in
    # several documents is named by the build: none when all a page names is)
    names = label_triples(store, resources | {iri}, cdv, vocabulary, known_terms(), precomputed)
    view = resource_page(desc, ctx, names, iris, cdv, source_texts(ctx, iris), prefixes(cdv))
    return render_template(
        "resource.html",
        page=view,
        documents=home_outline(store, cdv, iri) if (cdv + "Avenant") in view.type_iris else [],
        iris=iris,
        urls=urls,
        sparql=sparql_link(iri, iris),
        json_ld=json_ld_script(desc.core),
        page_url=lambda n: iris.url(iri) + (f"?page={n}" if n > 1 else ""),
        values_shown=VALUES_SHOWN,
    )


@bp.get("/id/<path:path>")
def resource(path: str) -> Response:
    """A resource of the graph, in the format negotiated."""
    stem, path_format = split_extension(path)
    fmt = choose(path_format)
    iris = _iris()
    iri = iris.iri("id/" + stem)
    try:
        ox.NamedNode(iri)
    except ValueError:
        return not_found(f"aucune ressource n’a l’IRI {iri!r}", fmt)
    page = _page_number()
    size = page_size(fmt)
    cfg = settings()
    desc = describe(
        engine(),
        iri,
        cdv=_cdv(),
        id_base=cfg.id_base,
        graph_base=cfg.graph_base,
        page=page,
        page_size=size,
        values_shown=VALUES_SHOWN if fmt is HTML else None,
        precomputed=shared_descriptions(),
    )
    if not desc.exists:
        return not_found(f"le graphe ne contient pas de ressource <{iri}>", fmt)
    if page > desc.pages:
        return not_found(f"<{iri}> a {desc.pages} page(s) de liens entrants, pas {page}", fmt)
    urls = variants(iris.url(iri), (page - 1) * size)
    if fmt is HTML:
        response = Response(_resource_html(desc, iris, urls), mimetype="text/html")
    else:
        response = Response(serialize(desc.triples, fmt), content_type=fmt.content_type)
    pager = {
        rel: f"{iris.url(iri)}.{fmt.extension}?page={n}"
        for rel, n in (("prev", page - 1), ("next", page + 1))
        if 1 <= n <= desc.pages
    }
    alternate_headers(response, urls, fmt, pager)
    return response


@bp.get("/sources/<name>")
def source_text(name: str) -> Response:
    """A source text: plain UTF-8 for programs; numbered lines with anchors (#L12) for browsers."""
    fmt = choose(None, (PLAIN, HTML), PLAIN)
    path = source_file(name)
    if path is None:
        return not_found(f"aucun texte source ne s’appelle {name!r}", fmt)
    lines = _read_lines(str(path), path.stat().st_mtime_ns)
    if fmt is HTML:
        response = Response(
            render_template("source-text.html", name=path.name, lines=lines), mimetype="text/html"
        )
    else:
        response = Response(path.read_bytes(), content_type=PLAIN.content_type)
    response.headers["Vary"] = "Accept"
    return response


@bp.get("/ontology")
@bp.get("/ontology.<ext>")
def ontology(ext: str | None = None) -> Response:
    """The ontology: documentation for people, the ontology graph in RDF for programs."""
    path_format = None
    if ext is not None:
        path_format = EXTENSIONS.get(ext)
        if path_format is None:
            return not_found(
                f"pas de format d’ontologie {ext!r} ; formats disponibles : " + ", ".join(EXTENSIONS), PLAIN
            )
    fmt = choose(path_format)
    iris = _iris()
    url = iris.url(settings().ontology_iri)
    urls = variants(url)
    store, cdv = engine(), _cdv()
    if fmt is HTML:
        doc = ontology_doc(store, settings(), prefixes(cdv), iris, recorded_uses(serving_manifest()))
        response = Response(render_template("ontology.html", doc=doc, urls=urls), mimetype="text/html")
    else:
        response = Response(serialize(ontology_graph(store, settings()), fmt), content_type=fmt.content_type)
    alternate_headers(response, urls, fmt)
    return response


@bp.get("/ontology/<version>")
def ontology_version(version: str) -> Response:
    """A version IRI of the ontology (owl:versionIRI): the ontology while that version is the current one."""
    current = engine().query(
        "SELECT ?o ?v WHERE { ?o <http://www.w3.org/2002/07/owl#versionIRI> ?v }",
        substitutions={"o": ox.NamedNode(settings().ontology_iri)},
    )
    versions = [row["v"].value for row in current]  # type: ignore[union-attr]
    if settings().ontology_iri + "/" + version not in versions:
        available = ", ".join(versions) or "aucune"
        return not_found(
            f"pas de version {version!r} de l’ontologie ; la version en cours est {available}",
            choose(None, (PLAIN, HTML), PLAIN),
        )
    return ontology()


@bp.get("/")
def home() -> Response:
    """What this is, each document as an outline, partners and signatories, and where to go next."""
    iris = _iris()
    outline = home_outline(engine(), _cdv())
    return Response(render_template("home.html", documents=outline, iris=iris), mimetype="text/html")
