"""A portal's harvest against the real server process: catalogue → every download → checked against VoID and
against the graph the SPARQL endpoint serves."""

from __future__ import annotations

import hashlib

import pytest
import rdflib
import requests
from rdflib.compare import to_isomorphic
from rdflib.namespace import DCAT, RDF, VOID

from .rdf_parse import parse_graph, parse_quads, quads_graph
from .servers import LiveServer

pytestmark = pytest.mark.live

SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")
# What a harvester sends (udata and ckanext-dcat both negotiate among the RDF syntaxes they parse)
HARVESTER_ACCEPT = "application/rdf+xml, text/turtle;q=0.9, application/ld+json;q=0.8, */*;q=0.1"
CONSTRUCT = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } VALUES ?g { %s } }"


@pytest.fixture(scope="module")
def harvested(live_server: LiveServer) -> tuple[rdflib.Graph, rdflib.Graph]:
    """The catalogue and the VoID, fetched over HTTP as a portal does."""
    catalog = requests.get(live_server.url + "/catalog", headers={"Accept": HARVESTER_ACCEPT}, timeout=30)
    assert catalog.status_code == 200
    assert catalog.headers["Content-Type"].startswith("application/rdf+xml")
    void = requests.get(live_server.url + "/.well-known/void", headers={"Accept": "text/turtle"}, timeout=30)
    assert void.status_code == 200
    return parse_graph(catalog.content, "application/rdf+xml"), parse_graph(void.content, "text/turtle")


def endpoint_graph(live_server: LiveServer, graphs: list[rdflib.term.Node]) -> rdflib.Graph:
    """What the SPARQL endpoint serves for these named graphs (the union of their triples)."""
    query = CONSTRUCT % " ".join(g.n3() for g in graphs)  # type: ignore[attr-defined]
    response = requests.post(
        live_server.url + "/sparql",
        data={"query": query},
        headers={"Accept": "application/n-triples"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return parse_graph(response.content, "application/n-triples")


def test_harvest_every_distribution(
    live_server: LiveServer, harvested: tuple[rdflib.Graph, rdflib.Graph]
) -> None:
    catalog, void = harvested
    distributions = list(catalog.subjects(RDF.type, DCAT.Distribution))
    assert distributions
    # The canonical hash of the endpoint's graph of each dataset (what rdflib's `isomorphic` compares), computed
    # once: every format of the dataset's dump is compared with it.
    served: dict[rdflib.term.Node, int] = {}
    for dist in distributions:
        dataset = catalog.value(predicate=DCAT.distribution, object=dist)
        url = str(catalog.value(dist, DCAT.downloadURL))
        assert url.startswith(live_server.url + "/"), url
        response = requests.get(url, timeout=60)
        assert response.status_code == 200, url
        body = response.content  # requests undoes a Content-Encoding, as a browser would
        assert len(body) == int(catalog.value(dist, DCAT.byteSize)), url
        checksum = catalog.value(dist, SPDX.checksum)
        assert catalog.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
        assert hashlib.sha256(body).hexdigest() == str(catalog.value(checksum, SPDX.checksumValue)), url

        media_type = str(catalog.value(dist, DCAT.mediaType)).split("/media-types/", 1)[1]
        if media_type == "application/n-quads":
            quads = parse_quads(body)
            count, graph = len(quads), quads_graph(quads)
            graphs = list(void.objects(dataset, VOID.subset))
            assert {rdflib.URIRef(q.graph_name.value) for q in quads} == set(graphs)
        else:
            graph = parse_graph(body, media_type)
            count, graphs = len(graph), [dataset]
        assert count == int(void.value(dataset, VOID.triples)), url
        if dataset not in served:
            served[dataset] = to_isomorphic(endpoint_graph(live_server, graphs)).internal_hash()
        assert to_isomorphic(graph).internal_hash() == served[dataset], (
            f"{url} is not the graph the endpoint serves"
        )
    assert set(served) == set(catalog.subjects(RDF.type, DCAT.Dataset))


def test_the_endpoint_the_catalogue_names_answers(
    live_server: LiveServer, harvested: tuple[rdflib.Graph, rdflib.Graph]
) -> None:
    catalog, void = harvested
    service = next(catalog.subjects(RDF.type, DCAT.DataService))
    endpoint = str(catalog.value(service, DCAT.endpointURL))
    assert endpoint == live_server.url + "/sparql"
    for dataset in void.subjects(RDF.type, VOID.Dataset):
        assert str(void.value(dataset, VOID.sparqlEndpoint)) == endpoint
    ask = requests.get(
        endpoint,
        params={"query": "ASK { ?s ?p ?o }"},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    assert ask.status_code == 200 and ask.json()["boolean"] is True


def test_conditional_harvest_gets_304(live_server: LiveServer) -> None:
    """A portal re-harvesting with the validators it kept downloads nothing when nothing changed."""
    first = requests.get(live_server.url + "/catalog", headers={"Accept": "text/turtle"}, timeout=30)
    again = requests.get(
        live_server.url + "/catalog",
        headers={"Accept": "text/turtle", "If-None-Match": first.headers["ETag"]},
        timeout=30,
    )
    assert again.status_code == 304
    dated = requests.get(
        live_server.url + "/catalog",
        headers={"Accept": "text/turtle", "If-Modified-Since": first.headers["Last-Modified"]},
        timeout=30,
    )
    assert dated.status_code == 304
