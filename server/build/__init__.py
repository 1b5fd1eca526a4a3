"""The build: load ontology/ and data/ into a new store, validate it, write dumps, catalogue and search index,
and publish it as a release; `cdv synth` writes synthetic documents for tests at scale.

May use: core, engine. Opens the stores it writes (pyoxigraph) itself; never imports the web.
"""
