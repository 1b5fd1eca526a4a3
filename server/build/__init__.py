"""The build: load ontology/ and data/ into a store, validate, and publish a release atomically.

`pipeline.build(settings)` checks each document against the shapes (validate.py, in parallel by
validate_pool.py), loads every document in its named graph, checks the rules across documents
(cross_document.py), writes the dumps, the catalogue and VoID (dumps.py), carries the cited source texts,
and publishes the release. synth*.py write fictitious, shape-valid documents for the benchmarks.

May use: engine, core. Opens the stores it writes (pyoxigraph) itself; never imports the web.
"""
