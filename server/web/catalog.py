"""Blueprint: what portals harvest — the DCAT catalogue, VoID, the dumps, the shapes, sitemap.xml, robots.txt.

Everything is read from the release the serving store belongs to (`metadata/`, `dumps/` and the manifest,
written by `server/build/dumps.py` at build time), so the catalogue, the files and the endpoint always agree.
Served RDF keeps its public IRIs; only the links a client follows (download, access, endpoint, landing
page, home page) are mapped to this server, so a portal harvesting a local run downloads from it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from functools import lru_cache

from flask import Blueprint, Response, current_app, redirect, render_template, request, send_file
from rdflib.namespace import DCAT
from werkzeug.exceptions import MethodNotAllowed, NotFound

from server.build.dumps import METADATA, dump_stem
from server.core import errors
from server.core import metadata as md
from server.core import rdf as ox
from server.core.catalog_view import catalog_view, kilobytes
from server.core.errors import ClientError
from server.core.iris import IriMap, iri_map
from server.core.negotiation import HTML, JSONLD, NQUADS, NTRIPLES, RDFXML, TURTLE, Format, negotiate
from server.core.sparql_rewrite import values
from server.web.context import engine, serving_release, settings
from server.web.http_cache import etag_for

bp = Blueprint("catalog", __name__)
bp.add_app_template_filter(kilobytes, "kilobytes")

# A bare `*/*` (curl, harvesters) gets Turtle; browsers name text/html and get the readable catalogue.
RDF_OFFERED: tuple[Format, ...] = (TURTLE, JSONLD, RDFXML, NTRIPLES)
CATALOG_OFFERED: tuple[Format, ...] = (TURTLE, HTML, JSONLD, RDFXML, NTRIPLES)
DUMP_FORMATS = {f.name: f for f in (TURTLE, NTRIPLES, JSONLD, RDFXML, NQUADS)}
# The links a client follows: mapped to this server (their subjects keep their public IRIs).
ACCESS_LINKS = frozenset(
    str(p)
    for p in (
        DCAT.downloadURL,
        DCAT.accessURL,
        DCAT.endpointURL,
        DCAT.endpointDescription,
        DCAT.landingPage,
        md.FOAF.homepage,
        md.VOID.dataDump,
        md.VOID.sparqlEndpoint,
    )
)
ACCESS_PREDICATES = frozenset(ox.NamedNode(p) for p in ACCESS_LINKS)
SITEMAP_LIMIT = 50_000  # URLs per sitemap file (sitemaps.org protocol)
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
TOP_PAGES = ("", "catalog", "sparql", "queries", "ontology")


def _iris() -> IriMap:
    """The base mapping for this request, with absolute links (RDF needs absolute IRIs)."""
    return iri_map(settings().base_iri, settings().public_url, request.url_root, absolute=True)


def _rdf_response(body: bytes, fmt: Format) -> Response:
    """An RDF body in a negotiated format."""
    response = Response(body, content_type=fmt.content_type)
    response.headers["Vary"] = "Accept"
    return response


@lru_cache(maxsize=64)
def _serialised(path: str, root: str, base_iri: str, fmt_name: str) -> bytes:
    """A metadata file of a release in one format, its access links mapped to `root` (cached: immutable).

    The file is N-Triples, one triple per line, subject first: sorting its lines as bytes groups each
    subject's triples, so Turtle writes each subject once (sorting parsed triples by their text cost 4 s of
    the 14 s this took for a catalogue of 1,000 documents; now 3 s in all). Only the access links are
    rebuilt; the other triples pass through as parsed.
    """
    with open(path, "rb") as file:
        lines = sorted(file.read().splitlines())
    triples = ox.parse(b"\n".join(lines), format=ox.RdfFormat.N_TRIPLES)
    return ox.serialize(
        _mapped(triples, IriMap(base_iri, root)),
        format=ox.RdfFormat.from_media_type(DUMP_FORMATS[fmt_name].media_type),
        prefixes=md.PREFIXES,
    )


def _mapped(triples: Iterable[ox.Triple], links: IriMap) -> Iterator[ox.Triple]:
    """The triples, the objects of ACCESS_LINKS mapped to this server."""
    for triple in triples:
        if triple.predicate in ACCESS_PREDICATES and isinstance(triple.object, ox.NamedNode):
            yield ox.Triple(triple.subject, triple.predicate, ox.NamedNode(links.url(triple.object.value)))
        else:
            yield triple


def _metadata_document(name: str, fmt: Format) -> Response:
    """One of the release's metadata files, served in `fmt`."""
    release = serving_release()
    path = release.path / METADATA / name
    if not path.is_file():
        raise errors.NotFound(f"this build has no {name}: rebuild with `cdv build`")
    body = _serialised(str(path), _iris().root, settings().base_iri, fmt.name)
    return _rdf_response(body, fmt)


def _alternates(response: Response, path: str, offered: tuple[Format, ...]) -> Response:
    """`Link: rel="alternate"` for each format the resource is offered in."""
    response.headers["Link"] = ", ".join(
        f'<{path}?format={f.name}>; rel="alternate"; type="{f.media_type}"' for f in offered
    )
    return response


@bp.get("/catalog")
def catalog() -> Response:
    """The DCAT-AP catalogue (with VoID), by Accept or ?format=; HTML for browsers."""
    fmt = negotiate(request.headers.get("Accept"), request.args.get("format"), CATALOG_OFFERED, TURTLE)
    path = request.script_root + "/catalog"
    if fmt is HTML:
        release = serving_release()
        view = catalog_view(str(release.path / METADATA / "catalog.nt"), release.build_id)
        html = render_template("catalog.html", view=view, links=_iris(), formats=RDF_OFFERED, path=path)
        response = Response(html, content_type=HTML.content_type)
        response.headers["Vary"] = "Accept"
    else:
        response = _metadata_document("catalog.nt", fmt)
    return _alternates(response, path, CATALOG_OFFERED)


@bp.get("/.well-known/void")
def void() -> Response:
    """The VoID description (RFC 8615 well-known location, as the VoID note asks)."""
    fmt = negotiate(request.headers.get("Accept"), request.args.get("format"), RDF_OFFERED, TURTLE)
    response = _metadata_document("void.nt", fmt)
    return _alternates(response, request.script_root + "/.well-known/void", RDF_OFFERED)


@bp.get("/shapes")
def shapes() -> Response:
    """The project's SHACL shapes, as published with this build (the standard the datasets conform to)."""
    fmt = negotiate(request.headers.get("Accept"), request.args.get("format"), RDF_OFFERED, TURTLE)
    response = _metadata_document("shapes.nt", fmt)
    return _alternates(response, request.script_root + "/shapes", RDF_OFFERED)


@bp.get("/graph", defaults={"rest": ""})
@bp.get("/graph/<path:rest>")
def dataset(rest: str) -> Response:
    """A dataset IRI (a named graph's IRI) is described by the catalogue: 303 See Other to it."""
    release = serving_release()
    iri = settings().base_iri + "graph" + ("/" + rest if rest else "")
    if iri not in {settings().base_iri + "graph", *release.manifest.get("graphs", {})}:
        raise NotFound(f"no dataset {iri}")
    anchor = "#dataset-" + (dump_stem(iri, settings()) if rest else "cdv-graph")
    wants_html = negotiate(request.headers.get("Accept"), None, CATALOG_OFFERED, TURTLE) is HTML
    target = request.script_root + "/catalog" + (anchor if wants_html else "")
    return redirect(target, 303)


@bp.get("/dumps/<name>")
def dump(name: str) -> Response:
    """A dump file named in the manifest; uncompressed dumps come from their .gz twin to gzip clients."""
    release = serving_release()
    files = release.manifest.get("dumps", {})
    entry = files.get(name)
    if entry is None:
        raise NotFound(f"no dump named {name!r}; the catalogue at /catalog lists them")
    fmt = DUMP_FORMATS[entry["format"]]
    content_type = "application/gzip" if entry["compressed"] else fmt.content_type
    path, coding = release.dumps_path / name, "identity"
    if not path.is_file():
        raise NotFound(f"the dump {name!r} is missing from this build")
    if not entry["compressed"] and name + ".gz" in files and request.accept_encodings["gzip"] > 0:
        path, coding = release.dumps_path / (name + ".gz"), "gzip"
    response = send_file(
        path,
        mimetype=content_type.split(";")[0],
        etag=etag_for(release.build_id, request.path, "", f"{content_type}|{coding}"),
        last_modified=md.built_at(release.build_id),
        conditional=True,
        max_age=None,
    )
    response.headers["Content-Type"] = content_type
    if coding == "gzip":
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    response.cache_control.public = True
    response.cache_control.no_cache = True
    return response


@bp.get("/robots.txt")
def robots() -> Response:
    """Crawl every page, not SPARQL query URLs (each one runs a query); point at the sitemap."""
    root = _iris().root
    lines = ["User-agent: *", f"Disallow: {request.script_root}/sparql?", "", f"Sitemap: {root}sitemap.xml"]
    return Response("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


SITEMAP_QUERY = """
SELECT DISTINCT ?s WHERE {{ {values} GRAPH ?g {{ ?s ?p ?o }} FILTER(isIRI(?s) && STRSTARTS(STR(?s), ?base)) }}
ORDER BY ?s
"""


def resource_pages(base: str) -> list[str]:
    """Every resource IRI under `base` that is a subject in the store, fragments dropped, in order."""
    query = SITEMAP_QUERY.format(values=values(["base"], [[ox.Literal(base)]]))
    pages = dict.fromkeys(row["s"].value.split("#", 1)[0] for row in engine().query(query))
    return list(pages)


def _top_pages(links: IriMap) -> list[str]:
    """The service's own pages that exist in this app (each blueprint is optional)."""
    adapter = current_app.url_map.bind("localhost")
    found = []
    for page in TOP_PAGES:
        try:
            adapter.match("/" + page, method="GET")
        except (NotFound, MethodNotAllowed):
            continue
        except Exception:  # a redirect means the page exists
            pass
        found.append(links.root + page)
    return found


@bp.get("/sitemap.xml")
def sitemap() -> Response:
    """Every resource page (sitemaps.org); past 50,000 URLs, an index of numbered parts (?page=N)."""
    links = _iris()
    lastmod = (md.built_at(serving_release().build_id) or datetime.now(UTC)).date().isoformat()
    urls = _top_pages(links) + [links.url(iri) for iri in resource_pages(settings().id_base)]
    parts = max(1, -(-len(urls) // SITEMAP_LIMIT))
    page = request.args.get("page")
    if page is None and parts > 1:
        root = ET.Element("sitemapindex", xmlns=SITEMAP_NS)
        for n in range(1, parts + 1):
            entry = ET.SubElement(root, "sitemap")
            ET.SubElement(entry, "loc").text = f"{links.root}sitemap.xml?page={n}"
            ET.SubElement(entry, "lastmod").text = lastmod
    else:
        if page is not None and (not page.isdigit() or not 1 <= int(page) <= parts):
            raise ClientError(f"page must be a whole number from 1 to {parts}, not {page!r}")
        start = (int(page or 1) - 1) * SITEMAP_LIMIT
        root = ET.Element("urlset", xmlns=SITEMAP_NS)
        for url in urls[start : start + SITEMAP_LIMIT]:
            entry = ET.SubElement(root, "url")
            ET.SubElement(entry, "loc").text = url
            ET.SubElement(entry, "lastmod").text = lastmod
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return Response(body, content_type="application/xml; charset=utf-8")
