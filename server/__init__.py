"""cdv-graph: the knowledge graph of France's contrats de ville, served as linked open data.

The parts, from the top: cli (the command line) → web (the Flask service) → build and extract (making the
graph) → engine (the one place that opens a store and runs queries) → core (pure: vocabulary, negotiation,
query inspection, description shaping, the DCAT model, the named-query library). See docs/architecture.md.
Importing this package loads nothing.
"""

__version__ = "0.1.0"
