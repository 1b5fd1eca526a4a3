"""The pure core: vocabulary, settings, domain errors, content negotiation, query inspection and rewriting,
description and label shaping, the DCAT and VoID model, the named-query library.

May use: nothing else of server/. No Flask, no HTTP status, no store: RDF terms come from `core.rdf`, queries
run through the `core.backend.Backend` an engine passes in. Files it reads are its own inputs (queries/*.rq,
the ontology's labels), never a store.
"""
