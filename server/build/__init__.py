"""The build: load ontology/ and data/ into a store, validate it, write the dumps, catalogue and VoID files.

May use: engine, core; never the web, Flask or gunicorn. `pipeline.build` publishes a release only when the
data conforms to the shapes (`validate`, `validate_pool`, `cross_document`); `dumps` writes the files the
catalogue describes; `synth*` make synthetic documents for the scale tests.
"""
