"""Blueprint: what portals harvest — the DCAT catalogue, VoID, the dumps, the shapes, sitemap.xml, robots.txt.

Everything is read from the release the serving store belongs to (`metadata/`, `dumps/` and the manifest,
written by `server/build/dumps.py` at build time), so the catalogue, the files and the endpoint always agree.
Served RDF keeps its public IRIs; only the links a client follows (download, access, endpoint, landing
page, home page) are mapped to this server, so a portal harvesting a local run downloads from it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from functools import lru_cache

from flask import Blueprint, Response, current_app, redirect, render_template, request, send_file
from werkzeug.exceptions import MethodNotAllowed, NotFound

from server.core import errors
from server.core import rdf as ox
from server.core.build_ids import built_at
from server.core.catalog_view import catalog_view, kilobytes
from server.core.errors import ClientError
from server.core.iris import IriMap, iri_map
from server.core.negotiation import HTML, JSONLD, NQUADS, NTRIPLES, RDFXML, TURTLE, Format, negotiate
from server.core.vocab import CATALOGUE, NAMESPACES, prefixes
from server.engine.release import METADATA, dump_stem
from server.web.context import engine, serving_release, settings
from server.web.http_cache import etag_for
from server.web.served import answer, served_key, served_resources, sitemap_key, written_path

bp = Blueprint("catalog", __name__)
bp.add_app_template_filter(kilobytes, "kilobytes")

# A bare `*/*` (curl, harvesters) gets Turtle; browsers name text/html and get the readable catalogue.
RDF_OFFERED: tuple[Format, ...] = (TURTLE, JSONLD, RDFXML, NTRIPLES)
CATALOG_OFFERED: tuple[Format, ...] = (TURTLE, HTML, JSONLD, RDFXML, NTRIPLES)
DUMP_FORMATS = {f.name: f for f in (TURTLE, NTRIPLES, JSONLD, RDFXML, NQUADS)}
# The links a client follows: mapped to this server (their subjects keep their public IRIs).
ACCESS_LINKS = frozenset(
    NAMESPACES[prefix] + name
    for prefix, name in (
        ("dcat", "downloadURL"),
        ("dcat", "accessURL"),
        ("dcat", "endpointURL"),
        ("dcat", "endpointDescription"),
        ("dcat", "landingPage"),
        ("foaf", "homepage"),
        ("void", "dataDump"),
        ("void", "sparqlEndpoint"),
    )
)
PREFIXES = prefixes(*CATALOGUE)  # those the build writes the catalogue with (server/core/metadata.py)
ACCESS_PREDICATES = frozenset(ox.NamedNode(p) for p in ACCESS_LINKS)
SITEMAP_LIMIT = 50_000  # URLs per sitemap file (sitemaps.org protocol)
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
TOP_PAGES = ("", "catalog", "sparql", "queries", "ontology")


def _iris() -> IriMap:
    """The base mapping for this request, with absolute links (RDF needs absolute IRIs)."""
    return iri_map(settings().base_iri, settings().public_url, request.url_root, absolute=True)


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
        prefixes=PREFIXES,
    )


def _mapped(triples: Iterable[ox.Triple], links: IriMap) -> Iterator[ox.Triple]:
    """The triples, the objects of ACCESS_LINKS mapped to this server."""
    for triple in triples:
        if triple.predicate in ACCESS_PREDICATES and isinstance(triple.object, ox.NamedNode):
            yield ox.Triple(triple.subject, triple.predicate, ox.NamedNode(links.url(triple.object.value)))
        else:
            yield triple


def metadata_body(name: str, fmt: Format) -> bytes:
    """One of the release's metadata files in `fmt`, its access links mapped to this request's root."""
    path = serving_release().path / METADATA / name
    if not path.is_file():
        raise errors.NotFound(f"this build has no {name}: rebuild with `cdv build`")
    return _serialised(str(path), _iris().root, settings().base_iri, fmt.name)


def _metadata_document(name: str, fmt: Format) -> Response:
    """One of the release's metadata files, served in `fmt` (written by the build for its root)."""
    response = answer(served_key(name, fmt), fmt.content_type, lambda: metadata_body(name, fmt))
    response.headers["Vary"] = "Accept"
    return response


def _alternates(response: Response, path: str, offered: tuple[Format, ...]) -> Response:
    """`Link: rel="alternate"` for each format the resource is offered in."""
    response.headers["Link"] = ", ".join(
        f'<{path}?format={f.name}>; rel="alternate"; type="{f.media_type}"' for f in offered
    )
    return response


def catalog_html() -> bytes:
    """The readable catalogue of the serving release, its links on this request's root."""
    release = serving_release()
    view = catalog_view(str(release.path / METADATA / "catalog.nt"), release.build_id)
    path = request.script_root + "/catalog"
    html = render_template("catalog.html", view=view, links=_iris(), formats=RDF_OFFERED, path=path)
    return html.encode("utf-8")


@bp.get("/catalog")
def catalog() -> Response:
    """The DCAT-AP catalogue (with VoID), by Accept or ?format=; HTML for browsers."""
    fmt = negotiate(request.headers.get("Accept"), request.args.get("format"), CATALOG_OFFERED, TURTLE)
    path = request.script_root + "/catalog"
    if fmt is HTML:
        response = answer(served_key("catalog.nt", HTML), HTML.content_type, catalog_html)
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
        last_modified=built_at(release.build_id),
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


# Subjects only, filtered and ordered here: a FILTER on STR(?s) in the query is evaluated on every quad
# (6 s at 31 documents, minutes at 1,000), DISTINCT subjects alone take 0.13 s at 31 documents.
SITEMAP_QUERY = "SELECT DISTINCT ?s WHERE { GRAPH ?g { ?s ?p ?o } }"


def resource_pages(base: str) -> list[str]:
    """Every resource IRI under `base` that is a subject in the store, fragments dropped, in order.

    Read from the list the build wrote beside the release when there is one (the query reads every quad).
    """
    listed = served_resources()
    if listed is not None:
        return [iri for iri in listed if iri.startswith(base)]
    return subject_pages(engine().query(SITEMAP_QUERY), base)


def subject_pages(rows: Iterable[Mapping[str, object]], base: str) -> list[str]:
    """The pages of the subjects in `rows` that lie under `base`: fragments dropped, each once, in order."""
    iris = (row["s"] for row in rows)
    return sorted(
        {i.value.split("#", 1)[0] for i in iris if isinstance(i, ox.NamedNode) and i.value.startswith(base)}
    )


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


def sitemap_urls(resources: list[str]) -> list[str]:
    """Every URL of the sitemap, on this request's root: the service's pages, then each resource's page."""
    links = _iris()
    return _top_pages(links) + [links.url(iri) for iri in resources]


def sitemap_parts(urls: list[str]) -> int:
    """How many files of at most SITEMAP_LIMIT URLs the sitemap takes."""
    return max(1, -(-len(urls) // SITEMAP_LIMIT))


def sitemap_body(urls: list[str], page: int | None) -> bytes:
    """The sitemap: an index of its parts (`page` None, past 50,000 URLs), else the URLs of part `page`."""
    root_url = _iris().root
    lastmod = (built_at(serving_release().build_id) or datetime.now(UTC)).date().isoformat()
    parts = sitemap_parts(urls)
    if page is None and parts > 1:
        root = ET.Element("sitemapindex", xmlns=SITEMAP_NS)
        for n in range(1, parts + 1):
            entry = ET.SubElement(root, "sitemap")
            ET.SubElement(entry, "loc").text = f"{root_url}sitemap.xml?page={n}"
            ET.SubElement(entry, "lastmod").text = lastmod
    else:
        start = ((page or 1) - 1) * SITEMAP_LIMIT
        root = ET.Element("urlset", xmlns=SITEMAP_NS)
        for url in urls[start : start + SITEMAP_LIMIT]:
            entry = ET.SubElement(root, "url")
            ET.SubElement(entry, "loc").text = url
            ET.SubElement(entry, "lastmod").text = lastmod
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _sitemap_page(arg: str | None) -> int | None:
    """The part a request asks for; ClientError for anything but a number of an existing part."""
    if arg is None:
        return None
    if arg.isdigit() and written_path(sitemap_key(int(arg))) is not None:
        return int(arg)
    parts = sitemap_parts(sitemap_urls(resource_pages(settings().id_base)))
    if not arg.isdigit() or not 1 <= int(arg) <= parts:
        raise ClientError(f"page must be a whole number from 1 to {parts}, not {arg!r}")
    return int(arg)


@bp.get("/sitemap.xml")
def sitemap() -> Response:
    """Every resource page (sitemaps.org); past 50,000 URLs, an index of numbered parts (?page=N)."""
    page = _sitemap_page(request.args.get("page"))
    return answer(
        sitemap_key(page),
        "application/xml; charset=utf-8",
        lambda: sitemap_body(sitemap_urls(resource_pages(settings().id_base)), page),
    )
